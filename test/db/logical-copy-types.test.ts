// The logical copy against two real MariaDB servers: every tricky type survives value by value, every
// kind of object is created, and the copy is idempotent and refuses to overwrite what is not its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowDataPacket } from 'mysql2/promise';
import { startMariaDb, type MariaDbServer } from '../../local/mariadb.js';
import { logicalCopy, type CopyProgress } from '../../shared/initial-load/index.js';
import { ResourceConflictError } from '../../shared/errors.js';

let source: MariaDbServer;
let target: MariaDbServer;

const side = (s: MariaDbServer) => ({ endpoint: { host: s.host, port: s.port }, credentials: s.admin });

const TYPES_DDL = `
CREATE TABLE tricky (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  dec_big DECIMAL(65,30) NULL,
  dec_money DECIMAL(13,4) NULL,
  u_big BIGINT UNSIGNED NULL,
  s_big BIGINT NULL,
  tiny TINYINT NULL,
  f FLOAT NULL,
  d DOUBLE NULL,
  doc JSON NULL,
  blob_all LONGBLOB NULL,
  vbin VARBINARY(16) NULL,
  bin4 BINARY(4) NULL,
  txt_mb4 TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  txt_latin1 VARCHAR(50) CHARACTER SET latin1 NULL,
  dt6 DATETIME(6) NULL,
  ts6 TIMESTAMP(6) NULL DEFAULT NULL,
  dt_zero DATETIME NULL,
  d_only DATE NULL,
  t3 TIME(3) NULL,
  y YEAR NULL,
  bit1 BIT(1) NULL,
  bit64 BIT(64) NULL,
  e ENUM('small','medium','large') NULL,
  st SET('red','green','blue') NULL,
  g_virtual INT AS (tiny * 2) VIRTUAL,
  g_stored VARCHAR(80) AS (CONCAT('x', COALESCE(txt_mb4, ''))) STORED
) ENGINE=InnoDB`;

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

async function fillSource(): Promise<void> {
  const c = await source.connect();
  await c.query('CREATE DATABASE shop');
  await c.query('USE shop');
  await c.query("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'"); // allows the zero date below
  await c.query(TYPES_DDL);
  // TIMESTAMP values are written from a non-UTC session: the instant must survive, whatever the zone.
  await c.query("SET SESSION time_zone = '+05:30'");
  await c.query(
    `INSERT INTO tricky (dec_big, dec_money, u_big, s_big, tiny, f, d, doc, blob_all, vbin, bin4, txt_mb4, txt_latin1,
       dt6, ts6, dt_zero, d_only, t3, y, bit1, bit64, e, st) VALUES
     ('12345678901234567890123456789012345.123456789012345678901234567890', '-99999.9999', 18446744073709551615,
      -9223372036854775808, -128, 3.4028235e38, 0.1, '{"emoji":"🚀","n":12345678901234567890,"nested":{"a":[1,2.50,null]}}',
      ?, X'00000000', X'00010000', 'héllo 🌍 "quoted" \\'single\\' back\\\\slash tab\\t nul\\0 ctrlz\\Z', 'café',
      '2026-03-29 02:30:00.123456', '2038-01-19 03:14:07.999999', '0000-00-00 00:00:00', '1000-01-01', '-838:59:59.000', 2155,
      b'1', b'1111111111111111111111111111111111111111111111111111111111111111', 'large', 'red,blue'),
     (NULL, 0, 0, 0, 0, -0.000001, 1.7976931348623157e308, '[]', '', '', X'00000000', '', '', '1970-01-01 00:00:00.000001',
      '1970-01-01 05:30:01.000000', NULL, '9999-12-31', '00:00:00.001', 1901, b'0', b'0', 'small', ''),
     (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
      NULL, NULL, NULL, NULL)`,
    [ALL_BYTES],
  );
  await c.query("SET SESSION time_zone = '+00:00'");
  // 0 in an AUTO_INCREMENT column must stay 0 (NO_AUTO_VALUE_ON_ZERO on the target).
  await c.query("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'");
  await c.query("INSERT INTO tricky (id, txt_mb4) VALUES (0, 'zero id')");
  // NOT NULL columns of each kind are rendered without the NULL test, ENUM/SET whose members hold
  // nothing LOAD DATA escapes without the escapes: members that do must still be escaped.
  await c.query("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'");
  await c.query(`CREATE TABLE not_null (id INT NOT NULL PRIMARY KEY, dec_nn DECIMAL(65,30) NOT NULL, u_big BIGINT UNSIGNED NOT NULL,
      f FLOAT NOT NULL, vbin VARBINARY(8) NOT NULL, dt6 DATETIME(6) NOT NULL, dt_zero DATETIME NOT NULL, bits BIT(64) NOT NULL,
      txt VARCHAR(40) NOT NULL, e_plain ENUM('a','b c') NOT NULL, e_odd ENUM('tab\there','back\\\\slash','new\nline','plain') NOT NULL,
      e_odd_null ENUM('x\ty','z') NULL, s_odd SET('a\\\\b','c') NOT NULL, s_plain SET('red','blue') NULL, doc JSON NOT NULL) ENGINE=InnoDB`);
  await c.query(`INSERT INTO not_null VALUES
      (1, '-12345678901234567890123456789012345.123456789012345678901234567890', 18446744073709551615, 3.4028235e38, X'00090A5C',
       '2026-03-29 02:30:00.123456', '0000-00-00 00:00:00', b'1111111111111111111111111111111111111111111111111111111111111111',
       'tab\tnew\nback\\\\slash', 'b c', 'tab\there', 'x\ty', 'a\\\\b,c', 'red,blue', '{"k": "v\\\\tw"}'),
      (2, 0, 0, -0.000001, '', '1000-01-01 00:00:00.000000', '2026-01-01', b'0', '', 'a', 'back\\\\slash', NULL, '', NULL, '[]'),
      (3, 1, 1, 1, X'FF', '9999-12-31 23:59:59.999999', '2026-01-01', b'1', 'x', 'a', 'new\nline', 'z', 'a\\\\b', '', '{}'),
      (4, 1, 1, 1, X'FF', '9999-12-31 23:59:59.999999', '2026-01-01', b'1', 'x', 'a', 'plain', 'z', 'c', 'blue', 'null')`);
  await c.query(`CREATE TABLE no_pk (a INT, b VARCHAR(20), c DECIMAL(5,2)) ENGINE=InnoDB`);
  await c.query(`INSERT INTO no_pk VALUES (1,'dup',1.10),(1,'dup',1.10),(NULL,NULL,NULL),(2,'two',-0.01)`);
  await c.query(`CREATE TABLE customers (code VARCHAR(10) PRIMARY KEY, name VARCHAR(50) NOT NULL) ENGINE=InnoDB`);
  await c.query(`CREATE TABLE orders (customer VARCHAR(10) NOT NULL, seq INT NOT NULL, total DECIMAL(10,2),
                   PRIMARY KEY (customer, seq), CONSTRAINT fk_c FOREIGN KEY (customer) REFERENCES customers(code)) ENGINE=InnoDB`);
  await c.query(`INSERT INTO customers VALUES ('c1','Ada'),('c2','Grace 👩‍💻')`);
  await c.query(`INSERT INTO orders VALUES ('c1',1,10.50),('c1',2,0.01),('c2',1,99999999.99)`);
  await c.query(`CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(50)) ENGINE=InnoDB`);
  await c.query(`CREATE VIEW v_totals AS SELECT customer, SUM(total) AS total FROM orders GROUP BY customer`);
  await c.query(`CREATE VIEW v_top AS SELECT customer FROM v_totals WHERE total > 100`);
  await c.query(`CREATE PROCEDURE add_order(IN c VARCHAR(10), IN s INT) BEGIN INSERT INTO orders VALUES (c, s, 1.00); END`);
  await c.query(`CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2`);
  await c.query(`CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW INSERT INTO audit (what) VALUES (CONCAT('order ', NEW.customer))`);
  await c.query(`CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DO DELETE FROM audit WHERE id < 0`);
  // A big integer-keyed table, so the copy really splits it into ranges.
  await c.query(`CREATE TABLE big (id BIGINT UNSIGNED PRIMARY KEY, payload VARCHAR(40)) ENGINE=InnoDB`);
  await c.query(`INSERT INTO big SELECT seq, CONCAT('row-', seq) FROM seq_1_to_5000`);
  await c.query('ANALYZE TABLE big');
  // Rows of 1 MB (2 MB as hex): batches must stay under the target's max_allowed_packet.
  await c.query('CREATE TABLE blobs (id INT PRIMARY KEY, b LONGBLOB NOT NULL) ENGINE=InnoDB');
  for (let i = 1; i <= 24; i++) await c.query('INSERT INTO blobs VALUES (?, ?)', [i, Buffer.alloc(1024 * 1024, i)]);
  await c.query('ANALYZE TABLE blobs');
  await c.query('CREATE DATABASE other');
  await c.query('CREATE TABLE other.t (id INT PRIMARY KEY, v VARCHAR(5))');
  await c.query("INSERT INTO other.t VALUES (1, 'x')");
  await c.end();
}

async function rawRows(server: MariaDbServer, sql: string, zone = '+00:00'): Promise<unknown[]> {
  const c = await server.connect();
  await c.query(`SET SESSION time_zone = '${zone}'`);
  const [rows] = await c.query({ sql, rowsAsArray: true, typeCast: false } as any);
  await c.end();
  return rows as unknown[];
}

beforeAll(async () => {
  [source, target] = await Promise.all([startMariaDb({ serverId: 11 }), startMariaDb({ serverId: 12 })]);
  await fillSource();
});
afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
});

describe('logical copy: types, objects, idempotency', () => {
  let events: CopyProgress[] = [];
  let first: Awaited<ReturnType<typeof logicalCopy>>;

  beforeAll(async () => {
    first = await logicalCopy({
      migrationId: 'types-test',
      source: side(source),
      target: side(target),
      parallelism: 3,
      chunkRows: 1000,
      onProgress: (p) => events.push(p),
    });
  });

  it('returns the binlog position, table, row and byte counts', async () => {
    const c = await source.connect();
    const [status] = await c.query<RowDataPacket[]>('SHOW MASTER STATUS');
    await c.end();
    expect(first.position.file).toBe(status[0]!.File);
    expect(first.position.position).toBe(Number(status[0]!.Position));
    expect(first.tables).toBe(9); // tricky, not_null, no_pk, customers, orders, audit, big, blobs, other.t
    expect(first.rows).toBe(4 + 4 + 4 + 2 + 3 + 0 + 5000 + 24 + 1);
    expect(first.bytes).toBeGreaterThan(5000 * 10);
    expect(first.reused).toBe(false);
    expect(first.snapshotMethod).toBe('global-read-lock');
    expect(first.binlogSkippedOnTarget).toBe(true);
    expect(first.format).toBe('load'); // MariaDB allows LOAD DATA LOCAL by default
  });

  it('keeps every value of every tricky type byte for byte (UTC and another time zone)', async () => {
    const sql = 'SELECT *, HEX(blob_all), HEX(vbin), HEX(bin4), HEX(bit64), HEX(txt_mb4), CAST(f + 0e0 AS CHAR) FROM shop.tricky ORDER BY id';
    const src = await rawRows(source, sql);
    expect(src).toHaveLength(4);
    expect(await rawRows(target, sql)).toEqual(src);
    const zoned = await rawRows(source, sql, '-07:00');
    expect(await rawRows(target, sql, '-07:00')).toEqual(zoned);
    // Spot checks that would catch a copy through JS numbers, dates or strings.
    const c = await target.connect();
    const [[row]] = (await c.query("SELECT CAST(dec_big AS CHAR) AS dec_big, CAST(u_big AS CHAR) AS u_big, CAST(s_big AS CHAR) AS s_big, CAST(f + 0e0 AS CHAR) AS fexact, CAST(doc AS CHAR) AS doc, UNIX_TIMESTAMP(ts6) AS ts, CAST(bit64 + 0 AS CHAR) AS bits, LENGTH(blob_all) AS bl, txt_mb4, HEX(txt_latin1) AS lat, CAST(dt_zero AS CHAR) AS z FROM shop.tricky WHERE id = 1")) as any;
    await c.end();
    expect(row.dec_big).toBe('12345678901234567890123456789012345.123456789012345678901234567890');
    expect(row.u_big).toBe('18446744073709551615');
    expect(row.s_big).toBe('-9223372036854775808');
    // A FLOAT printed with 6 digits (3.40282e38) would have lost bits.
    expect(row.fexact).toBe('3.4028234663852886e38');
    expect(JSON.parse(row.doc).emoji).toBe('🚀');
    expect(row.doc).toContain('12345678901234567890');
    expect(row.ts).toBe('2147463847.999999'); // written at +05:30: the instant is 19800 s before the UTC reading
    expect(row.bits).toBe('18446744073709551615');
    expect(row.bl).toBe(256);
    expect(row.txt_mb4).toBe('héllo 🌍 "quoted" \'single\' back\\slash tab\t nul\0 ctrlz\x1a');
    expect(row.lat).toBe('636166E9'); // still latin1 on the target
    expect(row.z).toBe('0000-00-00 00:00:00');
  });

  it('keeps NOT NULL columns, and ENUM and SET members holding tabs, newlines and backslashes, byte for byte', async () => {
    const sql = 'SELECT *, HEX(vbin), HEX(e_odd), HEX(e_odd_null), HEX(s_odd), CAST(bits + 0 AS CHAR), CAST(f + 0e0 AS CHAR) FROM shop.not_null ORDER BY id';
    const src = await rawRows(source, sql);
    expect(src).toHaveLength(4);
    expect(await rawRows(target, sql)).toEqual(src);
    const c = await target.connect();
    const [rows] = await c.query<RowDataPacket[]>('SELECT e_odd, s_odd, CAST(dt_zero AS CHAR) AS z FROM shop.not_null ORDER BY id');
    await c.end();
    expect(rows.map((r) => r.e_odd)).toEqual(['tab\there', 'back\\slash', 'new\nline', 'plain']);
    expect(rows.map((r) => r.s_odd)).toEqual(['a\\b,c', '', 'a\\b', 'c']);
    expect(rows[0]!.z).toBe('0000-00-00 00:00:00');
  });

  it('keeps NULL apart from empty values, generated columns computed, id 0 kept', async () => {
    const c = await target.connect();
    const [rows] = await c.query<RowDataPacket[]>('SELECT id, blob_all IS NULL AS bn, vbin, g_virtual, g_stored FROM shop.tricky ORDER BY id');
    await c.end();
    expect(rows.map((r) => r.id)).toEqual([0, 1, 2, 3]);
    expect(rows[2]!.bn).toBe(0); // '' stays ''
    expect(rows[3]!.bn).toBe(1); // NULL stays NULL
    expect(rows[1]!.g_virtual).toBe(-256);
    expect(rows[0]!.g_stored).toBe('xzero id');
  });

  it('copies tables without a primary key, composite and string keys, and every table checksum matches', async () => {
    const tables = ['shop.tricky', 'shop.no_pk', 'shop.customers', 'shop.orders', 'shop.audit', 'shop.big', 'shop.blobs', 'other.t'];
    const sum = async (s: MariaDbServer) => {
      const c = await s.connect();
      const [rows] = await c.query<RowDataPacket[]>(`CHECKSUM TABLE ${tables.join(', ')}`);
      await c.end();
      return rows.map((r) => [r.Table, String(r.Checksum)]);
    };
    const expected = await sum(source);
    expect(expected.every(([, v]) => v !== 'null')).toBe(true);
    expect(await sum(target)).toEqual(expected);
    expect(await rawRows(target, 'SELECT * FROM shop.no_pk ORDER BY a, b')).toEqual(await rawRows(source, 'SELECT * FROM shop.no_pk ORDER BY a, b'));
  });

  it('creates views, routines, triggers (after the data) and events (disabled on the replica)', async () => {
    const c = await target.connect('shop');
    const [v] = await c.query<RowDataPacket[]>('SELECT customer FROM v_top');
    expect(v.map((r) => r.customer)).toEqual(['c2']);
    const [[f]] = (await c.query('SELECT twice(21) AS x')) as any;
    expect(f.x).toBe(42);
    const [audit] = await c.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM audit');
    expect(audit[0]!.n).toBe(0); // the trigger did not fire during the load
    await c.query("CALL add_order('c2', 2)");
    const [audit2] = await c.query<RowDataPacket[]>('SELECT what FROM audit');
    expect(audit2.map((r) => r.what)).toEqual(['order c2']);
    const [ev] = await c.query<RowDataPacket[]>("SELECT STATUS FROM information_schema.EVENTS WHERE EVENT_SCHEMA = 'shop' AND EVENT_NAME = 'nightly'");
    expect(ev[0]!.STATUS).toBe('SLAVESIDE_DISABLED');
    const [fk] = await c.query<RowDataPacket[]>("SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'shop'");
    expect(fk.map((r) => r.CONSTRAINT_NAME)).toEqual(['fk_c']);
    await c.end();
  });

  it('reports progress through the phases up to done, with rows and rate', () => {
    const phases = [...new Set(events.map((e) => e.phase))];
    // The tables are made before the snapshot opens; triggers and events before the secondary keys (an ALTER would hold their metadata lock).
    expect(phases).toEqual(['schema', 'snapshot', 'data', 'objects', 'keys', 'done']);
    const last = events.at(-1)!;
    expect(last.rowsCopied).toBe(first.rows);
    expect(last.tablesDone).toBe(9);
    expect(last.etaSeconds).toBe(0);
  });

  it('is idempotent: a second invocation returns the same position and copies nothing again', async () => {
    const again = await logicalCopy({ migrationId: 'types-test', source: side(source), target: side(target), parallelism: 2, chunkRows: 1000 });
    expect(again.reused).toBe(true);
    expect(again.position).toEqual(first.position);
    const c = await target.connect();
    const [[n]] = (await c.query('SELECT COUNT(*) AS n FROM shop.big')) as any;
    await c.end();
    expect(n.n).toBe(5000);
  });

  it('refuses to overwrite a schema on the target it did not create', async () => {
    await expect(
      logicalCopy({ migrationId: 'someone-else', source: side(source), target: side(target), parallelism: 1, chunkRows: 1000 }),
    ).rejects.toThrow(ResourceConflictError);
    await expect(
      logicalCopy({ migrationId: 'someone-else', source: side(source), target: side(target), parallelism: 1, chunkRows: 1000 }),
    ).rejects.toThrow(/schema other already exists on the target/);
  });
});

describe('logical copy with INSERT statements (where the target refuses LOAD DATA LOCAL)', () => {
  let insertTarget: MariaDbServer;
  beforeAll(async () => {
    insertTarget = await startMariaDb({ serverId: 13 });
  });
  afterAll(async () => {
    await insertTarget?.stop();
  });

  it('keeps the same values byte for byte and the same checksums', async () => {
    const copy = await logicalCopy({ migrationId: 'types-insert', source: side(source), target: side(insertTarget), parallelism: 2, chunkRows: 1000, format: 'insert' });
    expect(copy.format).toBe('insert');
    const sql = 'SELECT *, HEX(blob_all), HEX(vbin), HEX(bin4), HEX(bit64), HEX(txt_mb4), CAST(f + 0e0 AS CHAR) FROM shop.tricky ORDER BY id';
    expect(await rawRows(insertTarget, sql)).toEqual(await rawRows(source, sql));
    const tables = 'shop.tricky, shop.no_pk, shop.customers, shop.orders, shop.big, shop.blobs, other.t';
    const sums = async (s: MariaDbServer) => {
      const c = await s.connect();
      const [rows] = await c.query<RowDataPacket[]>(`CHECKSUM TABLE ${tables}`);
      await c.end();
      return rows.map((r) => String(r.Checksum));
    };
    expect(await sums(insertTarget)).toEqual(await sums(source));
  });
});
