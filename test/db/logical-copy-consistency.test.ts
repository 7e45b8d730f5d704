// The copy is consistent at its binlog position: while writers keep changing the source during the
// whole copy, replication started from the returned position applies without a single conflict and
// source and target end with identical checksums (a copy taken at another point, or tables copied at
// different moments, would make the replica hit duplicate keys / missing rows or leave differences).
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RowDataPacket } from 'mysql2/promise';
import { startMariaDb, type MariaDbServer } from '../../local/mariadb.js';
import { logicalCopy } from '../../shared/initial-load/index.js';

let source: MariaDbServer;
let target: MariaDbServer;
const side = (s: MariaDbServer) => ({ endpoint: { host: s.host, port: s.port }, credentials: s.admin });
const TABLES = ['bank.accounts', 'bank.transfers', 'bank.ledger_nopk', 'bank.tags'];

beforeAll(async () => {
  [source, target] = await Promise.all([startMariaDb({ serverId: 41 }), startMariaDb({ serverId: 42 })]);
  const c = await source.connect();
  await c.query(`CREATE DATABASE bank; USE bank;
    CREATE TABLE accounts (id INT PRIMARY KEY, balance DECIMAL(14,2) NOT NULL, note VARCHAR(40));
    CREATE TABLE transfers (id BIGINT AUTO_INCREMENT PRIMARY KEY, src INT, dst INT, amount DECIMAL(14,2), at DATETIME(6));
    CREATE TABLE ledger_nopk (account INT, delta DECIMAL(14,2), at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6));
    CREATE TABLE tags (tag VARCHAR(20) PRIMARY KEY, hits INT NOT NULL);
    INSERT INTO accounts SELECT seq, 1000.00, CONCAT('acct ', seq) FROM seq_1_to_30000;
    INSERT INTO transfers (src, dst, amount, at) SELECT seq, seq + 1, 1.00, NOW(6) FROM seq_1_to_20000;
    INSERT INTO tags SELECT CONCAT('t', seq), 0 FROM seq_1_to_200;
    ANALYZE TABLE accounts, transfers;`);
  await c.end();
});
afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
});

/** Transfers money between random accounts (a multi-table transaction), until stopped. */
function startWriters(n: number) {
  let stop = false;
  let writes = 0;
  const loops = Array.from({ length: n }, async (_, w) => {
    const c = await source.connect('bank');
    let i = 0;
    while (!stop) {
      const a = 1 + ((i * 7919 + w * 104729) % 30000);
      const b = 1 + ((a * 31) % 30000);
      await c.query('START TRANSACTION');
      await c.query('UPDATE accounts SET balance = balance - 1 WHERE id = ?', [a]);
      await c.query('UPDATE accounts SET balance = balance + 1 WHERE id = ?', [b]);
      await c.query('INSERT INTO transfers (src, dst, amount, at) VALUES (?, ?, 1, NOW(6))', [a, b]);
      await c.query('INSERT INTO ledger_nopk (account, delta) VALUES (?, -1), (?, 1)', [a, b]);
      await c.query('INSERT INTO tags VALUES (?, 1) ON DUPLICATE KEY UPDATE hits = hits + 1', [`t${(i % 300) + 1}`]);
      if (i % 5 === 0) await c.query('DELETE FROM transfers WHERE id = ?', [1 + ((i * 13) % 20000)]);
      await c.query('COMMIT');
      writes++;
      i++;
    }
    await c.end();
  });
  return {
    get writes() {
      return writes;
    },
    stop: async () => {
      stop = true;
      await Promise.all(loops);
    },
  };
}

it('copy + replication from the returned position converge under concurrent writes', async () => {
  const writers = startWriters(3);
  await new Promise((r) => setTimeout(r, 300));
  const before = writers.writes;
  const copy = await logicalCopy({ migrationId: 'consistency', source: side(source), target: side(target), parallelism: 4, chunkRows: 2000 });
  const during = writers.writes - before;
  expect(during).toBeGreaterThan(0); // the source really changed while it was copied

  const t = await target.connect();
  await t.query(
    `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${source.port}, MASTER_USER='${source.admin.username}',
       MASTER_PASSWORD='${source.admin.password}', MASTER_LOG_FILE='${copy.position.file}', MASTER_LOG_POS=${copy.position.position},
       MASTER_USE_GTID=no`,
  );
  await t.query('START SLAVE');
  await new Promise((r) => setTimeout(r, 500));
  await writers.stop();

  const s = await source.connect();
  const [[status]] = (await s.query('SHOW MASTER STATUS')) as any;
  const [[waited]] = (await t.query('SELECT MASTER_POS_WAIT(?, ?, 60) AS r', [status.File, status.Position])) as any;
  const [[replica]] = (await t.query('SHOW SLAVE STATUS')) as any;
  expect(replica.Last_SQL_Error).toBe('');
  expect(replica.Slave_SQL_Running).toBe('Yes');
  expect(waited.r).not.toBeNull();
  expect(Number(waited.r)).toBeGreaterThanOrEqual(0);

  const sums = async (c: typeof s) => {
    const [rows] = await c.query<RowDataPacket[]>(`CHECKSUM TABLE ${TABLES.join(', ')}`);
    return rows.map((r) => `${r.Table}=${r.Checksum}`);
  };
  expect(await sums(t)).toEqual(await sums(s));
  const [[total]] = (await t.query('SELECT SUM(balance) AS s FROM bank.accounts')) as any;
  expect(total.s).toBe('30000000.00'); // money neither created nor lost
  await t.query('STOP SLAVE');
  await Promise.all([s.end(), t.end()]);
});
