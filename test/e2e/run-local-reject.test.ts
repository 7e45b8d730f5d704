// `crossmove run --local` (the real bin, a child process) with the approval rejected at the prompt:
// the execution ends as "approval not given", nothing was cut over, the source still accepts the
// application's writes and replication is left running. Nothing secret in its output either.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startMariaDb, type MariaDbServer } from '../../local/mariadb.js';
import { APP_PASSWORD, APP_USER, prepareLoadSchema } from '../support/write-load.js';
import { leaks, secretValuesIn } from './secrets-scan.js';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'crossmove-e2e-reject-'));
let source: MariaDbServer;
let target: MariaDbServer;

beforeAll(async () => {
  [source, target] = await Promise.all([startMariaDb({ serverId: 61, baseDir: dir }), startMariaDb({ serverId: 62, baseDir: dir })]);
  const s = await source.connect();
  await s.query('CREATE DATABASE inventory; USE inventory; CREATE TABLE inventory.items (id INT PRIMARY KEY, name VARCHAR(30)); INSERT INTO inventory.items SELECT seq, CONCAT("item ", seq) FROM seq_1_to_500');
  await prepareLoadSchema(s, 'app');
  await s.end();
});
afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

function runCli(args: string[], stdin: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/crossmove.mjs'), ...args], { cwd: dir, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(stdin);
    child.on('exit', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

it('a rejected approval cuts nothing over and leaves the source writable', async () => {
  writeFileSync(join(dir, 'source.json'), JSON.stringify(source.admin), { mode: 0o600 });
  process.env.CROSSMOVE_E2E_TARGET = JSON.stringify(target.admin);
  const input = {
    migrationId: 'reject-test',
    source: { endpoint: { host: source.host, port: source.port }, adminSecret: `file:${join(dir, 'source.json')}` },
    target: { endpoint: { host: target.host, port: target.port }, adminSecret: 'env:CROSSMOVE_E2E_TARGET' },
    initialLoad: { method: 'logical' },
    replication: { ssl: false, pollSeconds: 1, requiredConsecutiveChecks: 2 },
    cutover: { approval: 'manual', writeBlock: { method: 'read-only' } },
  };
  writeFileSync(join(dir, 'input.yaml'), `# written by the test\n${JSON.stringify(input, null, 2)}\n`);
  const secretDir = join(dir, 'secrets');

  const run = await runCli(['run', '--local', join(dir, 'input.yaml'), '--json'], 'no\n', { CROSSMOVE_SECRET_STORE: `local:${secretDir}` });

  const lastLine = run.stdout.trim().split('\n').at(-1)!;
  const report = JSON.parse(lastLine);
  expect(report.outcome).toBe('approval-not-given');
  expect(report.ok).toBe(false);
  expect(report.cutover).toBeNull();
  expect(report.initialLoad.rows).toBeGreaterThanOrEqual(500);
  expect(run.code).toBe(2);
  // The prompt showed what the cutover would do.
  expect(run.stderr).toContain('Cut over now? [y/N]');
  expect(run.stderr).toMatch(/Block writes to the source/);

  // The source still takes the application's writes; replication to the target keeps running.
  const s = await source.connect();
  const [[ro]] = (await s.query('SELECT @@global.read_only AS ro')) as [RowDataPacket[], unknown];
  expect(ro!.ro).toBe(0);
  const app = await mysql.createConnection({ host: source.host, port: source.port, user: APP_USER, password: APP_PASSWORD, database: 'app' });
  await app.query("INSERT INTO writes (id, payload, created) VALUES (424242, 'after reject', NOW(6))");
  await app.end();
  const [[pos]] = (await s.query('SHOW MASTER STATUS')) as [RowDataPacket[], unknown];
  const t = await target.connect();
  const [[waited]] = (await t.query('SELECT MASTER_POS_WAIT(?, ?, 20) AS r', [pos!.File, pos!.Position])) as [RowDataPacket[], unknown];
  expect(waited!.r).not.toBeNull();
  const [[replica]] = (await t.query('SHOW SLAVE STATUS')) as [RowDataPacket[], unknown];
  expect(replica!.Slave_SQL_Running).toBe('Yes');
  const [[row]] = (await t.query('SELECT payload FROM app.writes WHERE id = 424242')) as [RowDataPacket[], unknown];
  expect(row!.payload).toBe('after reject');
  await Promise.all([s.end(), t.end()]);

  // No secret in anything the command printed.
  const secrets = [ADMIN_PASSWORD, APP_PASSWORD, ...secretValuesIn(secretDir)];
  expect(secrets.length).toBeGreaterThanOrEqual(3);
  expect(leaks(run.stdout + run.stderr, secrets)).toEqual([]);
});
