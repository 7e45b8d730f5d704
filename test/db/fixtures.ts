// Shared by the db tests: servers, a migration state pointing at them, and a consistent copy with its
// binlog coordinates (mariadb-dump --single-transaction --master-data=2, the real logical copy is
// another step's job).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, ADMIN_USER, startMariaDb, type MariaDbServer } from '../../local/mariadb.js';
import { localLambdaContext } from '../../shared/handler.js';
import { validateMigrationInput } from '../../shared/input/validate.js';
import type { BinlogPosition, MigrationState } from '../../shared/state.js';

export const ADMIN_SECRET_ENV = 'CROSSMOVE_TEST_DB_ADMIN';

export function useLocalSecrets(): void {
  process.env[ADMIN_SECRET_ENV] = JSON.stringify({ username: ADMIN_USER, password: ADMIN_PASSWORD });
  process.env.CROSSMOVE_SECRET_STORE = `local:${mkdtempSync(join(tmpdir(), 'crossmove-secrets-'))}`;
}

export async function startServers(count: number, base = 1): Promise<MariaDbServer[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => startMariaDb({ serverId: base + i })));
}

export function stateFor(source: MariaDbServer, target: MariaDbServer, overrides: Record<string, any> = {}): MigrationState {
  const input = validateMigrationInput({
    migrationId: overrides.migrationId ?? 'db-test',
    source: { endpoint: { host: source.host, port: source.port }, adminSecret: `env:${ADMIN_SECRET_ENV}`, ...(overrides.source ?? {}) },
    target: { endpoint: { host: target.host, port: target.port }, adminSecret: `env:${ADMIN_SECRET_ENV}`, ...(overrides.target ?? {}) },
    initialLoad: { method: 'logical', schemas: ['app'] },
    replication: { ssl: false, maxLagSeconds: 1, requiredConsecutiveChecks: 2, ...(overrides.replication ?? {}) },
    cutover: { approval: 'auto', catchUpTimeoutSeconds: 10, ...(overrides.cutover ?? {}) },
  });
  return { input, accounts: { source: null, target: null, sameAccount: true, sourceRegion: null, targetRegion: null } };
}

function run(cmd: string, args: string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, MYSQL_PWD: ADMIN_PASSWORD } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${err}`))));
    if (stdin !== undefined) child.stdin.end(stdin);
  });
}

/** Copies `databases` from source to target at one consistent point; returns its binlog coordinates. */
export async function consistentCopy(source: MariaDbServer, target: MariaDbServer, databases: string[]): Promise<BinlogPosition> {
  const conn = ['-h', '127.0.0.1', '-u', ADMIN_USER];
  const dump = await run('mariadb-dump', [...conn, '-P', String(source.port), '--single-transaction', '--master-data=2', '--databases', ...databases]);
  const m = /CHANGE MASTER TO MASTER_LOG_FILE='([^']+)', MASTER_LOG_POS=(\d+)/.exec(dump);
  if (!m) throw new Error('no coordinates in the dump');
  await run('mariadb', [...conn, '-P', String(target.port)], dump);
  return { file: m[1]!, position: Number(m[2]) };
}

/** Invokes a handler the way Lambda would (through the middy wrapper). */
export async function invoke<T>(handler: (event: any, ctx: any) => Promise<unknown>, event: unknown, name = 'test'): Promise<T> {
  return (await handler(event, localLambdaContext(name))) as T;
}

export async function until<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function slaveStatus(server: MariaDbServer): Promise<Record<string, any> | undefined> {
  const c = await server.connect();
  try {
    const [rows] = await c.query('SHOW SLAVE STATUS');
    return (rows as Record<string, any>[])[0];
  } finally {
    await c.end();
  }
}

export async function scalar<T = unknown>(server: MariaDbServer, sql: string, params: unknown[] = []): Promise<T> {
  const c = await server.connect();
  try {
    const [rows] = await c.query(sql, params);
    const row = (rows as Record<string, unknown>[])[0];
    return (row ? Object.values(row)[0] : undefined) as T;
  } finally {
    await c.end();
  }
}
