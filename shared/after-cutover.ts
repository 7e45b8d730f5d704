// Past the point of no return: is the target the primary, which of the steps after it are not
// finished, and what the operator does about each. One table for the failure report, the
// notification, `crossmove status` and the local run's report.
import { sideAddresses } from './endpoints.js';
import type { MigrationState } from './state.js';

/** The steps after the point of no return, in the order the state machine runs them. */
const AFTER_CUTOVER_STEPS = ['Cut over', 'Switch DNS', 'Start reverse replication'] as const;
type AfterCutoverStep = (typeof AFTER_CUTOVER_STEPS)[number];

export interface UnfinishedStep {
  step: AfterCutoverStep;
  /** failed: this is the step that failed (its error in `why`); not-run: it comes after it. */
  status: 'failed' | 'not-run';
  why: string;
  /** What to do, in one sentence. */
  todo: string;
}

type State = Partial<MigrationState>;

/** A cutover of this migration passed its point of no return: the source must stay blocked (except for a verified fallback). */
export function targetIsPrimary(state: State): boolean {
  return (state.cutover?.ok === true && !state.cutover.rolledBack) || state.priorCutover?.targetIsPrimary === true || state.cutoverRecord?.targetIsPrimary === true;
}

function addresses(state: State): { source: string | null; target: string | null } {
  return state.input ? sideAddresses(state as MigrationState) : { source: null, target: null };
}

const RERUN = 'start the migration again with the same input once the cause is fixed (it resumes here and never replicates into the target again)';

/** The steps after the point of no return that did not finish, the failed one first; [] when none (or not past it). */
export function unfinishedSteps(state: State, failure?: { error: string; message: string }): UnfinishedStep[] {
  if (!targetIsPrimary(state) || !state.input) return [];
  const { input } = state;
  const { target } = addresses(state);
  // "Check how far the cutover got" ran: this run's "Cut over" failed, and the fresh record says how far it got.
  const cutoverUnfinished = state.cutoverRecord ? state.cutoverRecord.phase === 'past-point-of-no-return' : !state.cutover?.ok;
  const pending: { step: AfterCutoverStep; todo: string }[] = [];
  if (cutoverUnfinished) {
    pending.push({
      step: 'Cut over',
      todo: `finish the switch: ${RERUN}; it makes the target writable (the source stays blocked, the applications cannot write until then)`,
    });
  }
  if (input.cutover.dns && !state.dns) {
    pending.push({
      step: 'Switch DNS',
      todo: `point the CNAME ${input.cutover.dns.recordName} at the target${target ? ` (${target.split(':')[0]})` : ''}: ${RERUN}, or change the record by hand; until then applications using the name reach the blocked source`,
    });
  }
  if (input.cutover.reverseReplication && state.reverse?.started !== true) {
    pending.push({
      step: 'Start reverse replication',
      todo: `start replication target -> source for a fallback: ${RERUN}; until it runs \`crossmove fallback\` refuses (the source would lack the target's writes)`,
    });
  }
  return pending.map((p, i) => ({
    ...p,
    status: i === 0 && failure ? 'failed' : 'not-run',
    why: i === 0 && failure ? `${failure.error}: ${failure.message}` : i === 0 ? 'not finished' : `not run (after ${pending[0]!.step})`,
  }));
}

/** The operator's text for a migration past its point of no return with unfinished steps. */
export function unfinishedMessage(state: State, steps: UnfinishedStep[]): string {
  const { source, target } = addresses(state);
  const id = state.input?.migrationId ?? 'unknown';
  const lines = [
    `Migration ${id} is past its point of no return: the target${target ? ` (${target})` : ''} is the primary${steps.some((s) => s.step === 'Cut over') ? ' (not writable yet: the switch did not finish)' : ' and takes the writes'}; ` +
      `the source${source ? ` (${source})` : ''} stays blocked and must not be made writable again except by \`crossmove fallback\`.`,
    `Unfinished (${steps.length}):`,
    ...steps.map((s, i) => `${i + 1}. ${s.step} - ${s.status === 'failed' ? `failed: ${s.why}` : s.why}. To do: ${s.todo}.`),
    `Next: start the migration again with the same input to resume (the final state is saved: \`crossmove cleanup ${id}\` works from it; \`crossmove fallback ${id}\` once reverse replication runs).`,
  ];
  return lines.join('\n');
}
