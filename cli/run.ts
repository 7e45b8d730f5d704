// `crossmove run --local`: the state machine in this process (local/run-state-machine.ts), every Task
// bound to its real handler, live progress, the approval gate answered at the prompt (or
// automatically once the state machine found the target caught up), and one report at the end.
import { join } from 'node:path';
import { runStateMachineLocally, type ApprovalDecision, type RunEvent } from '../local/run-state-machine.js';
import { FUNCTION_KEYS, handlerRegistry } from '../handlers/index.js';
import type { ApprovalRequest } from '../shared/approval/request.js';
import { copyProgressEvents, type CopyProgress } from '../shared/initial-load/index.js';
import { diffProgressEvents, type DiffProgressEvent } from '../shared/verify/diff-worker.js';
import { redactDeep } from '../shared/redact.js';
import type { MigrationState } from '../shared/state.js';
import { createDisplay } from './display.js';
import { RunTracker } from './tracker.js';
import { saveFinalState } from './follow-up.js';
import { targetIsPrimary, unfinishedSteps, type UnfinishedStep } from '../shared/after-cutover.js';

export interface LocalRunOptions {
  input: unknown;
  autoApprove: boolean;
  /** Where progress goes (stderr with --json, so stdout holds only the report). */
  progress: NodeJS.WriteStream;
  tty: boolean;
  /** Answers the gate when not auto-approving. */
  ask?: (request: ApprovalRequest, signal: AbortSignal) => Promise<ApprovalDecision>;
  /** Every runner event (tests, the demo). */
  onEvent?: (event: RunEvent) => void;
  /** Called when a main-execution state completes (the demo repoints its application after "Switch DNS"). */
  onStateExited?: (state: string, payload: unknown) => void;
  secretDir?: string;
  /** Where the final state of a successful run is saved for `crossmove cleanup|fallback --local` (default: none). */
  stateDir?: string;
  /** Stops the run after the running state (Ctrl-C). */
  signal?: AbortSignal;
}

export interface LocalRunReport {
  ok: boolean;
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  /**
   * migrated-unfinished: the target is the primary (past the cutover's point of no return) but a later
   * step did not finish; `unfinished` names each, and the final state is saved for fallback/cleanup.
   */
  outcome: 'migrated' | 'migrated-unfinished' | 'approval-not-given' | 'failed' | 'aborted';
  migrationId: string | null;
  error?: string;
  cause?: string;
  elapsedMs: number;
  phases: { checksMs: number | null; initialLoadMs: number | null; catchUpMs: number | null; verifyMs: number | null; approvalMs: number | null; cutoverMs: number | null };
  initialLoad: { method: string; rows: number | null; tables: number | null; bytes: number | null; ms: number | null; position: unknown } | null;
  lag: ReturnType<RunTracker['lagSummary']>;
  /** The data comparison's verdict before the gate (null: cutover.verify none, or not reached). */
  verification: MigrationState['diff'] | null;
  approval: MigrationState['approval'] | null;
  cutover: MigrationState['cutover'] | null;
  dns: MigrationState['dns'] | null;
  reverse: MigrationState['reverse'] | null;
  steps: { state: string; ms: number }[];
  /** migrated-unfinished: what is left after the point of no return, the failed step first. */
  unfinished: UnfinishedStep[];
  /** Where the final state was saved (whenever the target became the primary), else null. */
  finalStatePath: string | null;
}

/**
 * Why --auto-approve must not approve this request (null: it may). The state machine auto-approves
 * only a clean comparison itself; a request reaching the gate with any other verdict: differences,
 * rows left unsettled, an unfinished comparison; it carries the report for the person deciding.
 */
function autoApprovalRefusal(request: ApprovalRequest): string | null {
  const v = request.verification;
  if (!v || v.verdict === 'clean') return null;
  const d = v.differences;
  const found = v.verdict === 'differences' ? `found differences in ${d.tables} table(s) (${d.missing} missing, ${d.extra} extra, ${d.different} different rows)` : `ended ${v.verdict}`;
  return `the data comparison ${found}; --auto-approve approves only a clean comparison. Look at the report above ("crossmove verify" compares again), then run without --auto-approve to decide at the prompt`;
}

export async function runMigrationLocally(options: LocalRunOptions): Promise<LocalRunReport> {
  const tracker = new RunTracker();
  tracker.onStateExited = options.onStateExited;
  const migrationId = (options.input as { migrationId?: string } | null)?.migrationId ?? null;
  const display = createDisplay(tracker, { tty: options.tty, stream: options.progress, title: migrationId ?? 'migration' });
  const onCopy = (p: CopyProgress) => {
    tracker.copy = p;
    display.update();
  };
  copyProgressEvents.on('progress', onCopy);
  const onDiff = (p: DiffProgressEvent) => {
    tracker.diffRowsSinceCheck += p.rows;
    display.update();
  };
  diffProgressEvents.on('progress', onDiff);
  try {
    // Every handler is loaded before the run (as warm Lambdas would be): a module imported lazily
    // between "Cut over" and "Switch DNS" would lengthen the application's write-unavailability window.
    await Promise.all(FUNCTION_KEYS.map((key) => handlerRegistry[key].load()));
    const result = await runStateMachineLocally({
      input: options.input,
      secretDir: options.secretDir ?? join(process.cwd(), '.crossmove', 'secrets'),
      // No Lambda 15-minute limit on a laptop: a big copy may take hours.
      minTaskTimeoutSeconds: 6 * 3600,
      signal: options.signal,
      onEvent: (ev) => {
        tracker.handle(ev);
        options.onEvent?.(ev);
        display.update();
      },
      approve: async (request, { signal }) => {
        if (options.autoApprove) {
          // The gate is only reached once the lag stayed under the limit for the required checks, but
          // a comparison that was not clean is for a person to judge: --auto-approve never approves it.
          const refused = autoApprovalRefusal(request);
          if (refused) {
            display.line(`approval: NOT auto-approved: ${refused}`);
            return { approved: false, by: 'cli --auto-approve', reason: refused };
          }
          display.line('approval: auto-approved (target caught up)');
          return { approved: true, by: 'cli --auto-approve', reason: 'lag under the limit for the required consecutive checks' };
        }
        if (!options.ask) return { approved: false, reason: 'no approver' };
        display.pause();
        try {
          return await options.ask(request, signal);
        } finally {
          display.resume();
        }
      },
    });
    tracker.finish();
    display.stop();
    const last = (result.status === 'SUCCEEDED' ? (result.output as Partial<MigrationState>) : tracker.lastState) ?? {};
    // Before "Validate the input" succeeded the state is the raw input: its cutover section is no cutover result.
    const state: Partial<MigrationState> = last.input ? last : {};
    // Whenever the target became the primary, finished or not: fallback and cleanup start from it, and
    // what was left is in it.
    const finalStatePath = options.stateDir && migrationId && targetIsPrimary(state) ? saveFinalState(options.stateDir, migrationId, state) : null;
    return redactDeep(buildReport(tracker, state, result, migrationId, finalStatePath));
  } finally {
    copyProgressEvents.off('progress', onCopy);
    diffProgressEvents.off('progress', onDiff);
    display.stop();
  }
}

function buildReport(
  t: RunTracker,
  state: Partial<MigrationState>,
  result: { status: 'SUCCEEDED' | 'FAILED' | 'ABORTED'; error?: string; cause?: string },
  migrationId: string | null,
  finalStatePath: string | null,
): LocalRunReport {
  const approvalNotGiven = result.status === 'FAILED' && /ApprovalRejected|ApprovalTimedOut|States\.Timeout/.test(result.error ?? '') && !state.cutover;
  const ok = result.status === 'SUCCEEDED' && state.cutover?.ok === true;
  const unfinished = ok ? [] : (state.failureReport?.unfinished ?? unfinishedSteps(state, result.error ? { error: result.error, message: result.cause ?? '' } : undefined));
  const copy = state.logicalCopy;
  return {
    ok,
    status: result.status,
    outcome: ok ? 'migrated' : unfinished.length ? 'migrated-unfinished' : approvalNotGiven ? 'approval-not-given' : result.status === 'ABORTED' ? 'aborted' : 'failed',
    migrationId,
    ...(result.error ? { error: result.error } : {}),
    ...(result.cause ? { cause: result.cause } : {}),
    elapsedMs: (t.finishedAt ?? Date.now()) - t.startedAt,
    phases: {
      checksMs: t.phaseMs('checks'),
      initialLoadMs: t.phaseMs('initialLoad'),
      catchUpMs: t.phaseMs('catchUp'),
      verifyMs: t.phaseMs('verify'),
      approvalMs: t.phaseMs('approval'),
      cutoverMs: t.stateDuration('Cut over') ?? t.stateDuration('Resume after the cutover'),
    },
    initialLoad: state.input
      ? {
          method: state.input.initialLoad.method,
          rows: copy?.rows ?? null,
          tables: copy?.tables ?? null,
          bytes: copy?.bytes ?? null,
          ms: copy?.ms ?? null,
          position: state.binlogPosition?.position ?? copy?.position ?? null,
        }
      : null,
    lag: t.lagSummary(),
    verification: state.diff ?? null,
    approval: state.approval ?? null,
    cutover: state.cutover ?? null,
    dns: state.dns ?? null,
    reverse: state.reverse ?? null,
    steps: t.stateMs,
    unfinished,
    finalStatePath,
  };
}
