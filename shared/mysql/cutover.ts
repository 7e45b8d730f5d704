// The cutover: the critical section (switch-primary.ts) from the source to the target. Its marker rows
// live on the target (cutover-marker.ts); the target becomes writable by switching read_only off; after
// the switch the users/grants it lacks are applied (when asked) and the events the logical copy disabled
// are enabled.
import { CutoverIncompleteError, CutoverNotReadyError, CutoverRollbackFailedError, CutoverRolledBackError } from '../errors.js';
import { logger } from '../logger.js';
import type { CutoverResult } from '../state.js';
import { clearCutoverMarker, readCutoverMarker, writeCutoverMarker } from './cutover-marker.js';
import { enableCopiedEvents } from './events.js';
import { applyGrantDiff, diffGrants } from './grants.js';
import { setReadOnly } from './replication.js';
import { sharedResult, type SwitchDeps } from './switch-plan.js';
import { switchPrimary } from './switch-primary.js';

export interface CutoverDeps extends SwitchDeps {
  /** Connection ids on the source that are crossmove's own (besides `source`): never killed. */
  spareSourceIds?: number[];
}

export async function runCutover(deps: CutoverDeps): Promise<CutoverResult> {
  const { source, target, input } = deps;
  const at = [target, input.names.heartbeatSchema, input.migrationId] as const;
  return switchPrimary<CutoverResult>({
    ...deps,
    direction: 'cutover',
    markers: { read: () => readCutoverMarker(...at), write: (m) => writeCutoverMarker(...at, m), clear: () => clearCutoverMarker(...at) },
    keepUsers: input.cutover.writeBlock?.keepUsers ?? [],
    spareIds: deps.spareSourceIds,
    // Only reverse replication needs the target's binlog.
    capturedPositionRequired: input.cutover.reverseReplication
      ? 'SHOW MASTER STATUS returned nothing on the target: enable binary logging on the target for reverse replication (or set cutover.reverseReplication to false)'
      : undefined,
    captureDetails: { reverseReplication: input.cutover.reverseReplication },
    makeWritable: async () => void (await setReadOnly(target, deps.targetDialect, false)),
    afterSwitch: async (diff, timed) => {
      const apply = input.cutover.applyMissingGrants;
      // Recomputed when finishing a crashed attempt (never fatal: the switch is done).
      const d = diff ?? (apply ? await diffGrants(source, target, deps.crossmoveUsers).catch(() => undefined) : undefined);
      if (apply && d && (d.missingUsers.length || d.missingGrants.length)) {
        await timed('apply missing users and grants on the target', () => applyGrantDiff(source, target, d));
      }
      if (input.initialLoad.method === 'logical') {
        await timed('enable the events the copy created DISABLE ON SLAVE', async () => {
          const enabled = await enableCopiedEvents(source, target, input.initialLoad.schemas ?? []);
          if (enabled.length) logger.info('cutover: events enabled on the target', { events: enabled });
        });
      }
    },
    errors: { notReady: CutoverNotReadyError, rolledBack: CutoverRolledBackError, rollbackFailed: CutoverRollbackFailedError, incomplete: CutoverIncompleteError },
    // targetPositionAtSwitch is null only when the target has no binlog and reverse replication is off.
    result: (o) => ({ ...sharedResult(o), finalSourcePosition: o.finalPosition, targetPositionAtSwitch: o.newPositionAtSwitch }),
  });
}
