// A difference found by the comparison before the gate stops the migration there, even when the run
// was started with --auto-approve (cutover.approval auto as well): `crossmove run --local` with the
// real handlers against two MariaDB servers, one row changed on the target outside replication
// once replication runs. Nothing is cut over, replication keeps running, and the local progress and
// the report carry the verdict with the row by primary key.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMariaDb, type MariaDbServer } from '../../local/mariadb.js';
import { runMigrationLocally } from '../../cli/run.js';

const dir = mkdtempSync(join(tmpdir(), 'crossmove-e2e-gate-verdict-'));
let source: MariaDbServer;
let target: MariaDbServer;

async function one(server: MariaDbServer, sql: string): Promise<RowDataPacket | undefined> {
  const c = await server.connect();
  try {
    const [rows] = (await c.query(sql)) as [RowDataPacket[], unknown];
    return rows[0];
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  [source, target] = await Promise.all([startMariaDb({ serverId: 81, baseDir: dir }), startMariaDb({ serverId: 82, baseDir: dir })]);
  const s = await source.connect();
  await s.query('CREATE DATABASE shop; USE shop; CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(30) NOT NULL) ENGINE=InnoDB; INSERT INTO shop.items SELECT seq, CONCAT("item ", seq) FROM seq_1_to_500');
  await s.end();
}, 120_000);
afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

it('--auto-approve does not approve a comparison that found differences: stopped at the gate, nothing cut over, verdict shown', async () => {
  process.env.GATE_VERDICT_SOURCE = JSON.stringify(source.admin);
  process.env.GATE_VERDICT_TARGET = JSON.stringify(target.admin);
  process.env.CROSSMOVE_SECRET_STORE = `local:${join(dir, 'secrets')}`;
  const input = {
    migrationId: 'gate-verdict',
    source: { endpoint: { host: source.host, port: source.port }, adminSecret: 'env:GATE_VERDICT_SOURCE' },
    target: { endpoint: { host: target.host, port: target.port }, adminSecret: 'env:GATE_VERDICT_TARGET' },
    initialLoad: { method: 'logical', schemas: ['shop'] },
    replication: { ssl: false, pollSeconds: 1, requiredConsecutiveChecks: 2 },
    cutover: { approval: 'auto', writeBlock: { method: 'read-only' } },
    verify: { parallelism: 2 },
  };
  let progress = '';
  const sink = new Writable({ write: (c, _e, cb) => ((progress += String(c)), cb()) }) as unknown as NodeJS.WriteStream;
  const report = await runMigrationLocally({
    input,
    autoApprove: true,
    progress: sink,
    tty: false,
    // Synchronous on purpose (the runner does not wait for this callback): the row is changed before
    // the next state starts, so the comparison always sees it.
    onStateExited: (state) => {
      if (state !== 'Start replication on the target') return;
      execFileSync('mariadb', ['-h', target.host, '-P', String(target.port), '-u', target.admin.username, '-e', "SET sql_log_bin = 0; UPDATE shop.items SET name = 'changed on the target' WHERE id = 321"], {
        env: { ...process.env, MYSQL_PWD: target.admin.password },
      });
    },
  });

  expect(report.outcome).toBe('approval-not-given');
  expect(report.ok).toBe(false);
  expect(report.verification).toMatchObject({ done: true, verdict: 'differences', differences: { tables: 1, different: 1, missing: 0, extra: 0 } });
  expect(report.verification!.tables).toEqual([expect.objectContaining({ table: 'shop.items', rows: [{ kind: 'different', key: 'id=321', columns: ['name'] }] })]);
  expect(report.error).toBe('ApprovalRejected');
  expect(report.cause).toContain('--auto-approve approves only a clean comparison');
  expect(report.cutover).toBeNull();
  // The local progress showed the verdict and why it was not approved.
  expect(progress).toContain('comparison: DIFFERENCES · 1 tables · 0 missing, 0 extra, 1 different rows');
  expect(progress).toContain('approval: NOT auto-approved: the data comparison found differences in 1 table(s)');
  // Nothing was cut over: the source still takes writes, the target is still its read-only replica.
  expect(await one(source, 'SELECT @@global.read_only AS ro')).toMatchObject({ ro: 0 });
  expect(await one(target, 'SELECT @@global.read_only AS ro')).toMatchObject({ ro: 1 });
  expect(await one(target, 'SHOW SLAVE STATUS')).toMatchObject({ Slave_SQL_Running: 'Yes', Slave_IO_Running: 'Yes' });
}, 240_000);
