// The fallback: the critical section (switch-primary.ts) run backwards through reverse replication
// (Vitess ReverseTraffic), from the target back to the source. Its marker rows live on the source
// (switch-log.ts); the source becomes writable by undoing the cutover's write block (enableSource).
import { FallbackIncompleteError, FallbackNotReadyError, FallbackRollbackFailedError, FallbackRolledBackError } from '../errors.js';
import type { FallbackResult } from '../state.js';
import { FALLBACK_LOG, switchMarkerStore } from './switch-log.js';
import { reverseUserName } from './replication-user.js';
import type { MigrationInput } from '../input/validate.js';
import { sharedResult, type SwitchDeps, type SwitchDirection } from './switch-plan.js';
import { switchPrimary } from './switch-primary.js';

export interface FallbackDeps extends SwitchDeps {
  /** Makes the source writable again (undoes the cutover's write block). Runs after the point of no return. */
  enableSource: () => Promise<void>;
  /** Application users whose sessions on the target are not killed (fallbackOptions.writeBlock.keepUsers). */
  keepUsers?: string[];
  /** Connection ids on the target that are crossmove's own (besides `target`): never killed. */
  spareTargetIds?: number[];
}

/** The fallback's side of the switch procedure, without connections (plan records the same). */
export function fallbackDirection(input: MigrationInput, keepUsers: string[] = []): SwitchDirection<FallbackResult> {
  return {
    direction: 'fallback',
    input,
    markerTable: FALLBACK_LOG.table,
    // Only these users and crossmove's own ids: the source's reverse replication IO thread (a Binlog
    // Dump thread on the target) is spared by its command (sessions.ts).
    // The source's reverse replication connection (see cutover.ts): replication privileges only.
    keepUsers: [...keepUsers, reverseUserName(input.replication.userName)],
    errors: { notReady: FallbackNotReadyError, rolledBack: FallbackRolledBackError, rollbackFailed: FallbackRollbackFailedError, incomplete: FallbackIncompleteError },
    result: (o) => ({ ...sharedResult(o), finalTargetPosition: o.finalPosition, sourcePositionAtSwitch: o.newPositionAtSwitch }),
  };
}

export async function runFallback(deps: FallbackDeps): Promise<FallbackResult> {
  const { source, input } = deps;
  const at = [source, input.names.heartbeatSchema, input.migrationId] as const;
  return switchPrimary<FallbackResult>({
    ...deps,
    ...fallbackDirection(input, deps.keepUsers),
    markers: switchMarkerStore<FallbackResult>(...at, FALLBACK_LOG),
    spareIds: deps.spareTargetIds,
    replicationUser: reverseUserName(input.replication.userName),
    makeWritable: deps.enableSource,
  });
}
