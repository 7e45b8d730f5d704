// The cutover: the critical section (switch-primary.ts) from the source to the target. Its marker rows
// live on the target (switch-log.ts); the target becomes writable by switching read_only off; after
// the switch the users/grants it lacks are applied (when asked) and the events the logical copy disabled
// are enabled.
import { CutoverIncompleteError, CutoverNotReadyError, CutoverRollbackFailedError, CutoverRolledBackError } from '../errors.js';
import type { MigrationInput } from '../input/validate.js';
import { logger, logStep } from '../logger.js';
import { redact } from '../redact.js';
import type { Conn } from './connection.js';
import type { Dialect } from './dialect.js';
import type { CutoverResult } from '../state.js';
import { CUTOVER_LOG, readCutoverMarker, switchMarkerStore, writeCutoverMarker } from './switch-log.js';
import { enableCopiedEvents } from './events.js';
import { applyGrantDiff, diffGrants } from './grants.js';
import { withProblems } from './grant-report.js';
import { setReadOnly } from './replication.js';
import { sharedResult, type SwitchDeps } from './switch-plan.js';
import { switchPrimary } from './switch-primary.js';
import { completeOnNewPrimary } from './switch-recovery.js';
import { assertNoOtherWritablePrimary } from './primary-guard.js';

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
    markers: switchMarkerStore<CutoverResult>(...at, CUTOVER_LOG),
    // The target's replication connection: it may be between connecting and "Binlog Dump" when the
    // sessions are killed, and the user can only replicate (REPLICATION SLAVE/CLIENT), never write.
    keepUsers: [...(input.cutover.writeBlock?.keepUsers ?? []), input.replication.userName],
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

/**
 * Past the point of no return the switch needs only the target. When the source cannot be reached (a
 * security-group block that cut crossmove off too, the old cluster gone), finish on the target alone and
 * report what needed the source. Returns null when no switch is pending past its point of no return
 * (or done).
 */
export async function finishCutoverWithoutSource(
  target: Conn,
  targetDialect: Dialect,
  input: MigrationInput,
  unreachable: Error,
  guard: { addresses?: { source: string | null; target: string | null }; sourceNetworkBlock?: { method: string; inPlace: () => Promise<boolean> } } = {},
): Promise<CutoverResult | null> {
  const at = [target, input.names.heartbeatSchema, input.migrationId] as const;
  const marker = await readCutoverMarker(...at);
  // Already finished (a retry of a step that did finish): its result, as runCutover would return it.
  if (marker?.phase === 'done' && marker.result) return marker.result;
  if (marker?.phase !== 'past-point-of-no-return' || !marker.result) return null;
  const why = `${unreachable.name}: ${redact(unreachable.message)}`;
  logStep('cutover: a previous attempt passed the point of no return and the source cannot be reached: finishing on the target alone', { error: why });
  await completeOnNewPrimary(target, targetDialect, async () => {
    await assertNoOtherWritablePrimary(
      { name: 'target', address: guard.addresses?.target ?? null },
      {
        name: 'source',
        address: guard.addresses?.source ?? null,
        conn: null,
        dialect: null,
        ...(guard.sourceNetworkBlock ? { networkBlock: guard.sourceNetworkBlock } : {}),
        // Only a read_only block can be vouched for by the marker: a network block is checked above.
        ...(guard.sourceNetworkBlock ? {} : { knownBlocked: 'a previous cutover attempt blocked it and verified its binlog stood still before its point of no return' }),
      },
      'make the target writable',
    );
    await setReadOnly(target, targetDialect, false);
  });
  const needsSource = input.cutover.applyMissingGrants || input.initialLoad.method === 'logical';
  const finished = withProblems(
    marker.result,
    needsSource ? [`could not apply missing users and grants or enable the copied events (do it by hand): the source could not be reached (${why})`] : [],
  );
  await writeCutoverMarker(...at, { phase: 'done', result: finished, blockState: null });
  return finished;
}
