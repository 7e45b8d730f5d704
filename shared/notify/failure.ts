// Turns the `$.failure` a Catch stored (Step Functions' {Error, Cause}) into a clean report: the
// typed error name and the operator's message, wherever they were wrapped. Lambda errors arrive as
// a JSON Cause {errorType, errorMessage, trace}; a failed child execution (the lag monitor, run with
// startExecution.sync:2) arrives as States.TaskFailed whose Cause is the child's DescribeExecution.
import { redact } from '../redact.js';
import type { FailureInfo, MigrationState } from '../state.js';
import { targetIsPrimary, unfinishedMessage, unfinishedSteps, type UnfinishedStep } from '../after-cutover.js';
import { MIGRATED_WITH_UNFINISHED_STEPS } from '../errors.js';
import { lastCompletedStep } from '../pipeline.js';

export interface FailureReport {
  /** migrated-unfinished: the target is the primary but a step after the point of no return did not finish. */
  outcome: 'failed' | 'approval-not-given' | 'migrated-unfinished';
  migrationId: string;
  /** Error name for the Fail state (typed names from shared/errors.ts survive unchanged). */
  error: string;
  /** Message for the Fail state's Cause and the notification: no secrets, no stack traces. */
  message: string;
  /** The last step whose result is in the state (what had been done before the failure). */
  lastCompletedStep: string | null;
  /** migrated-unfinished: each step after the point of no return that is left, the failed one first. */
  unfinished?: UnfinishedStep[];
  notified: boolean;
}

const MAX_MESSAGE = 4000;

/** Unwraps nested {Error, Cause} / {errorType, errorMessage} layers down to the innermost named error. */
export function unwrapFailure(failure: FailureInfo | undefined): { error: string; message: string } {
  let error = failure?.Error || 'UnknownError';
  let cause: unknown = failure?.Cause ?? '';
  for (let depth = 0; depth < 5 && typeof cause === 'string'; depth++) {
    const parsed = parseJson(cause);
    if (!parsed || typeof parsed !== 'object') break;
    const p = parsed as Record<string, unknown>;
    if (typeof p.errorMessage === 'string' || typeof p.errorType === 'string') {
      error = typeof p.errorType === 'string' ? p.errorType : error;
      cause = p.errorMessage ?? '';
      continue;
    }
    const innerError = p.Error ?? p.error;
    const innerCause = p.Cause ?? p.cause;
    if (typeof innerError === 'string' || typeof innerCause === 'string') {
      if (typeof innerError === 'string' && innerError) error = innerError;
      cause = innerCause ?? '';
      continue;
    }
    break;
  }
  const text = typeof cause === 'string' ? cause : JSON.stringify(cause);
  return { error, message: clip(redact(stripStack(text))) };
}

export function describeFailure(state: Partial<MigrationState> & { approvalFailure?: FailureInfo }): Omit<FailureReport, 'notified'> {
  const migrationId = state.input?.migrationId ?? (state as { migrationId?: string }).migrationId ?? 'unknown';
  const lastStep = lastCompletedStep(state);
  if (state.approvalFailure) {
    const timedOut = state.approvalFailure.Error === 'States.Timeout';
    const { message: reason } = unwrapFailure(state.approvalFailure);
    const hours = state.input ? state.input.derived.approvalTimeoutSeconds / 3600 : undefined;
    const why = timedOut
      ? `No answer within ${hours !== undefined ? `${round(hours)} h` : 'the approval timeout'}`
      : `Rejected${reason && reason !== 'ApprovalRejected' ? `: ${reason}` : ''}`;
    return {
      outcome: 'approval-not-given',
      migrationId,
      error: timedOut ? 'ApprovalTimedOutError' : 'ApprovalRejected',
      message: clip(
        `Cutover approval was not given (${why}). Nothing was cut over: the source still takes the writes and ` +
          'replication to the target is still running. Start the migration again to ask again (finished steps are reused), ' +
          'or stop replication on the target to abandon it.',
      ),
      lastCompletedStep: lastStep,
    };
  }
  const { error, message } = unwrapFailure(state.failure);
  if (targetIsPrimary(state)) {
    const unfinished = unfinishedSteps(state, { error, message: message || error });
    if (unfinished.length) {
      return {
        outcome: 'migrated-unfinished',
        migrationId,
        error: MIGRATED_WITH_UNFINISHED_STEPS,
        message: clip(unfinishedMessage(state, unfinished)),
        lastCompletedStep: lastStep,
        unfinished: unfinished.map((u) => ({ ...u, why: clip(u.why, 1000) })),
      };
    }
  }
  if (state.cutoverRecordError) {
    const { message: why } = unwrapFailure(state.cutoverRecordError);
    const unknown =
      ` Whether the cutover passed its point of no return is unknown: its record on the target could not be read (${why}). ` +
      `Do not make the source writable by hand: start the migration again (it reads the record first), or read ${state.input?.names.heartbeatSchema ?? 'crossmove'}.cutover_log on the target.`;
    return { outcome: 'failed', migrationId, error, message: clip(`${message || error}${unknown}`), lastCompletedStep: lastStep };
  }
  return { outcome: 'failed', migrationId, error, message: message || error, lastCompletedStep: lastStep };
}

function parseJson(text: string): unknown {
  const t = text.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

/** Drops "    at fn (file:line)" lines, should a stack have slipped into a message. */
function stripStack(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^\s+at\s/.test(line))
    .join('\n')
    .trim();
}

function clip(text: string, max = MAX_MESSAGE): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
