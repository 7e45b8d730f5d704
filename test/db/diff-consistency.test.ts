// Never cries wolf: identical data under continuous inserts, updates and deletes from several
// connections, with VIRTUAL and STORED generated columns, JSON, BLOB, BIT, ENUM/SET, DECIMAL, FLOAT,
// DOUBLE and temporal columns, compares clean in every run: with MariaDB's lock-free snapshot
// position, with LOCK TABLES (the Aurora/MySQL source path), against an Aurora MySQL 3 target
// (mysql.rds_start_replication_until, emulated) and an Aurora MySQL 2 target (no UNTIL: settled).
// Each run also plants one difference at the end of the writes, which it must find.
import { afterAll, describe, expect, it } from 'vitest';
import { runDiffLocally } from '../../shared/verify/steps.js';
import { diffPair, MixedWriters, type DiffPair } from './diff-fixtures.js';

const SETUP = [
  `CREATE TABLE t (
     id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
     i INT NULL, d DECIMAL(20,6) NULL, f FLOAT NULL, dbl DOUBLE NULL, b BIT(10) NULL,
     e ENUM('a','b','c') NULL, s SET('x','y','z') NULL, v VARCHAR(50) NULL, ch CHAR(10) NULL, tx TEXT NULL,
     bl BLOB NULL, vb VARBINARY(20) NULL, j JSON NULL, dt DATETIME(6) NULL, ts TIMESTAMP(3) NULL, dd DATE NULL, tm TIME(2) NULL, y YEAR NULL,
     gv INT AS (i * 2) VIRTUAL,
     gs VARCHAR(60) AS (CONCAT(IFNULL(v, ''), '#')) STORED,
     gj VARCHAR(60) AS (JSON_VALUE(j, '$.k')) VIRTUAL
   ) ENGINE=InnoDB`,
  `INSERT INTO t (id, i, d, f, dbl, b, e, s, v, ch, tx, bl, vb, j, dt, ts, dd, tm, y)
   SELECT seq, seq, seq / 7, seq / 3e0, seq / 11e0, seq MOD 1024, ELT(1 + seq MOD 3, 'a', 'b', 'c'), IF(seq MOD 2, 'x,z', 'y'),
          IF(seq MOD 9 = 0, NULL, CONCAT('v', seq)), IF(seq MOD 4 = 0, '', CONCAT('c', seq MOD 100)), REPEAT('t', seq MOD 50),
          UNHEX(MD5(seq)), UNHEX(LPAD(HEX(seq), 8, '0')), JSON_OBJECT('k', seq, 'arr', JSON_ARRAY(seq, 'x')),
          '2024-01-01 00:00:00' + INTERVAL seq * 1001 MICROSECOND, '2024-02-01 00:00:00' + INTERVAL seq SECOND,
          '2000-01-01' + INTERVAL seq MOD 9000 DAY, SEC_TO_TIME(seq MOD 86400) + INTERVAL 0.25 SECOND, 1990 + seq MOD 100
     FROM seq_1_to_20000`,
  `CREATE TABLE counters (name VARCHAR(30) NOT NULL PRIMARY KEY, n BIGINT NOT NULL) ENGINE=InnoDB`,
  `INSERT INTO counters SELECT CONCAT('c', seq), 0 FROM seq_1_to_200`,
];

/** Inserts, updates of random columns, deletes: what an application does. */
function statement(r: () => number, worker: number, n: number): string {
  const id = 1 + Math.floor(r() * 20_000);
  const pick = r();
  if (pick < 0.2) {
    const nid = 1_000_000 * (worker + 1) + n;
    return `INSERT INTO t (id, i, d, f, dbl, b, e, s, v, ch, tx, bl, vb, j, dt, ts, dd, tm, y) VALUES (${nid}, ${n}, ${n}.5, ${r()}, ${r()}, b'101', 'b', 'x,y', 'new ${n}', 'ch', 'text', x'00ff', x'0a', '{"k": ${n}}', NOW(6), NOW(3), CURDATE(), '12:00:00.5', 2024)`;
  }
  if (pick < 0.3) return `DELETE FROM t WHERE id = ${id}`;
  if (pick < 0.45) return `UPDATE counters SET n = n + 1 WHERE name = 'c${1 + Math.floor(r() * 200)}'`;
  const updates = [
    `i = i + 1`,
    `d = d + 0.000001`,
    `f = ${r()}`,
    `dbl = dbl * 1.0000001`,
    `b = b ^ 1`,
    `e = '${['a', 'b', 'c'][Math.floor(r() * 3)]}'`,
    `s = 'z'`,
    `v = ${r() < 0.2 ? 'NULL' : `'u${n}'`}`,
    `ch = 'x '`,
    `tx = CONCAT(IFNULL(tx, ''), 'y')`,
    `bl = UNHEX(MD5(${n}))`,
    `j = JSON_SET(IFNULL(j, '{}'), '$.k', ${n})`,
    `dt = dt + INTERVAL 1 MICROSECOND`,
    `ts = NOW(3)`,
    `tm = '01:02:03.04'`,
  ];
  return `UPDATE t SET ${updates[Math.floor(r() * updates.length)]} WHERE id = ${id}`;
}

const pairs: DiffPair[] = [];
afterAll(async () => {
  await Promise.all(pairs.map((p) => p.stop()));
});

async function cleanUnderWrites(pair: DiffPair, runs: number, opts: { forceLockTables?: boolean; mode: 'exact' | 'settled' }) {
  for (let run = 1; run <= runs; run++) {
    const writers = new MixedWriters(pair.source, statement, 3).start();
    const { summary, workers } = await runDiffLocally(pair.state, { forceLockTables: opts.forceLockTables });
    await writers.stop();
    expect(writers.errors).toEqual([]);
    expect(writers.writes, 'the application kept writing').toBeGreaterThan(100);
    expect(summary, JSON.stringify(summary.tables)).toMatchObject({ done: true, verdict: 'clean', mode: opts.mode, differences: { rows: 0, tables: 0 } });
    expect(summary.tablesCompared).toBe(2);
    expect(summary.rowsCompared).toBeGreaterThan(20_000);
    const syncPoints = workers.reduce((n, w) => n + w.syncPoints, 0);
    expect(syncPoints).toBeGreaterThan(0);
    if (opts.mode === 'exact') expect(workers.reduce((n, w) => n + w.exactSyncPoints, 0)).toBe(syncPoints);
  }
  // And a planted difference is still found, with writes going on.
  await pair.caughtUp();
  await pair.plant('target', ['UPDATE t SET v = CONCAT(IFNULL(v, ""), "!") WHERE id = 17']);
  const writers = new MixedWriters(pair.source, (_r, w, n) => `UPDATE counters SET n = n + 1 WHERE name = 'c${1 + ((w * 7 + n) % 200)}'`, 2).start();
  const { summary } = await runDiffLocally(pair.state, { forceLockTables: opts.forceLockTables });
  await writers.stop();
  expect(summary.verdict).toBe('differences');
  expect(summary.tables).toEqual([expect.objectContaining({ table: 'app.t', different: 1, rows: [{ kind: 'different', key: 'id=17', columns: ['v', 'gs'] }] })]);
}

describe('identical data under continuous writes compares clean, every run', () => {
  it('MariaDB to MariaDB (snapshot position without a lock), and through LOCK TABLES', async () => {
    const pair = await diffPair(65, SETUP, { state: { verify: { parallelism: 2, maxRowsPerChunk: 2000 } } });
    pairs.push(pair);
    await cleanUnderWrites(pair, 2, { mode: 'exact' });
    await pair.plant('source', ['UPDATE t SET v = "same" WHERE id = 17']);
    await pair.plant('target', ['UPDATE t SET v = "same" WHERE id = 17']);
    await cleanUnderWrites(pair, 1, { mode: 'exact', forceLockTables: true });
  }, 600_000);

  it('into Aurora MySQL 3 (applier stopped with mysql.rds_start_replication_until)', async () => {
    const pair = await diffPair(67, SETUP, { targetEngine: 'aurora-mysql-3', state: { verify: { parallelism: 2, maxRowsPerChunk: 3000 } } });
    pairs.push(pair);
    await cleanUnderWrites(pair, 2, { mode: 'exact' });
  }, 600_000);

  it('into Aurora MySQL 2 (no UNTIL: settled reads, changing rows rechecked, never reported)', async () => {
    const pair = await diffPair(69, SETUP, { targetEngine: 'aurora-mysql-2', state: { verify: { parallelism: 2, maxRowsPerChunk: 3000 } } });
    pairs.push(pair);
    await cleanUnderWrites(pair, 2, { mode: 'settled' });
  }, 600_000);
});
