// Turns an execution history (GetExecutionHistory events, oldest first) into what an operator asks:
// which phase, which state, since when, the last lag figures, is replication healthy, is a cutover
// approval waiting. Pure: no AWS calls, so it is unit-tested with histories shaped like the API's.
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { CopyProgressState, MigrationState, ReplicationCheck } from '../state.js';
import type { DiffSummary } from '../verify/diff-report.js';
import { targetIsPrimary, unfinishedSteps, type UnfinishedStep } from '../after-cutover.js';
import { MIGRATED_WITH_UNFINISHED_STEPS } from '../errors.js';
import { pipelineState, type StatusPhase } from '../pipeline.js';

export type Phase = StatusPhase;

const APPROVAL_STATE = 'Ask for cutover approval';
const WATCH_STATE = 'Watch replication for one window';
/** The logical copy's window (a child execution of copy.asl.yaml): its "Check the copy" is fresher than the parent's. */
export const COPY_WINDOW_STATE = 'Copy the data for one window';
const COMPARE_STATE = 'Compare source and target for one window';

/** The phase of a state of statemachine/migration.asl.yaml; unknown names (a newer definition) keep the phase they follow. */
export function phaseOfState(name: string): Phase | undefined {
  return pipelineState(name)?.phase;
}

export interface LagSnapshot {
  heartbeatLagMs: number | null;
  byteLag: number | null;
  secondsBehind: number | null;
  checkedAt: string | null;
  underLimit: boolean | null;
  caughtUp: boolean | null;
}

export interface ReplicationHealth {
  /** running: both threads up; broken: a thread stopped; unknown: not checked yet. */
  health: 'running' | 'broken' | 'unknown';
  ioRunning: boolean | null;
  sqlRunning: boolean | null;
}

export interface HistoryDigest {
  executionStatus: string;
  phase: Phase;
  currentState: string | null;
  currentStateSince: string | null;
  phases: { phase: Phase; since: string }[];
  waitingForApprovalSince: string | null;
  lag: LagSnapshot | null;
  replication: ReplicationHealth;
  failure: { error: string; cause: string } | null;
  /** The newest whole MigrationState seen in the history (what the next Task receives). */
  state: MigrationState | null;
  /** The logical copy's newest progress ("Check the copy": rows, bytes, chunks, rate, ETA), null before or without one. */
  copy: CopyProgressState | null;
  /** The running child execution of "Watch replication for one window" or "Copy the data for one window", when that is the current state. */
  childExecutionArn: string | null;
  /** The data comparison's newest verdict seen in the history. */
  diff: DiffSummary | null;
  /** The running comparison window (child execution), when that is the current state. */
  compareExecutionArn: string | null;
  /** Past the cutover's point of no return (null before it): what is left once the execution ended. */
  afterCutover: AfterCutover | null;
}

interface AfterCutover {
  /** The target is the primary: the source must never take writes again except through `crossmove fallback`. */
  targetIsPrimary: true;
  /** Steps after the point of no return that did not finish (empty while running or when all finished). */
  unfinished: UnfinishedStep[];
  /** What to do next, one line. */
  next: string;
}

function parse(json: string | undefined): any {
  if (!json) return undefined;
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

const iso = (d: Date | undefined): string | null => (d ? new Date(d).toISOString() : null);

export function lagOf(check: Partial<ReplicationCheck> | undefined): LagSnapshot | null {
  if (!check || typeof check !== 'object') return null;
  return {
    heartbeatLagMs: check.heartbeatLagMs ?? null,
    byteLag: check.byteLag ?? null,
    secondsBehind: check.secondsBehind ?? null,
    checkedAt: check.checkedAt ?? null,
    underLimit: check.underLimit ?? null,
    caughtUp: check.caughtUp ?? null,
  };
}

export function healthOf(check: Partial<ReplicationCheck> | undefined): ReplicationHealth {
  if (!check || typeof check.ioRunning !== 'boolean') return { health: 'unknown', ioRunning: null, sqlRunning: null };
  const running = check.ioRunning && check.sqlRunning === true;
  return { health: running ? 'running' : 'broken', ioRunning: check.ioRunning, sqlRunning: check.sqlRunning ?? null };
}

function isMigrationState(v: any): v is MigrationState {
  return !!v && typeof v === 'object' && typeof v.input?.migrationId === 'string' && !!v.input?.names;
}

export function digestHistory(events: HistoryEvent[], executionStatus: string): HistoryDigest {
  const phases: { phase: Phase; since: string }[] = [];
  let currentState: string | null = null;
  let currentStateSince: string | null = null;
  let state: MigrationState | null = null;
  let lagCheck: Partial<ReplicationCheck> | undefined;
  let copy: CopyProgressState | null = null;
  let childExecutionArn: string | null = null;
  let compareExecutionArn: string | null = null;
  let diff: DiffSummary | null = null;
  let failure: HistoryDigest['failure'] = null;

  for (const e of events) {
    const at = iso(e.timestamp) ?? '';
    const entered = e.stateEnteredEventDetails;
    const exited = e.stateExitedEventDetails;
    if (entered?.name) {
      currentState = entered.name;
      currentStateSince = at;
      childExecutionArn = null;
      compareExecutionArn = null;
      const phase = phaseOfState(entered.name);
      if (phase && phases.at(-1)?.phase !== phase) phases.push({ phase, since: at });
      const input = parse(entered.input);
      if (isMigrationState(input)) state = input;
      if (input?.lag && typeof input.lag === 'object') lagCheck = input.lag;
    }
    if (exited?.name) {
      const output = parse(exited.output);
      if (isMigrationState(output)) state = output;
      if (output?.lag && typeof output.lag === 'object') lagCheck = output.lag;
      if (isDiffSummary(output?.diff)) diff = output.diff;
      if (isCopyProgress(output?.copy)) copy = output.copy;
    }
    if (e.type === 'TaskSubmitted' && (currentState === WATCH_STATE || currentState === COPY_WINDOW_STATE)) {
      childExecutionArn = parse(e.taskSubmittedEventDetails?.output)?.ExecutionArn ?? null;
    }
    if (e.type === 'TaskSubmitted' && currentState === COMPARE_STATE) {
      compareExecutionArn = parse(e.taskSubmittedEventDetails?.output)?.ExecutionArn ?? null;
    }
    const failed = e.executionFailedEventDetails ?? e.executionTimedOutEventDetails ?? e.executionAbortedEventDetails;
    if (failed) failure = { error: failed.error ?? e.type ?? 'Failed', cause: failed.cause ?? '' };
  }

  let phase: Phase = phases.at(-1)?.phase ?? 'starting';
  if (executionStatus === 'SUCCEEDED') phase = 'succeeded';
  const ended = ['FAILED', 'TIMED_OUT', 'ABORTED'].includes(executionStatus);
  const afterCutover = state && targetIsPrimary(state) ? afterCutoverOf(state, ended ? failure : null, executionStatus) : null;
  if (ended) phase = afterCutover?.unfinished.length ? 'migrated-unfinished' : 'failed';
  if (phases.at(-1)?.phase !== phase) phases.push({ phase, since: iso(events.at(-1)?.timestamp) ?? currentStateSince ?? '' });
  const running = executionStatus === 'RUNNING';

  return {
    executionStatus,
    phase,
    currentState,
    currentStateSince,
    phases,
    waitingForApprovalSince: running && currentState === APPROVAL_STATE ? currentStateSince : null,
    lag: lagOf(lagCheck),
    replication: healthOf(lagCheck),
    copy,
    failure,
    state,
    childExecutionArn: running ? childExecutionArn : null,
    diff,
    compareExecutionArn: running ? compareExecutionArn : null,
    afterCutover,
  };
}

/**
 * What is left after the point of no return. The report's own list when the run reached it; else
 * computed from the newest state (an execution stopped, timed out, or aborted past the cutover).
 */
function afterCutoverOf(state: MigrationState, failure: HistoryDigest['failure'], executionStatus: string): AfterCutover {
  const id = state.input.migrationId;
  if (executionStatus === 'RUNNING' || executionStatus === 'SUCCEEDED') {
    return { targetIsPrimary: true, unfinished: [], next: executionStatus === 'SUCCEEDED' ? `done; \`crossmove cleanup ${id}\` when the application is happy on the target` : 'finishing the steps after the cutover' };
  }
  const reported = failure?.error === MIGRATED_WITH_UNFINISHED_STEPS ? state.failureReport?.unfinished : undefined;
  const unfinished = reported ?? unfinishedSteps(state, failure ? { error: failure.error, message: failure.cause } : { error: executionStatus, message: `the execution ended ${executionStatus}` });
  return {
    targetIsPrimary: true,
    unfinished,
    next: unfinished.length
      ? `start the migration again with the same input (\`crossmove start\`): it resumes at ${unfinished[0]!.step}; never make the source writable by hand (\`crossmove fallback ${id}\` once reverse replication runs)`
      : `\`crossmove cleanup ${id}\` when the application is happy on the target`,
  };
}

function isDiffSummary(v: any): v is DiffSummary {
  return !!v && typeof v === 'object' && typeof v.job === 'string' && typeof v.verdict === 'string' && typeof v.done === 'boolean';
}

/** The newest comparison check ($.diff of "Check the comparison") in a verify child's history. */
export function newestDiffCheck(events: HistoryEvent[]): DiffSummary | null {
  let best: DiffSummary | null = null;
  let bestAt = -Infinity;
  for (const e of events) {
    const out = parse(e.stateExitedEventDetails?.output);
    const at = e.timestamp ? new Date(e.timestamp).getTime() : 0;
    if (isDiffSummary(out?.diff) && at >= bestAt) {
      best = out.diff;
      bestAt = at;
    }
  }
  return best;
}

function isCopyProgress(v: unknown): v is CopyProgressState {
  return !!v && typeof v === 'object' && typeof (v as CopyProgressState).rangesTotal === 'number' && typeof (v as CopyProgressState).rows === 'number';
}

/** The newest "Check the copy" in a copy window's history (newest events first or oldest first). */
export function newestCopyCheck(events: HistoryEvent[]): CopyProgressState | undefined {
  let best: CopyProgressState | undefined;
  let bestAt = -Infinity;
  for (const e of events) {
    const out = parse(e.stateExitedEventDetails?.output);
    const at = e.timestamp ? new Date(e.timestamp).getTime() : 0;
    if (isCopyProgress(out?.copy) && at >= bestAt) {
      best = out.copy;
      bestAt = at;
    }
  }
  return best;
}

/** The newest lag check in a lag-monitor child's history (newest events first or oldest first). */
export function newestLagCheck(events: HistoryEvent[]): Partial<ReplicationCheck> | undefined {
  let best: Partial<ReplicationCheck> | undefined;
  let bestAt = -Infinity;
  for (const e of events) {
    const out = parse(e.stateExitedEventDetails?.output);
    const at = e.timestamp ? new Date(e.timestamp).getTime() : 0;
    if (out?.lag && typeof out.lag === 'object' && at >= bestAt) {
      best = out.lag;
      bestAt = at;
    }
  }
  return best;
}
