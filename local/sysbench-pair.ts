// Two fresh MariaDB servers with sysbench's tables, a sysbench load on the source through a switchable
// endpoint (the application's one address), a consistent copy and replication caught up under that
// load, set up through the pipeline's own steps: where the sysbench benchmark, the demo's tests and
// the scenario tests start a cutover from. switchUnderLoad() runs a cutover or fallback, moves the
// endpoint, and measures what the clients saw.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, ADMIN_USER, startMariaDb, type MariaDbServer } from './mariadb.js';
import { validateMigrationInput } from '../shared/input/validate.js';
import type { BinlogPosition, MigrationState } from '../shared/state.js';
import { keepBinlogsStep } from '../shared/mysql/steps/keep-binlogs.js';
import { createReplicationUserStep } from '../shared/mysql/steps/create-replication-user.js';
import { startReplicationStep } from '../shared/mysql/steps/start-replication.js';
import { checkReplicationStep } from '../shared/mysql/steps/check-replication.js';
import { runDiffLocally } from '../shared/verify/steps.js';
import { backendOf, SwitchableEndpoint, type Backend } from './switchable-endpoint.js';
import { createSysbenchUser, DEFAULT_DATA, prepareSysbench, SYSBENCH_SCHEMA, SYSBENCH_USER, SysbenchLoad, type SysbenchData, type SysbenchLoadOptions, type SysbenchRun } from './sysbench.js';
import { acksAround, checkLedger, clientWindows, errorsByKind, ledgerKeys, tpsBetween, type LedgerCheck } from './sysbench-ledger.js';

export const SYSBENCH_ADMIN_ENV = 'CROSSMOVE_SYSBENCH_ADMIN';

/** How long a new pair waits for replication to catch up under its load. */
const CATCH_UP_MS = 60_000;

export interface SysbenchPairOptions {
  /** Distinguishes servers and the migration id (server ids 2n and 2n+1). */
  n: number;
  threads: number;
  load?: Omit<SysbenchLoadOptions, 'endpoint' | 'threads' | 'data'>;
  data?: SysbenchData;
  /** Overrides of the input's cutover settings (e.g. catchUpTimeoutSeconds). */
  cutover?: Record<string, unknown>;
  /** Extra settings for both servers' my.cnf. */
  config?: Record<string, string | number>;
}

export interface SysbenchPair {
  source: MariaDbServer;
  target: MariaDbServer;
  endpoint: SwitchableEndpoint;
  backends: { source: Backend; target: Backend };
  state: MigrationState;
  load: SysbenchLoad;
  /** Starts another load on the same endpoint and tables (its own ledger run number). */
  startLoad(options?: Partial<SysbenchLoadOptions>): SysbenchLoad;
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

export async function sysbenchPair(opts: SysbenchPairOptions): Promise<SysbenchPair> {
  process.env[SYSBENCH_ADMIN_ENV] = JSON.stringify({ username: ADMIN_USER, password: ADMIN_PASSWORD });
  process.env.CROSSMOVE_SECRET_STORE ??= `local:${mkdtempSync(join(tmpdir(), 'crossmove-sysbench-secrets-'))}`;
  const [source, target] = await Promise.all([
    startMariaDb({ serverId: 2 * opts.n, config: opts.config }),
    startMariaDb({ serverId: 2 * opts.n + 1, config: opts.config }),
  ]);
  const backends = { source: backendOf('source', source), target: backendOf('target', target) };
  const endpoint = await SwitchableEndpoint.start(backends.source, SYSBENCH_USER);
  const loads: SysbenchLoad[] = [];
  const stop = async () => {
    await Promise.all(loads.map((l) => l.stop().catch(() => undefined)));
    await endpoint.close();
    await Promise.all([source.stop(), target.stop()]);
  };
  try {
    const input = validateMigrationInput({
      migrationId: `sysbench-${opts.n}`,
      source: { endpoint: { host: source.host, port: source.port }, adminSecret: `env:${SYSBENCH_ADMIN_ENV}` },
      target: { endpoint: { host: target.host, port: target.port }, adminSecret: `env:${SYSBENCH_ADMIN_ENV}` },
      initialLoad: { method: 'logical', schemas: [SYSBENCH_SCHEMA] },
      // A lag limit that a loaded machine (2 shared cores, the target's one SQL thread behind 64
      // clients) does not trip by accident; the catch-up still has to fit the cutover's budget.
      replication: { ssl: false, maxLagSeconds: 2 },
      cutover: { approval: 'auto', catchUpTimeoutSeconds: 30, ...(opts.cutover ?? {}) },
    });
    let state: MigrationState = { input, accounts: { source: null, target: null, sameAccount: true, sourceRegion: null, targetRegion: null } };
    const [s, t] = [await source.connect(), await target.connect()];
    try {
      await prepareSysbench(source, s, opts.data ?? DEFAULT_DATA);
      // A table for the batch jobs the scenarios run (INSERT ... SELECT).
      await s.query(`CREATE TABLE IF NOT EXISTS \`${SYSBENCH_SCHEMA}\`.sbtest_batch LIKE \`${SYSBENCH_SCHEMA}\`.sbtest1`);
      await createSysbenchUser(t);
    } finally {
      await s.end();
      await t.end();
    }
    state = { ...state, binlogs: await keepBinlogsStep(state) };
    let nextRun = 1;
    const startLoad = (o: Partial<SysbenchLoadOptions> = {}) => {
      const load = SysbenchLoad.start({ threads: opts.threads, data: opts.data, ...opts.load, ...o, endpoint, run: o.run ?? nextRun++ });
      loads.push(load);
      return load;
    };
    const load = startLoad();
    await load.untilAcked(100);
    const position = await dumpAndLoad(source, target, [SYSBENCH_SCHEMA, input.names.heartbeatSchema]);
    state = { ...state, binlogPosition: { done: true, attempts: 1, status: 'found', position, origin: 'logical-copy' } };
    state = { ...state, replicationUser: await createReplicationUserStep(state) };
    state = { ...state, replication: await startReplicationStep(state) };
    // Bounded: a load faster than the target's replication applies never catches up, and a benchmark
    // that waits for it silently prints nothing (a 10 min run did).
    const catchUpBy = Date.now() + CATCH_UP_MS;
    while (Date.now() < catchUpBy) {
      const lag = await checkReplicationStep(state);
      state = { ...state, lag };
      if (lag.caughtUp) break;
    }
    if (!state.lag?.caughtUp) {
      throw new Error(
        `replication did not catch up within ${CATCH_UP_MS / 1000} s under ${opts.threads} sysbench threads at ${opts.load?.rate ? `${opts.load.rate} tx/s` : 'full rate'} ` +
          `(lag ${state.lag?.secondsBehind ?? 'unknown'} s, limit ${input.replication.maxLagSeconds} s): the target applies slower than the clients write on this machine; ` +
          `give a lower --rate (or fewer --threads), or measure when the machine is quiet`,
      );
    }
    // As the state machine does before the approval (cutover.verify diff, the default): the data compared
    // under the load, so that the block re-checks only the rows still changing then.
    if (input.cutover.verify === 'diff') {
      const { summary } = await runDiffLocally(state);
      if (summary.verdict !== 'clean') throw new Error(`the comparison before the cutover found differences on a fresh pair: ${JSON.stringify(summary).slice(0, 500)}`);
      state = { ...state, diff: summary };
    }
    return { source, target, endpoint, backends, state, load, startLoad, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface SwitchFigures {
  /** The cutover/fallback result, or the error it threw (a rollback). */
  outcome: { ok: true; result: unknown } | { ok: false; error: Error };
  /** Epoch ms when the switch (or its rollback) returned: no client can commit at that instant. */
  at: number;
  /** How long the action (the whole cutover or fallback step) took, and then pointing the endpoint at the new primary. */
  actionMs: number;
  endpointMs: number;
  /** Per client thread: from the start of its attempt that committed first after `at` to that commit (ms; sysbench-ledger clientWindows). */
  windows: number[];
  /** Per client thread: last acknowledged transaction before `at` to first after (ms), idle time included. */
  gaps: number[];
  /** Client threads that committed before but not after. */
  neverBack: number;
  /** What each thread that never committed again did last (relative to `at`), to tell a stuck client from a slow one. */
  neverBackTraces: string[];
  tpsBefore: number;
  tpsAfter: number;
  /** Client errors from the start of the switch to the end of the run, by kind. */
  errors: Record<string, number>;
  ledger: LedgerCheck;
  run: SysbenchRun;
}

/**
 * Runs `action` (a cutover or fallback) under `load`, then points the endpoint at `after` when the
 * action succeeded (a rollback leaves it where it was), lets the load run on for `afterMs`, stops it
 * and checks the ledger against the primary of the end.
 */
export async function switchUnderLoad(
  pair: SysbenchPair,
  load: SysbenchLoad,
  action: () => Promise<unknown>,
  opts: { after: 'source' | 'target'; steadyMs?: number; afterMs?: number },
): Promise<SwitchFigures> {
  const steadyMs = opts.steadyMs ?? 2000;
  await new Promise((r) => setTimeout(r, steadyMs));
  const started = Date.now();
  let outcome: SwitchFigures['outcome'];
  let actionMs = 0;
  try {
    outcome = { ok: true, result: await action() };
    actionMs = Date.now() - started;
    await pair.endpoint.switchTo(pair.backends[opts.after]);
  } catch (error) {
    outcome = { ok: false, error: error as Error };
    actionMs = Date.now() - started;
  }
  const at = Date.now();
  // At least one transaction on the primary of the end, then the rate there.
  await load.untilAcked(1, at, 20_000).catch(() => undefined);
  await new Promise((r) => setTimeout(r, opts.afterMs ?? 1500));
  const afterEnd = Date.now();
  const run = await load.stop();
  const primary = outcome.ok ? pair[opts.after] : opts.after === 'target' ? pair.source : pair.target;
  const conn = await primary.connect();
  let onServer: Set<string>;
  try {
    onServer = await ledgerKeys(conn, [run.run]);
  } finally {
    await conn.end();
  }
  const { windows, gaps, neverBack } = clientWindows(run.logs, at);
  return {
    outcome,
    at,
    actionMs,
    endpointMs: at - started - actionMs,
    windows,
    gaps,
    neverBack,
    neverBackTraces: run.logs
      .filter((l) => {
        const { before, after } = acksAround(l, at);
        return before !== undefined && after === undefined;
      })
      .map((l) => lastActivity(l, at)),
    tpsBefore: tpsBetween(run.logs, started - steadyMs, started),
    tpsAfter: tpsBetween(run.logs, at + 200, afterEnd),
    errors: errorsByKind(run.logs, started),
    ledger: checkLedger(run.logs, onServer),
    run,
  };
}

/**
 * For a forced rollback, run right before the block: an admin transaction on the target locks every
 * sysbench row, so its SQL thread (running) stalls on the next replicated transaction, and the source
 * commits past what the target executed (the clients write until the block): the catch-up cannot
 * finish within the budget. Returns the release.
 */
export async function stallTarget(pair: Pick<SysbenchPair, 'source' | 'target'>, data: SysbenchData = DEFAULT_DATA): Promise<() => Promise<void>> {
  const [s, t] = [await pair.source.connect(), await pair.target.connect()];
  const release = async () => {
    await t.query('ROLLBACK').catch(() => undefined);
    await t.end().catch(() => t.destroy());
  };
  try {
    await t.query('BEGIN');
    for (let i = 1; i <= data.tables; i++) await t.query(`SELECT COUNT(*) FROM (SELECT id FROM \`${SYSBENCH_SCHEMA}\`.sbtest${i} FOR UPDATE) AS locked`);
    const [[replica]] = (await s.query('SHOW MASTER STATUS')) as unknown as [Record<string, string>[]];
    const end = Date.now() + 10_000;
    // Past this position the source has committed what the target cannot apply.
    for (;;) {
      const [[now]] = (await s.query('SHOW MASTER STATUS')) as unknown as [Record<string, string>[]];
      if (now!.File !== replica!.File || Number(now!.Position) > Number(replica!.Position)) return release;
      if (Date.now() > end) throw new Error('the source committed nothing within 10 s (is the load running?)');
      await new Promise((r) => setTimeout(r, 2));
    }
  } catch (err) {
    await release();
    throw err;
  } finally {
    await s.end();
  }
}

/** A thread's last begin, COMMIT and error, in ms relative to `at` (negative: before). */
function lastActivity(l: SysbenchRun['logs'][number], at: number): string {
  const rel = (t: number) => `${t - at >= 0 ? '+' : ''}${Math.round(t - at)} ms`;
  const began = l.begun.at(-1);
  const error = l.errors.at(-1);
  const acked = l.acked.at(-1);
  return [
    `thread ${l.thread}:`,
    acked ? `last commit ${rel(acked.at)}` : 'no commit',
    began ? `last began seq ${began.seq} ${rel(began.at)}` : 'no begin line',
    error ? `last error ${error.errno} (${error.stage}) seq ${error.seq} ${rel(error.at)}, ${l.errors.filter((e) => e.at > at).length} errors after the switch` : 'no error',
  ].join(' ');
}
