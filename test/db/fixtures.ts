// Shared by the db tests: servers, a migration state pointing at them, a consistent copy with its
// binlog coordinates (mariadb-dump --single-transaction --master-data=2, the real logical copy is
// another step's job), and the runs of real steps most tests start from (replication caught up under a
// write load; a cutover with reverse replication).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, ADMIN_USER, startMariaDb, type MariaDbServer } from '../../local/mariadb.js';
import { handler as keepBinlogs } from '../../handlers/keep-binlogs.js';
import { handler as createReplicationUser } from '../../handlers/create-replication-user.js';
import { handler as startReplication } from '../../handlers/start-replication.js';
import { handler as checkReplication } from '../../handlers/check-replication.js';
import { handler as cutOver } from '../../handlers/cut-over.js';
import { handler as startReverseReplication } from '../../handlers/start-reverse-replication.js';
import { handler as prepareFrozenSource } from '../../handlers/prepare-frozen-source.js';
import { handler as planCopy } from '../../handlers/plan-copy.js';
import { handler as copyChunks } from '../../handlers/copy-chunks.js';
import { handler as checkCopy } from '../../handlers/check-copy.js';
import { handler as finishCopy } from '../../handlers/finish-copy.js';
import { localLambdaContext } from '../../shared/handler.js';
import { validateMigrationInput } from '../../shared/input/validate.js';
import type { BinlogPosition, CopyFinishResult, CopyPlanResult, CopyProgressState, CutoverResult, FrozenSourceState, MigrationState, ReplicationCheck } from '../../shared/state.js';
import { prepareLoadSchema, WriteLoad } from '../support/write-load.js';

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
    // A lag limit that a loaded CI machine cannot trip by accident (lag-limit tests set their own).
    replication: { ssl: false, maxLagSeconds: 5, requiredConsecutiveChecks: 2, ...(overrides.replication ?? {}) },
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

/**
 * The logical path's copy steps as the state machine runs them, each through its real handler:
 * "Prepare the frozen source", "Plan the copy", rounds of every worker slot ("Copy chunks until the
 * time budget") each followed by "Check the copy", and "Finish the copy" until done; then the copy's
 * position as $.binlogPosition, as "Use the copy's binlog position" sets it.
 */
export async function copyLogically(state: MigrationState): Promise<MigrationState> {
  let next: MigrationState = { ...state, frozenSource: await invoke<FrozenSourceState>(prepareFrozenSource, state) };
  next = { ...next, copyPlan: await invoke<CopyPlanResult>(planCopy, next) };
  for (let round = 0; round < 100 && !next.copy?.done; round++) {
    const slots = Array.from({ length: next.input.initialLoad.parallelism }, (_, i) => i + 1);
    await Promise.all(slots.map((worker) => invoke(copyChunks, { worker, input: next.input, accounts: next.accounts, frozenSource: next.frozenSource, copyPlan: next.copyPlan })));
    next = { ...next, copy: await invoke<CopyProgressState>(checkCopy, next) };
  }
  do next = { ...next, logicalCopy: await invoke<CopyFinishResult>(finishCopy, next) };
  while (!next.logicalCopy!.done);
  return { ...next, binlogPosition: { done: true, attempts: 1, status: 'copied', position: next.logicalCopy!.position!, origin: 'logical-copy' } };
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

/** Runs statements on a server through a fresh admin connection. */
export async function sql(server: MariaDbServer, text: string, params: unknown[] = []): Promise<void> {
  const c = await server.connect();
  try {
    await c.query(text, params);
  } finally {
    await c.end();
  }
}

/** The load's schema and table on the source (then `sourceSql`), its user on the target (the copy brings the table). */
export async function prepareApp(source: MariaDbServer, target: MariaDbServer, sourceSql: string[] = []): Promise<void> {
  const [s, t] = [await source.connect(), await target.connect()];
  try {
    await prepareLoadSchema(s);
    await prepareLoadSchema(t, 'app', { user: true, table: false });
    for (const text of sourceSql) await s.query(text);
  } finally {
    await s.end();
    await t.end();
  }
}

/** Keeps binlogs and creates the replication user: the steps before any copy. */
export async function beforeCopy(state: MigrationState): Promise<MigrationState> {
  const withBinlogs = { ...state, binlogs: await invoke<MigrationState['binlogs']>(keepBinlogs, state) };
  return { ...withBinlogs, replicationUser: await invoke<MigrationState['replicationUser']>(createReplicationUser, withBinlogs) };
}

/**
 * The state right before "Cut over": binlogs kept, a write load on the source (`ackedBefore` writes
 * acknowledged), a consistent copy of app and crossmove, the replication user, replication started and
 * checked until caught up (or only under the limit).
 */
export async function replicateUnderLoad(
  initial: MigrationState,
  source: MariaDbServer,
  target: MariaDbServer,
  opts: { ratePerSec: number; ackedBefore: number; until?: 'caughtUp' | 'underLimit' },
): Promise<{ state: MigrationState; load: WriteLoad }> {
  let state = { ...initial, binlogs: await invoke<MigrationState['binlogs']>(keepBinlogs, initial) };
  const load = new WriteLoad({ host: source.host, port: source.port, name: 'source' }, { ratePerSec: opts.ratePerSec }).start();
  await until(async () => load.acked.length > opts.ackedBefore);
  const position = await consistentCopy(source, target, ['app', 'crossmove']);
  state = { ...state, binlogPosition: { done: true, attempts: 1, status: 'found', position, origin: 'logical-copy' } };
  state = { ...state, replicationUser: await invoke(createReplicationUser, state) };
  state = { ...state, replication: await invoke(startReplication, state) };
  await until(async () => {
    const lag = await invoke<ReplicationCheck>(checkReplication, state);
    state = { ...state, lag };
    return opts.until === 'underLimit' ? lag.underLimit : lag.caughtUp;
  }, 30_000, 50);
  return { state, load };
}

/** A real cutover, the load moved to the target, reverse replication started, `targetWrites` writes acknowledged there. */
export async function cutOverAndReverse(state: MigrationState, load: WriteLoad, target: MariaDbServer, targetWrites: number): Promise<MigrationState> {
  let next = { ...state, cutover: await invoke<CutoverResult>(cutOver, state) };
  load.repoint({ host: target.host, port: target.port, name: 'target' });
  next = { ...next, reverse: await invoke(startReverseReplication, next) };
  await until(async () => load.ackedIds('target').length > targetWrites, 20_000);
  return next;
}

/** Rotates the binlog and purges until `file` is gone (MariaDB keeps a binlog until its InnoDB checkpoint moved on, asynchronously). */
export async function purgeBinlogsPast(server: MariaDbServer, file: string): Promise<void> {
  await sql(server, 'FLUSH BINARY LOGS');
  const c = await server.connect();
  try {
    await until(async () => {
      const [[status]] = (await c.query('SHOW MASTER STATUS')) as any;
      await c.query('PURGE BINARY LOGS TO ?', [status.File]);
      const [logs] = (await c.query('SHOW BINARY LOGS')) as any;
      return !(logs as { Log_name: string }[]).some((l) => l.Log_name === file);
    }, 10_000, 100);
  } finally {
    await c.end();
  }
}

/**
 * A new consistent copy of app (the target's replication reset and app dropped by the caller) and,
 * unless `start` is false, replication from its coordinates checked until under the limit: what
 * re-running the migration does.
 */
export async function recopy(state: MigrationState, source: MariaDbServer, target: MariaDbServer, opts: { start?: boolean } = {}): Promise<MigrationState> {
  const position = await consistentCopy(source, target, ['app']);
  let next: MigrationState = { ...state, lag: undefined, binlogPosition: { done: true, attempts: 1, status: 'found', position, origin: 'logical-copy' } };
  if (opts.start === false) return next;
  next = { ...next, replication: await invoke(startReplication, next) };
  await until(async () => (await invoke<ReplicationCheck>(checkReplication, next)).underLimit, 30_000, 50);
  return next;
}

/**
 * Makes this migration's cutover and fallback markers on `server` an hour old: the attempt that wrote
 * them is then taken as dead (the in-progress lease, shared/mysql/switch-plan.ts assertAttemptEnded),
 * as it is for a Lambda that died long enough ago.
 */
export async function ageMarkers(server: MariaDbServer, migrationId: string): Promise<void> {
  const c = await server.connect();
  try {
    await c.query('SET SESSION sql_log_bin = 0');
    for (const table of ['cutover_log', 'fallback_log']) {
      await c.query(`UPDATE crossmove.${table} SET at = at - INTERVAL 1 HOUR WHERE migration_id = ?`, [migrationId]).catch((err: Error) => {
        if (!/1146|doesn't exist/.test(err.message)) throw err;
      });
    }
  } finally {
    await c.end();
  }
}
