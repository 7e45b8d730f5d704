// After a local migration: `crossmove fallback --local` moves the application back to the source
// through the reverse replication, then `crossmove cleanup --local` removes everything crossmove made.
// Both run their own state machines (statemachine/fallback.asl.yaml, cleanup.asl.yaml) in-process with
// the real handlers against real MariaDB servers.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startMariaDb, type MariaDbServer } from '../../local/mariadb.js';
import { APP_PASSWORD, APP_USER, prepareLoadSchema } from '../support/write-load.js';
import { runMigrationLocally } from '../../cli/run.js';
import { finalStatePath, runFollowUpLocally } from '../../cli/follow-up.js';
import { AFTER_FALLBACK, followUpText } from '../../cli/follow-up-report.js';
import type { CleanupReport } from '../../shared/state.js';
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
  expect(await one(target, 'SHOW SLAVE STATUS')).toBeUndefined(); // and nothing replicates source -> target: said in the output
  expect(followUpText('fallback', 'followup-test', fallback)).toContain(AFTER_FALLBACK);

  // The source is the primary again: a cleanup that would stop it is refused before it changes anything.
  const usersBefore = await one(source, "SELECT COUNT(*) AS n FROM mysql.user WHERE User LIKE 'crossmove\\_repl%'");
  const refused = await runFollowUpLocally('cleanup', 'followup-test', { stateDir, options: { sourceCluster: 'stop' } });
  expect(refused.status).toBe('FAILED');
  expect(refused.error).toBe('CleanupRefusedError');
  expect(refused.cause).toMatch(/fell back and the source is the primary again/);
  expect(await one(source, "SELECT COUNT(*) AS n FROM mysql.user WHERE User LIKE 'crossmove\\_repl%'")).toEqual(usersBefore);
  expect(await one(target, "SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'crossmove_load'")).toMatchObject({ n: 1 });

  // Cleanup: replication users, their secrets and crossmove's objects are gone; retention restored.
  const secrets = [ADMIN_PASSWORD, APP_PASSWORD, ...secretValuesIn(join(stateDir, 'secrets'))];
  const cleanup = await runFollowUpLocally('cleanup', 'followup-test', { stateDir });
  expect(cleanup.error).toBeUndefined();
  expect(cleanup.status).toBe('SUCCEEDED');
  for (const server of [source, target]) {
    expect(await one(server, "SELECT COUNT(*) AS n FROM mysql.user WHERE User LIKE 'crossmove\\_repl%'")).toMatchObject({ n: 0 });
    // (The source's fallback_log stays: see below.)
    expect(await one(server, "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'crossmove' AND TABLE_NAME <> 'fallback_log'")).toMatchObject({ n: 0 });
  }
  expect(secretValuesIn(join(stateDir, 'secrets'))).toEqual([]);
  const output = cleanup.output as { cleanupDb: CleanupReport; cleanup: CleanupReport };
  expect(output.cleanupDb.items.some((i) => i.kind === 'replication-user' && i.outcome === 'removed')).toBe(true);
  // The copy's bookkeeping schema is gone from the target; the source keeps only the record of the fallback.
  expect(output.cleanupDb.items.find((i) => i.kind === 'copy-bookkeeping' && i.id.includes('target'))).toMatchObject({ outcome: 'removed' });
  expect(await one(target, "SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'crossmove_load'")).toMatchObject({ n: 0 });
  expect(await one(source, "SELECT GROUP_CONCAT(TABLE_NAME) AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'crossmove'")).toMatchObject({ t: 'fallback_log' });
  // What a person reads lists every item of both halves, database items included.
  const text = followUpText('cleanup', 'followup-test', cleanup);
  const all = [...output.cleanupDb.items, ...output.cleanup.items];
  expect(output.cleanupDb.items.length).toBeGreaterThanOrEqual(10);
  for (const i of all) expect(text).toContain(i.id);
  expect(text.split('\n').filter((l) => /^  (removed|already gone|kept|skipped|stopped|PENDING|BLOCKED) /.test(l))).toHaveLength(all.length);
  expect(text).toMatch(/^cleanup of followup-test: SUCCEEDED, complete: \d+ removed/);

  // A second cleanup finds everything already gone and changes nothing.
  const again = await runFollowUpLocally('cleanup', 'followup-test', { stateDir });
  expect(again.status).toBe('SUCCEEDED');
  const items = (again.output as { cleanupDb: { items: { outcome: string }[] } }).cleanupDb.items;
  expect(items.length).toBeGreaterThan(0);
  expect(items.filter((i) => i.outcome === 'removed')).toEqual([]);

  // Still refused later: the record of the fallback outlives the cleanup.
  const later = await runFollowUpLocally('cleanup', 'followup-test', { stateDir, options: { sourceCluster: 'delete' } });
  expect(later.error).toBe('CleanupRefusedError');

  // The local state is the owner's alone: every folder 0700, every file 0600.
  const mode = (p: string) => statSync(p).mode & 0o777;
  const entries = readdirSync(stateDir, { recursive: true, withFileTypes: true });
  expect(entries.length).toBeGreaterThan(1);
  expect(mode(stateDir)).toBe(0o700);
  for (const e of entries) expect([join(e.parentPath, e.name), mode(join(e.parentPath, e.name))]).toEqual([join(e.parentPath, e.name), e.isDirectory() ? 0o700 : 0o600]);

  // Nothing secret in any payload the follow-up state machines produced.
  expect(secrets.length).toBeGreaterThanOrEqual(3);
  expect(leaks(JSON.stringify([fallback, refused, cleanup, again, later]), secrets)).toEqual([]);
});
