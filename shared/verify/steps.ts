// The comparison's three steps, as the state machine calls them (statemachine/verify.asl.yaml):
//   "Plan the comparison"   planDiffStep       -> $.diffPlan (the job, the endpoints, counts)
//   "Compare chunks ..."    compareChunksStep  one Map iteration: {worker, job, input, accounts, diffPlan}
//   "Check the comparison"  checkDiffStep      -> $.diff (progress and the capped report)
// and runDiffLocally, the same steps in this process (the CLI's `verify --local`, benchmarks, tests).
import type { MigrationInput } from '../input/validate.js';
import type { Accounts, MigrationState } from '../state.js';
import type { Budget } from '../chunks/budget.js';
import { fixedBudget } from '../chunks/budget.js';
import { CursorStore } from '../chunks/cursor-store.js';
import { closeQuietly, openConnection } from '../mysql/connection.js';
import { resolveDialect } from '../mysql/dialect.js';
import { sourceAdminCredentials, targetAdminCredentials } from '../db-credentials.js';
import { planDiff, type DiffPlan } from './diff-plan.js';
import { compareChunks, type WorkerResult } from './diff-worker.js';
import { diffSummary, STATE_LIMITS, type DiffSummary, type SummaryLimits } from './diff-report.js';
import { closeDiffSessions, diffEndpoints, openDiffSessions, prepareSession, type DiffEndpoints } from './sessions.js';

export interface DiffPlanState extends DiffPlan {
  endpoints: DiffEndpoints;
}

export type DiffState = MigrationState;

export interface CompareChunksEvent {
  worker: number;
  job: string;
  input: MigrationInput;
  accounts: Accounts;
  diffPlan: Pick<DiffPlanState, 'endpoints'>;
}

export async function planDiffStep(state: DiffState): Promise<DiffPlanState> {
  const endpoints = diffEndpoints(state);
  const [sc, tc] = await Promise.all([sourceAdminCredentials(state), targetAdminCredentials(state)]);
  const source = await openConnection(endpoints.source, sc);
  const target = await openConnection(endpoints.target, tc).catch(async (err) => {
    await closeQuietly(source);
    throw err;
  });
  try {
    await prepareSession(source);
    await prepareSession(target);
    const [sourceDialect, targetDialect] = [await resolveDialect(source, state.input.source.engine), await resolveDialect(target, state.input.target.engine)];
    const family = (e: string) => (e === 'mariadb' ? 'mariadb' : 'mysql');
    const plan = await planDiff(
      { source, target, sourceDialect, targetDialect, sameFamily: family(sourceDialect.engine) === family(targetDialect.engine) },
      state.input,
      { purpose: state.verifyRequest ? 'on-demand' : 'gate', tables: state.verifyRequest?.tables },
    );
    return { ...plan, endpoints };
  } finally {
    await closeQuietly(source);
    await closeQuietly(target);
  }
}

export async function compareChunksStep(event: CompareChunksEvent, budget: Budget, extra: { forceLockTables?: boolean } = {}): Promise<WorkerResult> {
  const sessions = await openDiffSessions(event, event.diffPlan.endpoints);
  try {
    return await compareChunks(sessions, { job: event.job, worker: event.worker, input: event.input, budget, ...extra });
  } finally {
    await closeDiffSessions(sessions);
  }
}

export async function checkDiffStep(state: DiffState, limits: SummaryLimits = STATE_LIMITS): Promise<DiffSummary> {
  const plan = state.diffPlan;
  if (!plan) throw new Error('no comparison was planned ($.diffPlan is missing): "Plan the comparison" runs first');
  const tc = await targetAdminCredentials(state);
  const target = await openConnection(plan.endpoints.target, tc);
  try {
    const summary = await diffSummary(target, state.input.migrationId, plan.job, limits);
    if (summary.done) await (await CursorStore.open(target, state.input.migrationId)).markDone(plan.job);
    return summary;
  } finally {
    await closeQuietly(target);
  }
}

export interface LocalDiffOptions {
  /** Each worker invocation's time budget (default 14 minutes, as a Lambda). */
  workerBudgetMs?: number;
  /** Rounds before giving up (each round: every worker once). */
  maxRounds?: number;
  limits?: SummaryLimits;
  forceLockTables?: boolean;
  onRound?: (summary: DiffSummary) => void;
}

/** The whole comparison in this process: plan, rounds of parallel workers, the report. */
export async function runDiffLocally(state: DiffState, o: LocalDiffOptions = {}): Promise<{ plan: DiffPlanState; summary: DiffSummary; workers: WorkerResult[] }> {
  const plan = await planDiffStep(state);
  const workers: WorkerResult[] = [];
  const withPlan = { ...state, diffPlan: plan };
  let summary = await checkDiffStep(withPlan, o.limits);
  for (let round = 0; !summary.done && round < (o.maxRounds ?? 1000); round++) {
    const slots = Array.from({ length: state.input.verify.parallelism }, (_, i) => i + 1);
    const results = await Promise.all(
      slots.map((worker) =>
        compareChunksStep({ worker, job: plan.job, input: state.input, accounts: state.accounts, diffPlan: plan }, fixedBudget(o.workerBudgetMs ?? 14 * 60_000), { forceLockTables: o.forceLockTables }),
      ),
    );
    workers.push(...results);
    summary = await checkDiffStep(withPlan, o.limits);
    o.onRound?.(summary);
  }
  return { plan, summary, workers };
}
