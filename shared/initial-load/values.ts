// How a row travels. Columns whose values are bounded (numbers, dates, CHAR/VARCHAR/BINARY, ENUM,
// SET, BIT, TINYTEXT/TINYBLOB: together at most the 64 KB a row may hold outside LOBs) are rendered by
// the SOURCE server as text the target loads directly, so the copy never converts such a value in
// JavaScript (where DECIMAL(65,30), BIGINT UNSIGNED, DATETIME(6), zero dates or BIT would lose
// information), and the rendering runs as C inside the server instead of per-value JS work (measured:
// per-value JS encoding was a third of the copy's CPU on 2 cores).
// LOB columns (BLOB, TEXT, JSON, geometry: up to 4 GB each) are read as their raw bytes and encoded
// here: any server function that renders a value (HEX, QUOTE, REPLACE, CONCAT) returns NULL with
// warning 1301 once its result exceeds the source's max_allowed_packet, which turned a 12 MiB BLOB
// into NULL. Reading a column as it is has no such limit (the server sends rows of any length), and
// Buffer hex encoding and byte scanning are native.
// The rendered parts are built with CONCAT over expressions that map NULL explicitly, so an overflow
// anywhere makes the whole part NULL (never a value silently replaced by \N): rows.ts refuses it.
// Two formats:
//   load   (default) LOAD DATA LOCAL INFILE lines: tab-separated, backslash-escaped, \N for NULL.
//          The target parses this at about half the CPU of INSERT statements (measured 0.95 s vs
//          1.88 s of server CPU for the same 500k rows), and the target is the copy's bottleneck.
//   insert (fallback where LOCAL INFILE is disabled) "(v1,v2,...)" tuples for multi-row INSERTs.
// In both: numbers as the server prints them (FLOAT widened to DOUBLE: a FLOAT prints 6 digits),
// BIT as its unsigned number, binary data as hex, everything else as utf8mb4 text (session in UTC).
import { q } from './connections.js';

export interface ColumnType {
  name: string;
  /** information_schema.COLUMNS.DATA_TYPE */
  dataType: string;
  /** information_schema.COLUMNS.CHARACTER_SET_NAME (null for numbers, dates, binary data) */
  charset?: string | null;
  /** NOT NULL: rendered without the NULL test (a plan stored without this field: tested, as before). */
  notNull?: boolean;
  /** An ENUM or SET none of whose members holds a byte LOAD DATA escapes: rendered without the REPLACEs. */
  plainMembers?: boolean;
}

export type RowFormat = 'load' | 'insert';

type Kind = 'number' | 'float' | 'bit' | 'binary' | 'temporal' | 'text';

const NUMBERS = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'decimal', 'numeric', 'double', 'real', 'year']);
const TEMPORAL = new Set(['date', 'datetime', 'timestamp', 'time']);
const GEOMETRY = ['geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection', 'geomcollection'];
const BINARY = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob', ...GEOMETRY]);
/** Types whose values are not bounded by the 64 KB row limit: read raw, encoded in JS. */
const LONG = new Set(['blob', 'mediumblob', 'longblob', 'text', 'mediumtext', 'longtext', 'json', ...GEOMETRY]);

function kindOf(column: ColumnType): Kind {
  const type = column.dataType.toLowerCase();
  if (type === 'float') return 'float';
  if (type === 'bit') return 'bit';
  if (NUMBERS.has(type)) return 'number';
  if (BINARY.has(type)) return 'binary';
  if (TEMPORAL.has(type)) return 'temporal';
  return 'text';
}

function isLong(column: ColumnType): boolean {
  return LONG.has(column.dataType.toLowerCase());
}

export function isEnum(column: ColumnType): boolean {
  return column.dataType.toLowerCase() === 'enum';
}

// Every expression below yields a non-NULL string for a NULL value, so NULL out of one means overflow.
// A NOT NULL column's value is never NULL, so it is rendered without the test (less work per value in
// the server); a NULL out of it would still make the whole part NULL, which is refused as ever.
function insertValue(column: ColumnType): string {
  const c = q(column.name);
  const orNull = (expr: string) => (column.notNull ? expr : `IF(${c} IS NULL, 'NULL', ${expr})`);
  switch (kindOf(column)) {
    case 'float':
      return orNull(`${c} + 0e0`);
    case 'bit': // HEX() of a BIT is the hex of its number (odd length): write the number itself.
      return orNull(`${c} + 0`);
    case 'number':
      return orNull(c);
    case 'binary':
      return orNull(`CONCAT('X''', HEX(${c}), '''')`);
    default: // QUOTE(NULL) is the word NULL
      return `QUOTE(CONVERT(${c} USING utf8mb4))`;
  }
}

const NULL_FIELD = `'\\\\N'`; // SQL literal '\\N' = the two characters \N

function loadValue(column: ColumnType): string {
  const c = q(column.name);
  const orNull = (expr: string) => (column.notNull ? expr : `IF(${c} IS NULL, ${NULL_FIELD}, ${expr})`);
  switch (kindOf(column)) {
    case 'float':
      return orNull(`${c} + 0e0`);
    case 'bit':
      return orNull(`${c} + 0`);
    case 'number':
      return orNull(c);
    case 'binary':
      return orNull(`HEX(${c})`);
    case 'temporal': // digits, dashes, colons, dots and spaces only: nothing to escape
      return orNull(`CONVERT(${c} USING utf8mb4)`);
    default:
      // An ENUM or SET value is (a list of) its members: when none holds a byte to escape, nothing is escaped.
      if (column.plainMembers && MEMBERED.has(column.dataType.toLowerCase())) return orNull(`CONVERT(${c} USING utf8mb4)`);
      // The escape character, the field and line terminators and NUL must be escaped.
      return orNull(`REPLACE(REPLACE(REPLACE(REPLACE(CONVERT(${c} USING utf8mb4), '\\\\', '\\\\\\\\'), '\\t', '\\\\t'), '\\n', '\\\\n'), '\\0', '\\\\0')`);
  }
}

const MEMBERED = new Set(['enum', 'set']);

/** One field of the SELECT a table is read with. */
export type ReadField =
  /** Text the source rendered (several columns and their separators); NULL only if it overflowed. */
  | { kind: 'rendered'; columns: string[] }
  /** One LOB column as the server stores it (text converted to utf8mb4), encoded by encodeLong(). */
  | { kind: 'long'; column: string; binary: boolean; charset: string | null }
  /** Separators between two LOB columns: not read, added by the copy. */
  | { kind: 'literal'; bytes: Buffer };

export interface RowRead {
  /** The SELECT list: one expression per field that is not a literal, in order. */
  select: string;
  fields: ReadField[];
}

/**
 * How a table's rows are read in the given format: the row is the concatenation of the fields, in
 * column order (rendered runs of bounded columns, with their separators, between raw LOB values).
 */
export function rowRead(columns: ColumnType[], format: RowFormat): RowRead {
  const separator = format === 'load' ? '\t' : ',';
  const exprs: string[] = [];
  const fields: ReadField[] = [];
  // A run of bounded columns and the separators around them; only separators (between two LOB
  // columns) are not worth a SELECT field: they are added here.
  let run: string[] = [];
  let runText = '';
  let runColumns: string[] = [];
  const literal = (text: string) => {
    run.push(`'${text === '\t' ? '\\t' : text}'`);
    runText += text;
  };
  const closeRun = () => {
    if (runColumns.length) {
      exprs.push(`CONCAT(${run.join(', ')})`);
      fields.push({ kind: 'rendered', columns: runColumns });
    } else if (runText) fields.push({ kind: 'literal', bytes: Buffer.from(runText) });
    run = [];
    runText = '';
    runColumns = [];
  };
  if (format === 'insert') literal('(');
  columns.forEach((column, i) => {
    if (i > 0) literal(separator);
    if (isLong(column)) {
      closeRun();
      const binary = kindOf(column) === 'binary';
      exprs.push(binary ? q(column.name) : `CONVERT(${q(column.name)} USING utf8mb4)`);
      fields.push({ kind: 'long', column: column.name, binary, charset: binary ? null : (column.charset ?? 'utf8mb4') });
    } else {
      run.push(format === 'load' ? loadValue(column) : insertValue(column));
      runColumns.push(column.name);
    }
  });
  if (format === 'insert') literal(')');
  closeRun();
  return { select: exprs.join(', '), fields };
}

const BACKSLASH = 0x5c;

/** byte -> the letter written after a backslash for it (0: written as it is). */
function escapeTable(pairs: [number, string][]): Uint8Array {
  const table = new Uint8Array(256);
  for (const [byte, letter] of pairs) table[byte] = letter.charCodeAt(0);
  return table;
}
const LOAD_ESCAPES = escapeTable([[0x5c, '\\'], [0x09, 't'], [0x0a, 'n'], [0x00, '0']]);
const SQL_ESCAPES = escapeTable([[0x5c, '\\'], [0x27, "'"], [0x00, '0'], [0x1a, 'Z']]); // as QUOTE()

/** The bytes, each byte the table names written as a backslash and its letter. */
function escaped(value: Buffer, table: Uint8Array): Buffer {
  let extra = 0;
  for (let i = 0; i < value.length; i++) if (table[value[i]!]) extra++;
  if (!extra) return value;
  const out = Buffer.allocUnsafe(value.length + extra);
  let at = 0;
  for (let i = 0; i < value.length; i++) {
    const byte = value[i]!;
    const letter = table[byte]!;
    if (!letter) out[at++] = byte;
    else {
      out[at++] = BACKSLASH;
      out[at++] = letter;
    }
  }
  return out;
}

const LOAD_NULL = Buffer.from('\\N');
const SQL_NULL = Buffer.from('NULL');
const QUOTE = Buffer.from("'");
const HEX_OPEN = Buffer.from("X'");

const hex = (value: Buffer) => Buffer.from(value.toString('hex'), 'latin1');

/** A LOB value as the format writes it: hex for binary data, escaped utf8mb4 for text. */
export function encodeLong(value: Buffer | null, binary: boolean, format: RowFormat): Buffer[] {
  if (format === 'load') {
    if (value === null) return [LOAD_NULL];
    return [binary ? hex(value) : escaped(value, LOAD_ESCAPES)];
  }
  if (value === null) return [SQL_NULL];
  return binary ? [HEX_OPEN, hex(value), QUOTE] : [QUOTE, escaped(value, SQL_ESCAPES), QUOTE];
}

/**
 * The LOAD DATA statement for rows read with rowRead(columns, 'load'). Binary columns arrive as hex
 * and BIT columns as numbers (LOAD DATA would store the digits' bytes), so both go through a variable
 * and a SET.
 */
export function loadStatement(schema: string, table: string, columns: ColumnType[]): string {
  const converted = columns.some((c) => kindOf(c) === 'binary' || kindOf(c) === 'bit');
  const targets: string[] = [];
  const sets: string[] = [];
  columns.forEach((column, i) => {
    const kind = kindOf(column);
    if (!converted) targets.push(q(column.name));
    else {
      // Once a SET clause exists MariaDB 10.11 ignores NO_AUTO_VALUE_ON_ZERO for columns loaded
      // directly (an AUTO_INCREMENT 0 became a new id; a test caught it): every column goes through
      // a variable then.
      targets.push(`@v${i}`);
      const value = kind === 'binary' ? `UNHEX(@v${i})` : kind === 'bit' ? `CAST(@v${i} AS UNSIGNED)` : `@v${i}`;
      sets.push(`${q(column.name)} = ${value}`);
    }
  });
  return (
    `LOAD DATA LOCAL INFILE 'crossmove-rows' INTO TABLE ${q(schema)}.${q(table)} CHARACTER SET utf8mb4 ` +
    `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${targets.join(', ')})` +
    (sets.length ? ` SET ${sets.join(', ')}` : '')
  );
}

/**
 * A piece of a long value for an INSERT that would not fit in one packet, as SQL: the value is
 * assembled piece by piece in a session variable. Text arrives as utf8mb4 and each piece is stored in
 * the column's own character set, so the variable is never longer than the column's value (a latin1
 * text of 16 MB is 24 MB as utf8mb4, more than a 16 MB max_allowed_packet lets CONCAT build).
 */
export function pieceLiteral(piece: Buffer, charset: string | null): string {
  const hexed = `X'${piece.toString('hex')}'`;
  if (charset === null) return hexed;
  if (!/^\w+$/.test(charset)) throw new Error(`unexpected character set name ${charset}`);
  return `CONVERT(CONVERT(${hexed} USING utf8mb4) USING ${charset})`;
}

/** Where a long text value may be cut into pieces: never inside a UTF-8 character. */
export function pieceEnd(value: Buffer, from: number, size: number, text: boolean): number {
  let end = Math.min(value.length, from + size);
  if (text) while (end < value.length && end > from && (value[end]! & 0xc0) === 0x80) end--;
  return end;
}
