// The JS side of the copy's row encoding (LOB values) and of the warning rule: what a server would
// mis-read if one byte were escaped wrongly, and which warnings count as proven harmless.
import { describe, expect, it } from 'vitest';
import { encodeLong, pieceEnd, rowRead } from '../../shared/initial-load/values.js';
import { fieldsOf, unprovenWarnings } from '../../shared/initial-load/warnings.js';

const ALL = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('LOB values', () => {
  it('writes binary data as hex and NULL as \\N / NULL', () => {
    expect(Buffer.concat(encodeLong(ALL, true, 'load')).toString()).toBe(ALL.toString('hex'));
    expect(Buffer.concat(encodeLong(ALL, true, 'insert')).toString()).toBe(`X'${ALL.toString('hex')}'`);
    expect(Buffer.concat(encodeLong(null, true, 'load')).toString()).toBe('\\N');
    expect(Buffer.concat(encodeLong(null, false, 'insert')).toString()).toBe('NULL');
    expect(Buffer.concat(encodeLong(Buffer.alloc(0), false, 'insert')).toString()).toBe("''");
  });

  it('escapes exactly the bytes LOAD DATA and an SQL string give a meaning to', () => {
    const text = Buffer.from("a\\b\tc\nd\0e'f\x1ag\r€");
    expect(Buffer.concat(encodeLong(text, false, 'load')).toString()).toBe("a\\\\b\\tc\\nd\\0e'f\x1ag\r€");
    expect(Buffer.concat(encodeLong(text, false, 'insert')).toString()).toBe("'a\\\\b\tc\nd\\0e\\'f\\Zg\r€'");
    // A value with nothing to escape is passed on as it is (no copy).
    const plain = Buffer.from('{"a": 1}');
    expect(encodeLong(plain, false, 'load')[0]).toBe(plain);
  });

  it('reads LOB columns raw and renders the rest in the server, in column order', () => {
    const read = rowRead(
      [
        { name: 'id', dataType: 'int' },
        { name: 'doc', dataType: 'json', charset: 'utf8mb4' },
        { name: 'b', dataType: 'longblob' },
        { name: 'v', dataType: 'varchar', charset: 'latin1' },
      ],
      'load',
    );
    const shown = read.fields.map((f) => (f.kind === 'long' ? f.column : f.kind === 'literal' ? JSON.stringify(f.bytes.toString()) : f.columns.join('+')));
    // The tab between two LOB values is added by the copy, not read.
    expect(shown).toEqual(['id', 'doc', '"\\t"', 'b', 'v']);
    expect(read.select).toContain("'\\t'), CONVERT(`doc` USING utf8mb4), `b`, CONCAT('\\t', IF(`v` IS NULL");
    // No IFNULL: an overflowing rendering must stay NULL, never become the NULL marker.
    expect(read.select).not.toContain('IFNULL');
  });

  it('renders NOT NULL columns without the NULL test, ENUM/SET with plain members without the escapes', () => {
    const select = (columns: Parameters<typeof rowRead>[0], format: 'load' | 'insert' = 'load') => rowRead(columns, format).select;
    expect(select([{ name: 'n', dataType: 'int', notNull: true }])).toBe('CONCAT(`n`)');
    expect(select([{ name: 'n', dataType: 'int' }])).toBe("CONCAT(IF(`n` IS NULL, '\\\\N', `n`))");
    expect(select([{ name: 'f', dataType: 'float', notNull: true }])).toBe('CONCAT(`f` + 0e0)');
    expect(select([{ name: 'b', dataType: 'varbinary', notNull: true }])).toBe('CONCAT(HEX(`b`))');
    expect(select([{ name: 't', dataType: 'datetime', notNull: true }])).toBe('CONCAT(CONVERT(`t` USING utf8mb4))');
    expect(select([{ name: 'b', dataType: 'bit', notNull: true }], 'insert')).toBe("CONCAT('(', `b` + 0, ')')");
    // An ENUM whose members hold nothing LOAD DATA escapes: its value as it is (NULL still tested).
    expect(select([{ name: 'e', dataType: 'enum', plainMembers: true, notNull: true }])).toBe('CONCAT(CONVERT(`e` USING utf8mb4))');
    expect(select([{ name: 's', dataType: 'set', plainMembers: true }])).toBe("CONCAT(IF(`s` IS NULL, '\\\\N', CONVERT(`s` USING utf8mb4)))");
    // One that may (or a plan stored before the field existed): escaped as any text.
    expect(select([{ name: 'e', dataType: 'enum', notNull: true }])).toContain('REPLACE(');
    // plainMembers means nothing for other text: a VARCHAR is always escaped.
    expect(select([{ name: 'v', dataType: 'varchar', plainMembers: true, notNull: true }])).toContain('REPLACE(');
    // INSERT tuples quote every text, NOT NULL or not.
    expect(select([{ name: 'e', dataType: 'enum', plainMembers: true, notNull: true }], 'insert')).toContain('QUOTE(');
  });

  it('cuts text pieces only between UTF-8 characters', () => {
    const text = Buffer.from('€€€'); // 3 bytes each
    expect(pieceEnd(text, 0, 4, true)).toBe(3);
    expect(pieceEnd(text, 3, 5, true)).toBe(6);
    expect(pieceEnd(text, 0, 4, false)).toBe(4);
  });
});

describe('warnings proven harmless', () => {
  const columns = [
    { name: 'id', dataType: 'int' },
    { name: 'e', dataType: 'enum' },
    { name: 's', dataType: 'varchar' },
  ];
  const truncated = (column: string, row: number) => ({ level: 'Warning', code: 1265, message: `Data truncated for column '${column}' at row ${row}` });

  it("only an ENUM loaded with '' (its error value) in the row the warning names", () => {
    const load = [Buffer.from('1\ta\tx'), Buffer.from('2\t\tx')];
    expect(unprovenWarnings([truncated('e', 2)], 1, load, columns, 'load')).toEqual([]);
    expect(unprovenWarnings([truncated('e', 1)], 1, load, columns, 'load')).toHaveLength(1);
    expect(unprovenWarnings([truncated('s', 2)], 1, load, columns, 'load')).toHaveLength(1);
    const insert = [Buffer.from("(1,'a','x,\\'y')"), Buffer.from("(2,'','x')")];
    expect(unprovenWarnings([truncated('e', 2)], 1, insert, columns, 'insert')).toEqual([]);
    expect(unprovenWarnings([truncated('e', 1)], 1, insert, columns, 'insert')).toHaveLength(1);
  });

  it('never a warning of another kind, nor more warnings than the server listed', () => {
    const load = [Buffer.from('2\t\tx')];
    expect(unprovenWarnings([{ level: 'Warning', code: 1366, message: 'Incorrect string value' }], 1, load, columns, 'load')).toHaveLength(1);
    expect(unprovenWarnings([truncated('e', 1)], 2, load, columns, 'load')).toHaveLength(1);
  });

  it('splits quoted INSERT tuples at their top-level commas only', () => {
    expect(fieldsOf(Buffer.from("(1,'a,b','c\\',d',NULL,X'00')"), 'insert')).toEqual(['1', "'a,b'", "'c\\',d'", 'NULL', "X'00'"]);
  });
});
