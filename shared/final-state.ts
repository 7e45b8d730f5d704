// The final state that `fallback` and `cleanup` start from, when a migration took more than one run. A
// run resumed after its cutover ($.priorCutover.targetIsPrimary) skipped every step before it, so what
// those steps made or changed (the binlog retention cleanup restores, the replication user, the share,
// the key statement, the new cluster) is only in the state of the run that cut over. The resumed run's
// state goes on top of that one's; how the earlier run ended (its failure, its report) does not.
import type { MigrationState } from './state.js';

type State = Partial<MigrationState> & Record<string, unknown>;

/** What says how a run ended, not what it made: never carried from an earlier run into a later one. */
const OUTCOME_KEYS = ['failure', 'failureReport', 'reportError', 'report', 'cutoverRecord', 'cutoverRecordError', 'cutoverNotReady', 'approvalFailure'] as const;

/** This run started past the point of no return (an earlier run cut over): it holds only what came after. */
export function resumedAfterCutover(state: Partial<MigrationState>): boolean {
  return state.priorCutover?.targetIsPrimary === true;
}

/** The resumed run's state on top of the earlier run's (without the earlier run's outcome). */
export function onTopOf(earlier: State, resumed: State): State {
  const kept: State = { ...earlier };
  for (const key of OUTCOME_KEYS) delete kept[key];
  return { ...kept, ...resumed };
}
