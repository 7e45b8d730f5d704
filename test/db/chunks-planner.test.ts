// The shared chunk planner on a real MariaDB: which key a table is walked by (and why a table has
// none), key values that survive the round trip exactly (negative and unsigned-max BIGINT, DECIMAL,
// case-insensitive VARCHAR, VARBINARY with NUL bytes, ENUM by index, DATETIME(6), composite keys),
// and ranges and sub-chunks that together hold every row exactly once, in key order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMariaDb, type MariaDbServer } from '../../local/mariadb.js';
import type { Conn } from '../../shared/mysql/connection.js';
import { openConnection } from '../../shared/mysql/connection.js';
import { describeSchemaTables, describeTable, sameWalk, type WalkKey } from '../../shared/chunks/keys.js';
import { displayTuple, keySelectList, tupleFromRow, type KeyTuple } from '../../shared/chunks/key-values.js';
import { forceIndex, orderByKey, rangeWhere, type KeyRange } from '../../shared/chunks/range-sql.js';
import { nextUpperBound, planRanges, SubChunkSizer, tableSql } from '../../shared/chunks/planner.js';
import { SubChunkBounds } from '../../shared/chunks/sub-chunks.js';

let server: MariaDbServer;
let conn: Conn;

const TABLES = `
  CREATE DATABASE kt;
  CREATE TABLE kt.ints (id BIGINT NOT NULL PRIMARY KEY, v INT) ENGINE=InnoDB;
  CREATE TABLE kt.uints (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, v INT) ENGINE=InnoDB;
  CREATE TABLE kt.composite (a INT NOT NULL, b VARCHAR(20) NOT NULL, c INT, PRIMARY KEY (a, b)) ENGINE=InnoDB;
  CREATE TABLE kt.ci (name VARCHAR(40) COLLATE utf8mb4_general_ci NOT NULL PRIMARY KEY, v INT) ENGINE=InnoDB;
  CREATE TABLE kt.latin (name VARCHAR(40) CHARACTER SET latin1 COLLATE latin1_german1_ci NOT NULL PRIMARY KEY, v INT) ENGINE=InnoDB;
  CREATE TABLE kt.bin (k VARBINARY(16) NOT NULL PRIMARY KEY, v INT) ENGINE=InnoDB;
  CREATE TABLE kt.en (e ENUM('zeta','alpha','mid') NOT NULL, n INT NOT NULL, PRIMARY KEY (e, n)) ENGINE=InnoDB;
  CREATE TABLE kt.dec (d DECIMAL(30,10) NOT NULL PRIMARY KEY) ENGINE=InnoDB;
  CREATE TABLE kt.dt (t DATETIME(6) NOT NULL PRIMARY KEY) ENGINE=InnoDB;
  CREATE TABLE kt.uk (x INT, code CHAR(8) NOT NULL, region SMALLINT NOT NULL, long_code VARCHAR(200) NOT NULL,
                      UNIQUE KEY by_long (long_code), UNIQUE KEY by_code (region, code)) ENGINE=InnoDB;
  CREATE TABLE kt.nullable_uk (x INT, email VARCHAR(50) NULL, UNIQUE KEY (email)) ENGINE=InnoDB;
  CREATE TABLE kt.keyless (x INT, y VARCHAR(5)) ENGINE=InnoDB;
  CREATE TABLE kt.myisam (id INT PRIMARY KEY) ENGINE=MyISAM;
  CREATE TABLE kt.prefix (body VARCHAR(300) NOT NULL, PRIMARY KEY (body(10))) ENGINE=InnoDB;
  CREATE TABLE kt.float_pk (f DOUBLE NOT NULL PRIMARY KEY) ENGINE=InnoDB;
`;

beforeAll(async () => {
  server = await startMariaDb({ serverId: 61 });
  const admin = await server.connect();
  for (const statement of TABLES.split(';').map((x) => x.trim()).filter(Boolean)) await admin.query(statement);
  await admin.query('USE kt'); // the seq_1_to_N sequence tables live in every schema
  await admin.query('INSERT INTO kt.ints SELECT CAST(seq AS SIGNED) - 5000, seq FROM seq_1_to_10000');
  await admin.query("INSERT INTO kt.ints VALUES (-9223372036854775808, 0), (9223372036854775807, 0)");
  await admin.query('INSERT INTO kt.uints SELECT seq, seq FROM seq_1_to_3000');
  await admin.query('INSERT INTO kt.uints VALUES (18446744073709551615, 0), (18446744073709551614, 0), (0, 0)');
  await admin.query("INSERT INTO kt.composite SELECT seq DIV 10, CONCAT('b', seq MOD 10, REPEAT('x', seq MOD 3)), seq FROM seq_1_to_2000");
  await admin.query("INSERT INTO kt.ci SELECT CONCAT(IF(seq MOD 2, 'Name', 'name'), seq, IF(seq MOD 7 = 0, 'ü', '')), seq FROM seq_1_to_1500");
  await admin.query("INSERT INTO kt.latin SELECT CONCAT('Åke', seq), seq FROM seq_1_to_500");
  await admin.query("INSERT INTO kt.bin SELECT CONCAT(UNHEX(LPAD(HEX(seq), 4, '0')), IF(seq MOD 3 = 0, 0x00, 0xff)), seq FROM seq_1_to_1000");
  await admin.query("INSERT INTO kt.bin VALUES (X'', 0), (0x00, 0), (0x0000, 0)");
  await admin.query("INSERT INTO kt.en SELECT ELT(1 + seq MOD 3, 'zeta', 'alpha', 'mid'), seq FROM seq_1_to_900");
  await admin.query('INSERT INTO kt.dec SELECT CAST(seq AS SIGNED) / 7 - 50 FROM seq_1_to_700');
  await admin.query("INSERT INTO kt.dt SELECT '2024-01-01 00:00:00' + INTERVAL seq * 1234567 MICROSECOND FROM seq_1_to_800");
  await admin.query("INSERT INTO kt.uk SELECT seq, LPAD(seq, 8, '0'), seq MOD 4, CONCAT('long-', seq) FROM seq_1_to_600");
  await admin.query('ANALYZE TABLE kt.ints, kt.uints, kt.composite, kt.ci, kt.latin, kt.bin, kt.en, kt.dec, kt.dt, kt.uk');
  await admin.end();
  conn = await openConnection({ host: server.host, port: server.port }, server.admin);
  await conn.query("SET SESSION time_zone = '+00:00'");
}, 120_000);

afterAll(async () => {
  await conn?.end();
  await server?.stop();
});

async function keyOf(name: string): Promise<WalkKey> {
  const facts = await describeTable(conn, { schema: 'kt', name });
  if (!facts?.choice.usable) throw new Error(`${name}: ${JSON.stringify(facts?.choice)}`);
  return facts.choice.key;
}

async function allKeys(name: string, key: WalkKey): Promise<KeyTuple[]> {
  const [rows] = await conn.query(`SELECT ${keySelectList(key)} FROM kt.${name} ${forceIndex(key)} ORDER BY ${orderByKey(key)}`);
  return (rows as Record<string, unknown>[]).map((r) => tupleFromRow(key, r));
}

async function keysIn(name: string, key: WalkKey, range: KeyRange): Promise<KeyTuple[]> {
  const [rows] = await conn.query(`SELECT ${keySelectList(key)} FROM kt.${name} ${forceIndex(key)} WHERE ${rangeWhere(key, range)} ORDER BY ${orderByKey(key)}`);
  return (rows as Record<string, unknown>[]).map((r) => tupleFromRow(key, r));
}

/** Walks a range in sub-chunks of `rows` the way a worker does; returns the keys seen, in order. */
async function walk(name: string, key: WalkKey, range: KeyRange, rows: number): Promise<{ seen: KeyTuple[]; subChunks: number }> {
  const seen: KeyTuple[] = [];
  let from = range.lo;
  let subChunks = 0;
  for (;;) {
    const hi = await nextUpperBound(conn, { schema: 'kt', name }, key, { lo: from, hi: range.hi }, rows);
    const part = await keysIn(name, key, { lo: from, hi: hi ?? range.hi });
    expect(part.length, `sub-chunk ${subChunks} of ${name}`).toBeLessThanOrEqual(rows);
    seen.push(...part);
    subChunks++;
    if (!hi) return { seen, subChunks };
    from = hi;
  }
}

describe('walk key choice', () => {
  it('takes the PRIMARY key, else the shortest unique NOT NULL key, and says why a table has none', async () => {
    const facts = new Map((await describeSchemaTables(conn, 'kt')).map((f) => [f.table.name, f]));
    const chosen = (n: string) => facts.get(n)!.choice;
    expect(chosen('composite')).toMatchObject({ usable: true, key: { index: 'PRIMARY', integerLeading: true, columns: [{ name: 'a', kind: 'int' }, { name: 'b', kind: 'str' }] } });
    expect(chosen('uk')).toMatchObject({ usable: true, key: { index: 'by_long' } });
    expect(chosen('ci')).toMatchObject({ usable: true, key: { integerLeading: false, columns: [{ kind: 'str', collation: 'utf8mb4_general_ci' }] } });
    expect(chosen('en')).toMatchObject({ usable: true, key: { columns: [{ kind: 'enum' }, { kind: 'int' }] } });
    expect(chosen('nullable_uk')).toMatchObject({ usable: false, reason: 'nullable-unique-only' });
    expect(chosen('keyless')).toMatchObject({ usable: false, reason: 'no-key' });
    expect(chosen('myisam')).toMatchObject({ usable: false, reason: 'not-transactional' });
    expect(chosen('prefix')).toMatchObject({ usable: false, reason: 'unsupported-key' });
    expect((chosen('prefix') as { detail: string }).detail).toContain('prefix');
    expect(chosen('float_pk')).toMatchObject({ usable: false, reason: 'unsupported-key' });
    expect(facts.get('ints')!.estimatedRows).toBeGreaterThan(5000);
  });

  it('prefers fewer key columns: the two-column unique key loses to the one-column one', async () => {
    const key = await keyOf('uk');
    expect(key.columns.map((c) => c.name)).toEqual(['long_code']);
  });

  it('compares the walks of two sides: other columns or another collation are named', async () => {
    const ci = await keyOf('ci');
    expect(sameWalk(ci, ci)).toEqual({ same: true });
    const otherCollation = { ...ci, columns: [{ ...ci.columns[0]!, collation: 'utf8mb4_bin' }] };
    expect(sameWalk(ci, otherCollation)).toMatchObject({ same: false, reason: 'collation-differs' });
    expect(sameWalk(ci, await keyOf('composite'))).toMatchObject({ same: false, reason: 'key-differs' });
  });
});

describe('key values', () => {
  it.each(['ints', 'uints', 'composite', 'ci', 'latin', 'bin', 'en', 'dec', 'dt'])('%s: every key read and bound back selects exactly its own row', async (name) => {
    const key = await keyOf(name);
    const keys = await allKeys(name, key);
    const sample = keys.filter((_, i) => i % Math.max(1, Math.floor(keys.length / 40)) === 0).concat([keys[0]!, keys.at(-1)!]);
    for (const k of sample) {
      const [[row]] = (await conn.query(`SELECT COUNT(*) AS n FROM kt.${name} WHERE ${rangeWhere(key, { lo: k, hi: null })} AND NOT (${rangeWhere(key, { lo: null, hi: k })})`)) as any;
      expect(Number(row.n)).toBe(keys.length - keys.indexOf(k));
      const exact = await keysIn(name, key, { lo: k, hi: null });
      expect(exact[0]).toEqual(k);
    }
  });

  it('keeps the extremes exact: BIGINT min/max, BIGINT UNSIGNED max, empty and NUL-only VARBINARY', async () => {
    const ints = await allKeys('ints', await keyOf('ints'));
    expect(ints[0]).toEqual(['-9223372036854775808']);
    expect(ints.at(-1)).toEqual(['9223372036854775807']);
    const uints = await allKeys('uints', await keyOf('uints'));
    expect(uints.at(-1)).toEqual(['18446744073709551615']);
    const bin = await allKeys('bin', await keyOf('bin'));
    expect(bin.slice(0, 3)).toEqual([[''], ['00'], ['0000']]);
    const en = await allKeys('en', await keyOf('en'));
    expect(en[0]![0]).toBe('1'); // ENUM keys travel as the member's index, in index order ('zeta' first)
  });

  it('names a key for people: text decoded, binary as hex, composite as a tuple', async () => {
    const ci = await keyOf('ci');
    expect(displayTuple(ci, [Buffer.from('Name7ü').toString('hex')])).toBe('name="Name7ü"');
    expect(displayTuple(await keyOf('bin'), ['00ff'])).toBe('k=0x00ff');
    expect(displayTuple(await keyOf('composite'), ['4', Buffer.from('b1').toString('hex')])).toBe('(a, b)=(4, "b1")');
  });
});

describe('ranges and sub-chunks', () => {
  it.each([
    ['ints', 7, 997],
    ['uints', 5, 500],
    ['composite', 6, 77],
    ['ci', 4, 100],
    ['latin', 3, 61],
    ['bin', 5, 64],
    ['en', 4, 50],
    ['dec', 3, 70],
    ['dt', 4, 99],
  ])('%s: %i planned ranges walked in sub-chunks of %i rows cover every row exactly once, in order', async (name, pieces, rows) => {
    const facts = (await describeTable(conn, { schema: 'kt', name }))!;
    const key = (facts.choice as { key: WalkKey }).key;
    const ranges = await planRanges(conn, { schema: 'kt', name }, key, { pieces, estimatedRows: facts.estimatedRows });
    expect(ranges.length).toBeGreaterThan(1);
    expect(ranges[0]!.lo).toBeNull();
    expect(ranges.at(-1)!.hi).toBeNull();
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]!.lo).toEqual(ranges[i - 1]!.hi);
    const all = await allKeys(name, key);
    const seen: KeyTuple[] = [];
    for (const range of ranges) seen.push(...(await walk(name, key, range, rows)).seen);
    expect(seen).toEqual(all);
  });

  it('the open first and last ranges hold rows outside the planned MIN/MAX', async () => {
    const key = await keyOf('uints');
    const ranges = await planRanges(conn, { schema: 'kt', name: 'uints' }, key, { pieces: 3, estimatedRows: 3003 });
    const first = await keysIn('uints', key, ranges[0]!);
    const last = await keysIn('uints', key, ranges.at(-1)!);
    expect(first[0]).toEqual(['0']);
    expect(last.at(-1)).toEqual(['18446744073709551615']);
  });

  it('an empty table is one open range, walked in one empty sub-chunk', async () => {
    const key = await keyOf('float_pk').catch(() => null);
    expect(key).toBeNull(); // not walkable; use an empty walkable table instead
    await conn.query('CREATE TABLE kt.empty (id INT PRIMARY KEY)');
    const empty = await keyOf('empty');
    expect(await planRanges(conn, { schema: 'kt', name: 'empty' }, empty, { pieces: 4, estimatedRows: 0 })).toEqual([{ lo: null, hi: null }]);
    expect(await walk('empty', empty, { lo: null, hi: null }, 10)).toEqual({ seen: [], subChunks: 1 });
  });

  it('the split points of a text key are rows of the table (an index walk), not arithmetic', async () => {
    const key = await keyOf('ci');
    const ranges = await planRanges(conn, { schema: 'kt', name: 'ci' }, key, { pieces: 3, estimatedRows: 1500 });
    const all = (await allKeys('ci', key)).map((k) => k.join());
    for (const r of ranges.slice(1)) expect(all).toContain(r.lo!.join());
    const sizes = await Promise.all(ranges.map(async (r) => (await keysIn('ci', key, r)).length));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1500);
    for (const s of sizes) expect(s).toBeGreaterThan(300);
  });

  it('range SQL uses the key: EXPLAIN shows a range scan on the forced index, never a full scan', async () => {
    const key = await keyOf('composite');
    const [rows] = await conn.query(`EXPLAIN SELECT * FROM ${tableSql({ schema: 'kt', name: 'composite' })} ${forceIndex(key)} WHERE ${rangeWhere(key, { lo: ['50', Buffer.from('b3').toString('hex')], hi: ['60'] })}`);
    expect((rows as { type: string; key: string }[])[0]).toMatchObject({ type: 'range', key: 'PRIMARY' });
  });
});

describe('sub-chunk bounds by arithmetic (single integer key)', () => {
  it.each(['ints', 'uints'])('%s: walked from an open start to an open end with rows far apart, every row once, in order, with few boundary queries', async (name) => {
    const key = await keyOf(name);
    const bounds = new SubChunkBounds({ schema: 'kt', name }, key, { lo: null, hi: null }, [conn]);
    expect(bounds.arithmetic).toBe(true);
    const seen: KeyTuple[] = [];
    let from: KeyTuple | null = null;
    let subChunks = 0;
    for (;;) {
      const hi = await bounds.next(from, 300);
      const part = await keysIn(name, key, { lo: from, hi });
      bounds.observe(from, hi, part.length);
      seen.push(...part);
      subChunks++;
      if (!hi) break;
      from = hi;
    }
    expect(seen).toEqual(await allKeys(name, key));
    expect(subChunks).toBeGreaterThan(5);
  });

  it('a bounded range ends at its own upper bound, never past it', async () => {
    const key = await keyOf('uints');
    const range = { lo: ['100'], hi: ['2100'] };
    const bounds = new SubChunkBounds({ schema: 'kt', name: 'uints' }, key, range, [conn]);
    const seen: KeyTuple[] = [];
    let from: KeyTuple | null = range.lo;
    for (;;) {
      const hi = await bounds.next(from, 170);
      const part = await keysIn('uints', key, { lo: from, hi: hi ?? range.hi });
      bounds.observe(from, hi, part.length);
      seen.push(...part);
      if (!hi) break;
      from = hi;
    }
    expect(seen).toEqual(await keysIn('uints', key, range));
  });

  it('composite and text keys keep the boundary query', async () => {
    expect(new SubChunkBounds({ schema: 'kt', name: 'composite' }, await keyOf('composite'), { lo: null, hi: null }, [conn]).arithmetic).toBe(false);
    expect(new SubChunkBounds({ schema: 'kt', name: 'ci' }, await keyOf('ci'), { lo: null, hi: null }, [conn]).arithmetic).toBe(false);
  });
});

describe('sub-chunk sizing', () => {
  it('starts from bytes within the row bounds and adapts towards the target time', () => {
    const sizer = new SubChunkSizer({ targetBytes: 1_000_000, minRows: 100, maxRows: 20_000, targetSeconds: 0.5 }, 200);
    expect(sizer.rows).toBe(5000);
    for (let i = 0; i < 30; i++) sizer.observe(sizer.rows, (sizer.rows / 10_000) * 1000); // 10,000 rows/s
    expect(sizer.rows).toBeGreaterThan(4500);
    expect(sizer.rows).toBeLessThanOrEqual(5000);
    for (let i = 0; i < 30; i++) sizer.observe(sizer.rows, (sizer.rows / 100_000) * 1000); // 100,000 rows/s
    expect(sizer.rows).toBe(20_000);
    const fixed = new SubChunkSizer({ targetBytes: 10, minRows: 100, maxRows: 500 }, 1000);
    expect(fixed.rows).toBe(100);
    expect(fixed.observe(100, 1)).toBe(100);
  });
});
