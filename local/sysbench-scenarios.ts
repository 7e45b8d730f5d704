// The cutover (and the fallback) under a sysbench load, in the situations DBAs fear on cutover day:
// steady OLTP at full rate, an idle transaction holding rows, long write statements in flight, a long
// report in flight, clients that storm the blocked server with new connections, a catch-up that cannot
// finish (rollback), and the way back. Each scenario runs on a fresh pair and returns what the clients
// saw and what the servers kept. Used by `npm run bench:cutover -- --workload sysbench`.
import { cutOverStep } from '../shared/mysql/steps/cut-over.js';
import { startReverseReplicationStep } from '../shared/mysql/steps/start-reverse-replication.js';
import { fallBackStep } from '../shared/mysql/steps/fall-back.js';
import type { CutoverResult, FallbackResult, MigrationState } from '../shared/state.js';
import { idleTransaction, longRead, longWrite, markedRows, type Actor, type ActorOutcome } from './sysbench-actors.js';
import { stallTarget, sysbenchPair, switchUnderLoad, type SysbenchPair } from './sysbench-pair.js';
import { DEFAULT_DATA, type AppEndpoint, type OltpScript, type SysbenchData, type SysbenchLoadOptions } from './sysbench.js';

export const SCENARIO_NAMES = ['steady', 'idle-transaction', 'long-statement', 'long-read', 'connection-storm', 'forced-rollback', 'fallback'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

interface Scenario {
  load?: Partial<SysbenchLoadOptions>;
  cutover?: Record<string, unknown>;
  actors?: (endpoint: AppEndpoint, data: SysbenchData) => Promise<Actor[]>;
  /** Stall the target's SQL thread right before the block: the catch-up cannot finish. */
  forceRollback?: boolean;
  fallback?: boolean;
}

const SCENARIOS: Record<ScenarioName, Scenario> = {
  steady: {},
  'idle-transaction': { actors: async (e, d) => [await idleTransaction(e, d.tableSize)] },
  'long-statement': {
    actors: async (e, d) => [await longWrite(e, 'update', 20, d.tableSize), await longWrite(e, 'insert-select', 20, d.tableSize)],
  },
  'long-read': { actors: async (e, d) => [await longRead(e, 20, d.tableSize)] },
  // Every failed transaction is retried at once on a new connection.
  'connection-storm': { load: { replaceConnectionOn: 'all', retryPauseMs: 0 } },
  'forced-rollback': { forceRollback: true, cutover: { catchUpTimeoutSeconds: 2 } },
  fallback: { fallback: true },
};

/**
 * The README's bound for a rollback: writes blocked no longer than cutover.catchUpTimeoutSeconds, the
 * source writable again within milliseconds of it. A client's window also holds its own retry and
 * commit; past this much more than the budget the scenario reports a problem.
 */
export const ROLLBACK_SLACK_MS = 1000;

export interface ScenarioOptions {
  threads: number;
  script?: OltpScript;
  /** Transactions/s for the whole load (0: as fast as it goes). */
  rate?: number;
  data?: SysbenchData;
  /** Pair number (server ids), distinct per run. */
  n: number;
  /** The clients' CPU priority (SysbenchLoadOptions.nice). */
  nice?: number;
  /** Input overrides for every scenario (e.g. verify). */
  cutover?: Record<string, unknown>;
}

export interface ScenarioReport {
  name: ScenarioName;
  threads: number;
  ok: boolean;
  rolledBack: boolean;
  /** What went wrong, in plain words (empty when the scenario met every expectation). */
  problems: string[];
  tpsBefore: number;
  tpsAfter: number;
  /** cutover.catchUpTimeoutSeconds in ms: a rollback must give the writes back within it (plus ROLLBACK_SLACK_MS). */
  budgetMs: number;
  windows: number[];
  /** Commit-to-commit gaps across the switch, the threads' idle time between transactions included. */
  gaps: number[];
  neverBack: number;
  lostRows: number;
  halfCommitted: number;
  unknownOutcome: { committed: number; notCommitted: number };
  errors: Record<string, number>;
  writeBlockedMs: number | null;
  /** The whole cutover/fallback step, and then pointing the application's endpoint at the new primary (ms). */
  actionMs: number;
  endpointMs: number;
  steps: { step: string; ms: number }[];
  actors: { name: string; outcome: ActorOutcome; tracesOnNewPrimary: number }[];
  error?: string;
}

export async function runScenario(name: ScenarioName, opts: ScenarioOptions): Promise<ScenarioReport> {
  const sc = SCENARIOS[name];
  const data = opts.data ?? DEFAULT_DATA;
  const pair = await sysbenchPair({
    n: opts.n,
    threads: opts.threads,
    data,
    load: { script: opts.script, rate: opts.rate, nice: opts.nice, ...sc.load },
    cutover: { ...opts.cutover, ...sc.cutover },
  });
  try {
    return sc.fallback ? await fallbackUnderLoad(name, pair, opts) : await cutoverUnderLoad(name, sc, pair, opts, data);
  } finally {
    await pair.stop();
  }
}

async function cutoverUnderLoad(name: ScenarioName, sc: Scenario, pair: SysbenchPair, opts: ScenarioOptions, data: SysbenchData): Promise<ScenarioReport> {
  await new Promise((r) => setTimeout(r, 1500)); // steady load first
  const actors = sc.actors ? await sc.actors(pair.endpoint, data) : [];
  let release: (() => Promise<void>) | undefined;
  const stall = async () => void (release = await stallTarget(pair, data));
  const figures = await switchUnderLoad(pair, pair.load, () => cutOverStep(pair.state, sc.forceRollback ? { beforeBlock: stall } : {}), {
    after: 'target',
    steadyMs: actors.length ? 500 : 1000,
  });
  await release?.();
  const newPrimary = figures.outcome.ok ? pair.target : pair.source;
  return report(name, opts, figures, actors, newPrimary, { expectRollback: Boolean(sc.forceRollback), budgetMs: budgetOf(pair.state) });
}

async function fallbackUnderLoad(name: ScenarioName, pair: SysbenchPair, opts: ScenarioOptions): Promise<ScenarioReport> {
  // Cut over (not measured), the clients follow, reverse replication carries their writes back.
  let state: MigrationState = pair.state;
  await new Promise((r) => setTimeout(r, 1000));
  state = { ...state, cutover: await cutOverStep(state) };
  await pair.endpoint.switchTo(pair.backends.target);
  state = { ...state, reverse: await startReverseReplicationStep(state) };
  const figures = await switchUnderLoad(pair, pair.load, () => fallBackStep(state), { after: 'source', steadyMs: 1500 });
  return report(name, opts, figures, [], figures.outcome.ok ? pair.source : pair.target, { expectRollback: false, budgetMs: budgetOf(state) });
}

const budgetOf = (state: MigrationState) => state.input.cutover.catchUpTimeoutSeconds * 1000;

async function report(
  name: ScenarioName,
  opts: ScenarioOptions,
  f: Awaited<ReturnType<typeof switchUnderLoad>>,
  actors: Actor[],
  newPrimary: SysbenchPair['source'],
  expect: { expectRollback: boolean; budgetMs: number },
): Promise<ScenarioReport> {
  const result = f.outcome.ok ? (f.outcome.result as CutoverResult | FallbackResult) : null;
  const rolledBack = !f.outcome.ok && /RolledBackError$/.test(f.outcome.error.name);
  const outcomes = await Promise.all(actors.map((a) => a.outcome()));
  const admin = await newPrimary.connect();
  const traced: ScenarioReport['actors'] = [];
  try {
    for (const [i, a] of actors.entries()) {
      traced.push({ name: a.name, outcome: outcomes[i]!, tracesOnNewPrimary: a.marker ? await markedRows(admin, a.marker) : 0 });
    }
  } finally {
    await admin.end();
  }
  const problems = [
    ...(f.outcome.ok === !expect.expectRollback ? [] : [f.outcome.ok ? 'the cutover was expected to roll back but switched' : `failed: ${f.outcome.error.name}: ${f.outcome.error.message}`]),
    ...(!f.outcome.ok && !rolledBack ? [`ended with ${f.outcome.error.name}, not a rollback`] : []),
    ...(f.ledger.lost.length ? [`${f.ledger.lost.length} acknowledged transactions lost`] : []),
    ...(f.ledger.halfCommitted.length ? [`${f.ledger.halfCommitted.length} transactions committed that no client committed`] : []),
    ...(f.neverBack ? [`${f.neverBack} client threads never committed again (${f.neverBackTraces.join('; ')})`] : []),
    ...(rolledBack && maxOf(f.windows) > expect.budgetMs + ROLLBACK_SLACK_MS
      ? [`after the rollback a client waited ${Math.round(maxOf(f.windows))} ms to commit again, more than the ${expect.budgetMs} ms budget + ${ROLLBACK_SLACK_MS} ms`]
      : []),
    // An actor that did not commit must leave nothing; one that did must be all there (its rows carry its marker).
    ...traced.filter((a) => !a.outcome.ok && a.tracesOnNewPrimary > 0).map((a) => `${a.name}: ${a.tracesOnNewPrimary} rows of it survived although it did not commit`),
  ];
  return {
    name,
    threads: opts.threads,
    ok: problems.length === 0,
    rolledBack,
    problems,
    tpsBefore: f.tpsBefore,
    tpsAfter: f.tpsAfter,
    budgetMs: expect.budgetMs,
    windows: f.windows,
    gaps: f.gaps,
    neverBack: f.neverBack,
    lostRows: f.ledger.lost.length,
    halfCommitted: f.ledger.halfCommitted.length,
    unknownOutcome: f.ledger.unknownOutcome,
    errors: f.errors,
    writeBlockedMs: result?.writeBlockedMs ?? null,
    actionMs: f.actionMs,
    endpointMs: f.endpointMs,
    steps: result?.steps ?? [],
    actors: traced,
    ...(f.outcome.ok ? {} : { error: `${f.outcome.error.name}: ${f.outcome.error.message}` }),
  };
}

const maxOf = (xs: number[]) => (xs.length ? Math.max(...xs) : 0);
