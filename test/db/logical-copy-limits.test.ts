// The logical copy at the servers' limits: values as large as each type and max_allowed_packet allow,
// rows far wider than a packet, tables with a thousand columns, copied byte-identical in both formats
// (compared with a hash of every value computed on each side). And no value ever changes silently: a
// value the source cannot render, or a load the target warns about, stops the copy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowDataPacket } from 'mysql2/promise';
import { startMariaDb, type MariaDbServer } from '../../local/mariadb.js';
import { logicalCopy } from '../../shared/initial-load/index.js';
import { openConnection } from '../../shared/initial-load/connections.js';
import { copyRange } from '../../shared/initial-load/rows.js';
import { describeTables } from '../../shared/initial-load/inspect.js';
import type { RowFormat } from '../../shared/initial-load/values.js';

const PACKET = 16 * 1024 * 1024; // max_allowed_packet of every server here (MariaDB's default)
// innodb_strict_mode off: a thousand columns pass CREATE TABLE's worst-case row size check (the real
// rows fit: their TEXT values are stored off the page).
const config = { max_allowed_packet: '16M', innodb_log_file_size: '256M', innodb_buffer_pool_size: '128M', innodb_strict_mode: 'OFF' };

let source: MariaDbServer;
const side = (s: MariaDbServer) => ({ endpoint: { host: s.host, port: s.port }, credentials: s.admin });

// Every byte value, the escape characters of both formats among them (\0 \t \n ' \\ ^Z).
const ALL_BYTES = `X'${Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('hex')}'`;
const NASTY_TEXT = `'a\\\\b\\tc\\nd\\0e''f\\Zg€🚀'`; // backslash tab newline NUL quote ^Z, 3- and 4-byte characters

const TABLES = ['lobs', 'bounded', 'bounded_bin', 'odd', 'many_cols', 'many_blobs'];

async function fillSource(): Promise<void> {
  const c = await source.connect();
  await c.query('SET SESSION sql_log_bin = 0');
  // As it was reported: 12 MiB of 'H' (24 MiB as hex, above a 16 MiB max_allowed_packet).
  await c.query('CREATE DATABASE report');
  await c.query('CREATE TABLE report.t (id INT AUTO_INCREMENT PRIMARY KEY, b LONGBLOB)');
  await c.query("INSERT INTO report.t(b) VALUES (repeat('H', 12*1024*1024))");
  await c.query("INSERT INTO report.t(b) VALUES (repeat('H', 4*1024*1024))");

  await c.query('CREATE DATABASE lim');
  await c.query('USE lim');

  // One row with every LOB type at (or at) its limit: about 90 MB, five times max_allowed_packet.
  await c.query(`CREATE TABLE lobs (id INT PRIMARY KEY, lb LONGBLOB, lt LONGTEXT CHARACTER SET utf8mb4, lt1 LONGTEXT CHARACTER SET latin1,
    mb MEDIUMBLOB, mt MEDIUMTEXT CHARACTER SET utf8mb4, b BLOB, t TEXT CHARACTER SET utf8mb4, tb TINYBLOB, tt TINYTEXT CHARACTER SET utf8mb4,
    j JSON, g GEOMETRY) ENGINE=InnoDB`);
  await c.query(`INSERT INTO lobs VALUES (1,
    REPEAT(${ALL_BYTES}, ${PACKET / 256}),                        -- LONGBLOB = max_allowed_packet
    REPEAT(${NASTY_TEXT}, ${(PACKET / 20) | 0}),                  -- 16777200 bytes, 7 of every 15 characters escaped
    REPEAT(_latin1 X'E9FF5C09', ${PACKET / 4}),                  -- 16 MB latin1, 24 MB once utf8mb4
    REPEAT(X'5C', 16777215),                                       -- MEDIUMBLOB full, every byte escaped
    REPEAT('€', 5592405),                                          -- MEDIUMTEXT full (16777215 bytes)
    REPEAT(X'00', 65535), REPEAT('🚀', 16383),                      -- BLOB and TEXT full
    REPEAT(X'0A', 255), REPEAT('\\\\', 255),                        -- TINYBLOB and TINYTEXT full
    CONCAT('{"k": "', REPEAT('\\\\"\\\\\\\\\\\\n', 1000000), '"}'), -- 6 MB of JSON escapes
    ST_GeomFromText(CONCAT('LINESTRING(', REPEAT('1.5 -2.25,', 50000), '0 0)')))`);
  await c.query('INSERT INTO lobs VALUES (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)');
  await c.query(`INSERT INTO lobs VALUES (3, '', '', '', '', '', '', '', '', '', '""', ST_GeomFromText('POINT(0 0)'))`);
  await c.query(`INSERT INTO lobs VALUES (4, ${ALL_BYTES}, ${NASTY_TEXT}, _latin1 X'E9', X'00', 'x', X'09', '\\\\N', X'5C4E', 'NULL', '[null]', ST_GeomFromText('POINT(1 1)'))`);

  // The widest bounded columns a row can hold (the 65,535-byte limit outside LOBs).
  await c.query('CREATE TABLE bounded (id INT PRIMARY KEY, vc VARCHAR(16370) CHARACTER SET utf8mb4) ENGINE=InnoDB');
  await c.query(`INSERT INTO bounded VALUES (1, RPAD('', 16370, ${NASTY_TEXT})), (2, REPEAT('🚀', 16370)), (3, NULL), (4, '')`);
  await c.query('CREATE TABLE bounded_bin (id INT PRIMARY KEY, vb VARBINARY(65500)) ENGINE=InnoDB');
  await c.query(`INSERT INTO bounded_bin VALUES (1, RPAD(${ALL_BYTES}, 65500, ${ALL_BYTES})), (2, NULL), (3, '')`);

  // Values a non-strict source holds that a strict load would change: an ENUM's error value '' and an
  // invalid date (ALLOW_INVALID_DATES), next to the full CHAR/BINARY widths.
  await c.query(`CREATE TABLE odd (id INT PRIMARY KEY, e ENUM('a','b') NULL, d DATE NULL, dt DATETIME(6) NULL,
    ch CHAR(255) CHARACTER SET utf8mb4, bn BINARY(255)) ENGINE=InnoDB`);
  await c.query("SET SESSION sql_mode = 'ALLOW_INVALID_DATES'");
  await c.query(`INSERT INTO odd VALUES (1, 'not a member', '2020-02-31', '2021-04-31 23:59:59.999999', REPEAT('🚀', 255), RPAD(${ALL_BYTES}, 255, 'x')),
    (2, 'b', '0000-00-00', '2020-00-00 00:00:00', '', ''), (3, NULL, NULL, NULL, NULL, NULL)`);
  await c.query("SET SESSION sql_mode = DEFAULT");

  // A thousand columns: 670 numbers, 230 TEXT of 64 KB (21 MB as one rendered row), 100 CHAR.
  const cols = [
    ...Array.from({ length: 670 }, (_, i) => `n${i} INT`),
    ...Array.from({ length: 230 }, (_, i) => `t${i} TEXT CHARACTER SET utf8mb4`),
    ...Array.from({ length: 100 }, (_, i) => `c${i} CHAR(1) CHARACTER SET latin1`),
  ];
  await c.query(`CREATE TABLE many_cols (id INT PRIMARY KEY, ${cols.join(', ')}) ENGINE=InnoDB ROW_FORMAT=DYNAMIC`);
  const values = [
    ...Array.from({ length: 670 }, (_, i) => String(-2147483648 + i)),
    ...Array.from({ length: 230 }, (_, i) => `RPAD('${i}', 49000, ${NASTY_TEXT})`),
    ...Array.from({ length: 100 }, (_, i) => (i % 2 ? "'\\t'" : "X'E9'")),
  ];
  await c.query(`INSERT INTO many_cols VALUES (1, ${values.join(', ')})`);
  await c.query(`INSERT INTO many_cols (id) VALUES (2)`);

  // 200 BLOBs of 64 KB: a 13 MB row, 26 MB once in hex.
  await c.query(`CREATE TABLE many_blobs (id INT PRIMARY KEY, ${Array.from({ length: 200 }, (_, i) => `b${i} BLOB`).join(', ')}) ENGINE=InnoDB`);
  await c.query(`INSERT INTO many_blobs VALUES (1, ${Array.from({ length: 200 }, () => `RPAD(${ALL_BYTES}, 65535, X'5C')`).join(', ')})`);
  await c.end();
}

/** Per row: for every column, NULL or its length and SHA-256 of its bytes, computed by the server. */
async function hashes(server: MariaDbServer, table: string, schema = 'lim'): Promise<string[]> {
  const c = await server.connect();
  try {
    const [cols] = await c.query<RowDataPacket[]>(
      `SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
      [schema, table],
    );
    const exprs = cols.map((r) => `IF(\`${r.c}\` IS NULL, 'NULL', CONCAT(OCTET_LENGTH(\`${r.c}\`), ':', SHA2(CAST(\`${r.c}\` AS BINARY), 256)))`);
    const [rows] = await c.query<RowDataPacket[]>(`SELECT CONCAT_WS(' ', ${exprs.join(', ')}) AS h FROM \`${schema}\`.\`${table}\` ORDER BY id`);
    return rows.map((r) => r.h as string);
  } finally {
    await c.end();
  }
}

async function createTable(server: MariaDbServer, table: string): Promise<string> {
  const c = await server.connect();
  const [[row]] = (await c.query(`SHOW CREATE TABLE lim.\`${table}\``)) as any;
  await c.end();
  return row['Create Table'];
}

beforeAll(async () => {
  source = await startMariaDb({ serverId: 41, config });
  await fillSource();
}, 240_000);
afterAll(async () => {
  await source?.stop();
});

describe.each(['load', 'insert'] as RowFormat[])('the reported 12 MiB BLOB (%s)', (format) => {
  it('arrives as it is, not as NULL', async () => {
    const target = await startMariaDb({ serverId: format === 'load' ? 47 : 48, config });
    try {
      await logicalCopy({ migrationId: `report-${format}`, source: side(source), target: side(target), schemas: ['report'], parallelism: 1, chunkRows: 1000, format });
      const expected = await hashes(source, 't', 'report');
      expect(expected[0]).toMatch(/^1:[0-9a-f]{64} 12582912:[0-9a-f]{64}$/);
      expect(await hashes(target, 't', 'report')).toEqual(expected);
    } finally {
      await target.stop();
    }
  });
});

describe.each(['load', 'insert'] as RowFormat[])('logical copy at the limits (%s)', (format) => {
  let target: MariaDbServer;
  beforeAll(async () => {
    target = await startMariaDb({ serverId: format === 'load' ? 42 : 43, config });
    const copy = await logicalCopy({ migrationId: `limits-${format}`, source: side(source), target: side(target), schemas: ['lim'], parallelism: 2, chunkRows: 1000, format });
    expect(copy.format).toBe(format);
  }, 240_000);
  afterAll(async () => {
    await target?.stop();
  });

  it.each(TABLES)('copies table %s byte-identical, with the same definition', async (table) => {
    const expected = await hashes(source, table);
    expect(expected.length).toBeGreaterThan(0);
    expect(await hashes(target, table)).toEqual(expected);
    expect(await createTable(target, table)).toBe(await createTable(source, table));
  });

  it('kept the sizes the matrix is about (the source really holds values at the limits)', async () => {
    const c = await target.connect();
    const [[row]] = (await c.query(
      'SELECT LENGTH(lb) lb, LENGTH(lt1) lt1, LENGTH(mb) mb, LENGTH(mt) mt, LENGTH(b) b, LENGTH(t) t, LENGTH(tb) tb, LENGTH(tt) tt FROM lim.lobs WHERE id = 1',
    )) as any;
    const [[odd]] = (await c.query("SELECT e, e + 0 AS i, CAST(d AS CHAR) d, CAST(dt AS CHAR) dt FROM lim.odd WHERE id = 1")) as any;
    await c.end();
    expect(row).toEqual({ lb: PACKET, lt1: PACKET, mb: 16777215, mt: 16777215, b: 65535, t: 65532, tb: 255, tt: 255 });
    expect(odd).toEqual({ e: '', i: 0, d: '2020-02-31', dt: '2021-04-31 23:59:59.999999' });
  });
});

describe('no silent change', () => {
  it('refuses a bounded value the source cannot render within its max_allowed_packet (never writes it as NULL)', async () => {
    // 65,000 bytes are 130,000 as hex: above a 64 KB max_allowed_packet, HEX() returns NULL.
    const target = await startMariaDb({ serverId: 44, config });
    const admin = await source.connect();
    try {
      await admin.query('CREATE DATABASE tight');
      await admin.query('CREATE TABLE tight.t (id INT PRIMARY KEY, vb VARBINARY(65000))');
      await admin.query(`INSERT INTO tight.t VALUES (1, RPAD(X'01', 65000, X'02'))`);
      await admin.query('SET GLOBAL max_allowed_packet = 65536');
      await expect(
        logicalCopy({ migrationId: 'limits-tight', source: side(source), target: side(target), schemas: ['tight'], parallelism: 1, chunkRows: 1000 }),
      ).rejects.toThrow(/tight.*\bvb\b.*max_allowed_packet/);
    } finally {
      await admin.query(`SET GLOBAL max_allowed_packet = ${PACKET}`);
      await admin.query('DROP DATABASE tight');
      await admin.end();
      await target.stop();
    }
  });

  it.each(['load', 'insert'] as RowFormat[])('stops on a warning of the target instead of storing a changed value (%s)', async (format) => {
    // A target table narrower than the source's: the load truncates 'abcdefghij' with warning 1265.
    const target = await startMariaDb({ serverId: format === 'load' ? 45 : 46, config });
    const admin = await source.connect();
    const t = await target.connect();
    const [src, dst] = [await openConnection(side(source).endpoint, source.admin, 'source'), await openConnection(side(target).endpoint, target.admin, 'target')];
    try {
      await admin.query('CREATE DATABASE IF NOT EXISTS narrow');
      await admin.query('CREATE TABLE IF NOT EXISTS narrow.t (id INT PRIMARY KEY, v VARCHAR(10))');
      await admin.query("REPLACE INTO narrow.t VALUES (1, 'abcdefghij')");
      await t.query('CREATE DATABASE narrow');
      await t.query('CREATE TABLE narrow.t (id INT PRIMARY KEY, v VARCHAR(5))');
      const [table] = await describeTables(src, ['narrow']);
      const whole = { table: table!, key: null, from: null, hi: null, maxRows: 1 };
      await expect(copyRange(src, dst, whole, { batchBytes: 1 << 20, maxStatementBytes: 1 << 23, format }, () => undefined)).rejects.toThrow(
        /the target warned while loading narrow\.t.*1265.*Data truncated for column 'v'/,
      );
    } finally {
      await Promise.all([src.end(), dst.end(), t.end()]);
      await admin.query('DROP DATABASE narrow');
      await admin.end();
      await target.stop();
    }
  });
});
