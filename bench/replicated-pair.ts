// For the benchmarks: two fresh MariaDB servers, an application write load on the source, a consistent
// copy and replication from its coordinates, set up through the pipeline's own steps.
import { mkdtempSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, ADMIN_USER, startMariaDb, type MariaDbServer } from '../local/mariadb.js';
import { validateMigrationInput } from '../shared/input/validate.js';
import type { BinlogPosition, MigrationState } from '../shared/state.js';
import { keepBinlogsStep } from '../shared/mysql/steps/keep-binlogs.js';
import { createReplicationUserStep } from '../shared/mysql/steps/create-replication-user.js';
import { startReplicationStep } from '../shared/mysql/steps/start-replication.js';
import { checkReplicationStep } from '../shared/mysql/steps/check-replication.js';
import { prepareLoadSchema, WriteLoad } from '../local/write-load.js';
import { createDataset } from './dataset.js';

export interface Pair {
  source: MariaDbServer;
  target: MariaDbServer;
  state: MigrationState;
  load: WriteLoad;
  stop(): Promise<void>;
}

function dumpAndLoad(source: MariaDbServer, target: MariaDbServer, dbs: string[]): Promise<BinlogPosition> {
  const env = { ...process.env, MYSQL_PWD: ADMIN_PASSWORD };
  return new Promise((resolve, reject) => {
    const dump = spawn('mariadb-dump', ['-h', '127.0.0.1', '-P', String(source.port), '-u', ADMIN_USER, '--single-transaction', '--master-data=2', '--databases', ...dbs], { env });
    let text = '';
    dump.stdout.on('data', (d) => (text += d));
    dump.on('close', (code) => {
      if (code !== 0) return reject(new Error(`mariadb-dump exited ${code}`));
      const m = /MASTER_LOG_FILE='([^']+)', MASTER_LOG_POS=(\d+)/.exec(text);
      if (!m) return reject(new Error('no coordinates in dump'));
      const load = spawn('mariadb', ['-h', '127.0.0.1', '-P', String(target.port), '-u', ADMIN_USER], { env });
      load.on('close', (c) => (c === 0 ? resolve({ file: m[1]!, position: Number(m[2]) }) : reject(new Error(`mariadb exited ${c}`))));
      load.stdin.end(text);
    });
  });
}

/**
 * `rows`: a dataset of that many rows (schema bulk, bench/dataset.ts) on both sides before replication
 * starts, so the comparison and the cutover run on a database of that size.
 */
export async function replicatedPair(run: number, opts: { ratePerSec?: number; cutover?: Record<string, unknown>; rows?: number } = {}): Promise<Pair> {
  process.env.CROSSMOVE_BENCH_ADMIN = JSON.stringify({ username: ADMIN_USER, password: ADMIN_PASSWORD });
  process.env.CROSSMOVE_SECRET_STORE ??= `local:${mkdtempSync(join(tmpdir(), 'crossmove-bench-secrets-'))}`;
  const config = opts.rows ? { innodb_buffer_pool_size: '256M', innodb_log_file_size: '256M' } : undefined;
  const [source, target] = await Promise.all([startMariaDb({ serverId: 100 + run * 2, config }), startMariaDb({ serverId: 101 + run * 2, config })]);
  if (opts.rows) await createDataset([source, target], 'bulk', opts.rows, 2);
  const input = validateMigrationInput({
    migrationId: `bench-${run}`,
    source: { endpoint: { host: source.host, port: source.port }, adminSecret: 'env:CROSSMOVE_BENCH_ADMIN' },
    target: { endpoint: { host: target.host, port: target.port }, adminSecret: 'env:CROSSMOVE_BENCH_ADMIN' },
    initialLoad: { method: 'logical', schemas: opts.rows ? ['app', 'bulk'] : ['app'] },
    replication: { ssl: false, maxLagSeconds: 1 },
    cutover: { approval: 'auto', catchUpTimeoutSeconds: 30, ...(opts.cutover ?? {}) },
  });
  let state: MigrationState = { input, accounts: { source: null, target: null, sameAccount: true, sourceRegion: null, targetRegion: null } };
  const [s, t] = [await source.connect(), await target.connect()];
  await prepareLoadSchema(s);
  await prepareLoadSchema(t, 'app', { user: true, table: false });
  await s.end();
  await t.end();
  state = { ...state, binlogs: await keepBinlogsStep(state) };
  const load = new WriteLoad({ host: source.host, port: source.port, name: 'source' }, { ratePerSec: opts.ratePerSec ?? 200 }).start();
  await new Promise((r) => setTimeout(r, 300));
  const position = await dumpAndLoad(source, target, ['app', 'crossmove']);
  state = { ...state, binlogPosition: { done: true, attempts: 1, status: 'found', position, origin: 'logical-copy' } };
  state = { ...state, replicationUser: await createReplicationUserStep(state) };
  state = { ...state, replication: await startReplicationStep(state) };
  for (let i = 0; i < 200; i++) {
    const lag = await checkReplicationStep(state);
    state = { ...state, lag };
    if (lag.caughtUp) break;
  }
  if (!state.lag?.caughtUp) throw new Error('replication did not catch up');
  return {
    source,
    target,
    state,
    load,
    stop: async () => {
      await load.stop();
      await Promise.all([source.stop(), target.stop()]);
    },
  };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
