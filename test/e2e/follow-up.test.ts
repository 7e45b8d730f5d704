// After a local migration: `crossmove fallback --local` moves the application back to the source
// through the reverse replication, then `crossmove cleanup --local` removes everything crossmove made.
// Both run their own state machines (statemachine/fallback.asl.yaml, cleanup.asl.yaml) in-process with
// the real handlers against real MariaDB servers.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startMariaDb, type MariaDbServer } from '../../local/mariadb.js';
import { APP_PASSWORD, APP_USER, prepareLoadSchema } from '../support/write-load.js';
import { runMigrationLocally } from '../../cli/run.js';
import { finalStatePath, runFollowUpLocally } from '../../cli/follow-up.js';
import { leaks, secretValuesIn } from './secrets-scan.js';

const dir = mkdtempSync(join(tmpdir(), 'crossmove-e2e-followup-'));
const stateDir = join(dir, '.crossmove');
let source: MariaDbServer;
let target: MariaDbServer;

const sink = new Writable({ write: (_c, _e, cb) => cb() }) as unknown as NodeJS.WriteStream;

async function one<T = RowDataPacket>(server: MariaDbServer, sql: string, params: unknown[] = []): Promise<T | undefined> {
  const c = await server.connect();
  try {
    const [rows] = (await c.query(sql, params)) as [T[], unknown];
    return rows[0];
  } finally {
    await c.end();
  }
}

async function appWrite(server: MariaDbServer, id: number, payload: string): Promise<void> {
  const app = await mysql.createConnection({ host: server.host, port: server.port, user: APP_USER, password: APP_PASSWORD, database: 'app' });
  try {
    await app.query('INSERT INTO writes (id, payload, created) VALUES (?, ?, NOW(6))', [id, payload]);
  } finally {
    await app.end();
  }
}

beforeAll(async () => {
  [source, target] = await Promise.all([startMariaDb({ serverId: 71, baseDir: dir }), startMariaDb({ serverId: 72, baseDir: dir })]);
  const s = await source.connect();
  await s.query('CREATE DATABASE shop; USE shop; CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(30)); INSERT INTO shop.items SELECT seq, CONCAT("item ", seq) FROM seq_1_to_300');
  await prepareLoadSchema(s, 'app');
  await s.end();
});
afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

it('falls back to the source, then cleans up everything, each as its own state machine', async () => {
  process.env.FOLLOWUP_SOURCE = JSON.stringify(source.admin);
  process.env.FOLLOWUP_TARGET = JSON.stringify(target.admin);
  process.env.CROSSMOVE_SECRET_STORE = `local:${join(stateDir, 'secrets')}`;
  const input = {
    migrationId: 'followup-test',
    source: { endpoint: { host: source.host, port: source.port }, adminSecret: 'env:FOLLOWUP_SOURCE' },
    target: { endpoint: { host: target.host, port: target.port }, adminSecret: 'env:FOLLOWUP_TARGET' },
    initialLoad: { method: 'logical' },
    replication: { ssl: false, pollSeconds: 1, requiredConsecutiveChecks: 2, binlogRetentionHours: 48 },
    cutover: { approval: 'auto', writeBlock: { method: 'read-only' }, reverseReplication: true, applyMissingGrants: true },
  };

  // The migration: saves its final state for the follow-up actions.
  const report = await runMigrationLocally({ input, autoApprove: true, progress: sink, tty: false, stateDir });
  expect(report.ok).toBe(true);
  expect(existsSync(finalStatePath(stateDir, 'followup-test'))).toBe(true);
  await appWrite(target, 900001, 'written on the target after the cutover');

  // Fallback: the source takes the application's writes again and has everything the target took.
  const fallback = await runFollowUpLocally('fallback', 'followup-test', { stateDir });
  expect(fallback.error).toBeUndefined();
  expect(fallback.status).toBe('SUCCEEDED');
  expect(await one(source, 'SELECT payload FROM app.writes WHERE id = 900001')).toMatchObject({ payload: 'written on the target after the cutover' });
  expect(await one(source, 'SELECT @@global.read_only AS ro')).toMatchObject({ ro: 0 });
  expect(await one(target, 'SELECT @@global.read_only AS ro')).toMatchObject({ ro: 1 });
  await appWrite(source, 900002, 'written on the source after the fallback');
  expect(await one(source, 'SHOW SLAVE STATUS')).toBeUndefined(); // reverse replication stopped and reset

  // Cleanup: replication users, their secrets and crossmove's objects are gone; retention restored.
  const secrets = [ADMIN_PASSWORD, APP_PASSWORD, ...secretValuesIn(join(stateDir, 'secrets'))];
  const cleanup = await runFollowUpLocally('cleanup', 'followup-test', { stateDir });
  expect(cleanup.error).toBeUndefined();
  expect(cleanup.status).toBe('SUCCEEDED');
  for (const server of [source, target]) {
    expect(await one(server, "SELECT COUNT(*) AS n FROM mysql.user WHERE User LIKE 'crossmove\\_repl%'")).toMatchObject({ n: 0 });
    expect(await one(server, "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'crossmove'")).toMatchObject({ n: 0 });
  }
  expect(secretValuesIn(join(stateDir, 'secrets'))).toEqual([]);
  const output = cleanup.output as { cleanupDb: { items: { kind: string; outcome: string }[] } };
  expect(output.cleanupDb.items.some((i) => i.kind === 'replication-user' && i.outcome === 'removed')).toBe(true);

  // A second cleanup finds everything already gone and changes nothing.
  const again = await runFollowUpLocally('cleanup', 'followup-test', { stateDir });
  expect(again.status).toBe('SUCCEEDED');
  const items = (again.output as { cleanupDb: { items: { outcome: string }[] } }).cleanupDb.items;
  expect(items.length).toBeGreaterThan(0);
  expect(items.filter((i) => i.outcome === 'removed')).toEqual([]);

  // Nothing secret in any payload the follow-up state machines produced.
  expect(secrets.length).toBeGreaterThanOrEqual(3);
  expect(leaks(JSON.stringify([fallback, cleanup, again]), secrets)).toEqual([]);
});
