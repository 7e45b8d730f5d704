// Bad input is refused before anything changes, by `plan` and by the first states of `run --local`,
// with the field named: for every input below, both servers are compared before and after the run
// (schemas, users, read_only, replication, binlog retention) and nothing generated a secret.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMariaDb, type MariaDbServer } from '../../local/mariadb.js';
import { runMigrationLocally } from '../../cli/run.js';
import { buildPlan } from '../../cli/plan.js';
import { InputValidationError } from '../../shared/errors.js';
import { clearSecretCache } from '../../shared/secrets.js';
import { readInputFile } from '../../cli/input-file.js';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'crossmove-e2e-bad-input-'));
const secretDir = join(dir, 'secrets');
let source: MariaDbServer;
let target: MariaDbServer;

const ADMIN_ENV = 'CROSSMOVE_BAD_INPUT_ADMIN';
const LIMITED_ENV = 'CROSSMOVE_BAD_INPUT_LIMITED';

beforeAll(async () => {
  [source, target] = await Promise.all([startMariaDb({ serverId: 71, baseDir: dir }), startMariaDb({ serverId: 72, baseDir: dir })]);
  const s = await source.connect();
  await s.query('CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, total DECIMAL(10,2)); INSERT INTO shop.orders VALUES (1, 9.99)');
  // A user that can read the data but is no administrator.
  await s.query("CREATE USER 'reporting'@'%' IDENTIFIED BY 'reporting-pw-1'; GRANT SELECT, SHOW VIEW ON *.* TO 'reporting'@'%'");
  await s.end();
  process.env[ADMIN_ENV] = JSON.stringify(source.admin);
  process.env[LIMITED_ENV] = JSON.stringify({ username: 'reporting', password: 'reporting-pw-1' });
  process.env.CROSSMOVE_SECRET_STORE = `local:${secretDir}`;
});
afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

function validInput(): Record<string, any> {
  return {
    migrationId: 'bad-input',
    source: { endpoint: { host: source.host, port: source.port }, adminSecret: `env:${ADMIN_ENV}` },
    target: { endpoint: { host: target.host, port: target.port }, adminSecret: `env:${ADMIN_ENV}` },
    initialLoad: { method: 'logical', schemas: ['shop'] },
    replication: { ssl: false, pollSeconds: 1, requiredConsecutiveChecks: 1 },
    cutover: { approval: 'auto', writeBlock: { method: 'read-only' } },
  };
}

/** What a migration changes on a server, read back. */
async function serverState(server: MariaDbServer): Promise<Record<string, unknown>> {
  const c = await server.connect();
  try {
    const one = async (sql: string) => ((await c.query<RowDataPacket[]>(sql))[0] as RowDataPacket[]).map((r) => Object.values(r).join(' '));
    return {
      schemas: await one('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY 1'),
      users: await one("SELECT CONCAT(User, '@', Host) FROM mysql.user ORDER BY 1"),
      globals: await one('SELECT @@global.read_only, @@global.binlog_expire_logs_seconds, @@global.expire_logs_days, @@global.event_scheduler'),
      replication: await one('SHOW ALL SLAVES STATUS'),
      tables: await one("SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY 1"),
    };
  } finally {
    await c.end();
  }
}

const both = async () => ({ source: await serverState(source), target: await serverState(target) });
const secretsWritten = () => (existsSync(secretDir) ? readdirSync(secretDir, { recursive: true }) : []);

async function runLocally(input: unknown) {
  clearSecretCache();
  const sink = new PassThrough();
  sink.resume();
  return runMigrationLocally({ input, autoApprove: true, progress: sink as unknown as NodeJS.WriteStream, tty: false, secretDir });
}

/** Runs with no AWS credentials or region reachable, as on a laptop without an AWS setup. */
async function withoutAws<T>(fn: () => Promise<T>): Promise<T> {
  const names = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_EC2_METADATA_DISABLED'];
  const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
  for (const n of names) delete process.env[n];
  Object.assign(process.env, { AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'), AWS_CONFIG_FILE: join(dir, 'none'), AWS_EC2_METADATA_DISABLED: 'true' });
  try {
    return await fn();
  } finally {
    for (const n of names) {
      if (saved[n] === undefined) delete process.env[n];
      else process.env[n] = saved[n];
    }
  }
}

interface Case {
  name: string;
  change: (input: Record<string, any>) => void;
  /** The field the refusal must name. */
  field: string;
  /** Refused by the input schema (else by a preflight check). */
  bySchema: boolean;
  noAws?: boolean;
}

const CASES: Case[] = [
  { name: 'a schema that does not exist on the source', change: (i) => (i.initialLoad.schemas = ['shop', 'nope']), field: 'initialLoad.schemas', bySchema: false },
  { name: 'the mysql schema', change: (i) => (i.initialLoad.schemas = ['mysql']), field: 'initialLoad.schemas', bySchema: true },
  { name: "crossmove's own schema", change: (i) => (i.initialLoad.schemas = ['crossmove']), field: 'initialLoad.schemas', bySchema: true },
  { name: "the copy's marker schema", change: (i) => (i.initialLoad.schemas = ['crossmove_load']), field: 'initialLoad.schemas', bySchema: true },
  { name: 'an injection-shaped schema name', change: (i) => (i.initialLoad.schemas = ['shop`; DROP DATABASE shop; -- ']), field: 'initialLoad.schemas', bySchema: true },
  { name: 'an empty schema list', change: (i) => (i.initialLoad.schemas = []), field: 'initialLoad.schemas', bySchema: true },
  {
    name: 'an injection-shaped replication.sourceHostForTarget',
    change: (i) => (i.replication.sourceHostForTarget = "127.0.0.1', MASTER_PASSWORD='x"),
    field: 'replication.sourceHostForTarget',
    bySchema: true,
  },
  { name: 'an injection-shaped endpoint host', change: (i) => (i.target.endpoint.host = '127.0.0.1; DROP'), field: 'target.endpoint.host', bySchema: true },
  { name: 'an injection-shaped writeBlock.keepUsers entry', change: (i) => (i.cutover.writeBlock.keepUsers = ["app' OR '1'='1"]), field: 'cutover.writeBlock.keepUsers', bySchema: true },
  { name: 'an admin secret of a user that is no administrator', change: (i) => (i.source.adminSecret = `env:${LIMITED_ENV}`), field: 'source.adminSecret', bySchema: false },
  {
    name: 'cutover.dns where Route 53 cannot be reached',
    change: (i) => (i.cutover.dns = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', recordName: 'db.example.com' }),
    field: 'cutover.dns',
    bySchema: false,
    noAws: true,
  },
  { name: 'the same server as source and target', change: (i) => (i.target.endpoint = { ...i.source.endpoint }), field: 'target.endpoint', bySchema: false },
  { name: 'the same server through localhost', change: (i) => (i.target.endpoint = { host: 'localhost', port: i.source.endpoint.port }), field: 'target.endpoint', bySchema: false },
  {
    name: 'a Secrets Manager secret without AWS credentials',
    change: (i) => (i.target.adminSecret = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:crossmove-admin-AbCdEf'),
    field: 'target.adminSecret',
    bySchema: false,
    noAws: true,
  },
];

describe('bad input is refused before any change', () => {
  it('the valid input they are made from passes plan (so each refusal below is the change it names)', async () => {
    const plan = await buildPlan(validInput());
    expect(plan.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(plan.ok).toBe(true);
  });

  it.each(CASES)('$name: named by plan and by run, nothing created on either server', async (c) => {
    const input = validInput();
    c.change(input);
    const before = await both();
    const act = <T>(fn: () => Promise<T>) => (c.noAws ? withoutAws(fn) : fn());

    // plan: the schema refuses (an error naming the field), or a failed check names it.
    const plan = await act(() => buildPlan(input)).catch((err) => err);
    if (c.bySchema) {
      expect(plan).toBeInstanceOf(InputValidationError);
      expect((plan as InputValidationError).issues.map((i) => i.field).join(' ')).toContain(c.field);
    } else {
      expect(plan).not.toBeInstanceOf(Error);
      expect(plan.ok).toBe(false);
      const failed = plan.checks.filter((x: any) => x.status === 'fail');
      expect(failed.map((x: any) => `${x.message} ${x.fix}`).join(' ')).toContain(c.field);
      expect(failed.every((x: any) => x.fix)).toBe(true);
    }

    const report = await act(() => runLocally(input));
    expect(report.ok).toBe(false);
    expect(report.outcome).toBe('failed');
    expect(report.error).toMatch(c.bySchema ? /^InputValidationError$/ : /Error$/);
    expect(report.cause).toContain(c.field);
    expect(report.cause).not.toMatch(/ER_[A-Z_]+|ResultPathMatchFailure|Could not load credentials from any providers$/);
    // Refused in the first states: nothing after "Check the databases" ran (reading the cutover record is read-only).
    const ran = report.steps.map((s) => s.state);
    expect(ran.every((s) => ['Validate the input', 'Read the cutover record on the target', 'Is the target already the primary?', 'Run preflight checks', 'Did the preflight checks pass?', 'Preflight checks failed', 'Check the databases', 'Report the failure', 'Migration failed'].includes(s))).toBe(true);
    expect(report.cutover).toBeNull();

    expect(await both()).toEqual(before);
    expect(secretsWritten()).toEqual([]);
  });
});

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/crossmove.mjs'), ...args], { cwd: dir, env: { ...process.env, CROSSMOVE_SECRET_STORE: `local:${secretDir}` } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end();
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

describe('run --local with an input that is no migration input', () => {
  it.each([
    ['null', 'null\n'],
    ['a JSON array', '[{"migrationId": "x"}]\n'],
    ['a plain string', '"orders"\n'],
  ])('%s: refused when the file is read, before any state machine starts', async (_name, text) => {
    const path = join(dir, 'not-an-input.yaml');
    writeFileSync(path, text);
    const err = (await readInputFile(path).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(InputValidationError);
    expect(err.message).toMatch(/the file .*not-an-input\.yaml must be a YAML mapping or JSON object with migrationId/);
  });

  it('an empty file: `run` and `plan` print what the file must hold and change nothing', async () => {
    const path = join(dir, 'empty.yaml');
    writeFileSync(path, '');
    const before = await both();
    for (const args of [['run', '--local', path], ['plan', path]]) {
      const out = await runCli(args);
      expect(out.code).toBe(1);
      const all = out.stdout + out.stderr;
      expect(all).toMatch(/must be a YAML mapping or JSON object with migrationId.*got nothing \(an empty file or null\)/);
      expect(all).not.toMatch(/ResultPathMatchFailure|undefined/);
    }
    expect(await both()).toEqual(before);
  });

  it('a run that fails validation prints the fields, not a cutover summary', async () => {
    const input = validInput();
    input.migrationId = 'Not Valid';
    const path = join(dir, 'invalid.json');
    writeFileSync(path, JSON.stringify(input));
    const out = await runCli(['run', '--local', path]);
    expect(out.code).toBe(1);
    const all = out.stdout + out.stderr;
    expect(all).toContain('migrationId: must be 1-40 lowercase letters');
    expect(all).not.toMatch(/cutover:|undefined/);
  });
});
