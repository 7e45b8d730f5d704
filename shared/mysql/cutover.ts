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
import { applyGrantDiff, diffGrants, type GrantDiff } from './grants.js';
import { withProblems } from './grant-report.js';
import { setReadOnly } from './replication.js';
import { sharedResult, type AfterSwitch, type SwitchDeps, type SwitchDirection } from './switch-plan.js';
import { switchPrimary } from './switch-primary.js';
import { completeOnNewPrimary } from './switch-recovery.js';
import { assertNoOtherWritablePrimary } from './primary-guard.js';

export interface CutoverDeps extends SwitchDeps {
  /** Connection ids on the source that are crossmove's own (besides `source`): never killed. */
  spareSourceIds?: number[];
}

/** The cutover's side of the switch procedure, without connections (plan records the same). */
export function cutoverDirection(input: MigrationInput): SwitchDirection<CutoverResult> {
  return {
    direction: 'cutover',
    input,
    markerTable: CUTOVER_LOG.table,
    // The target's replication connection: it may be between connecting and "Binlog Dump" when the
    // sessions are killed, and the user can only replicate (REPLICATION SLAVE/CLIENT), never write.
    keepUsers: [...(input.cutover.writeBlock?.keepUsers ?? []), input.replication.userName],
    // Only reverse replication needs the target's binlog.
    newPositionRequired: input.cutover.reverseReplication,
    captureDetails: { reverseReplication: input.cutover.reverseReplication },
    errors: { notReady: CutoverNotReadyError, rolledBack: CutoverRolledBackError, rollbackFailed: CutoverRollbackFailedError, incomplete: CutoverIncompleteError },
    // targetPositionAtSwitch is null only when the target has no binlog and reverse replication is off.
    result: (o) => ({ ...sharedResult(o), finalSourcePosition: o.finalPosition, targetPositionAtSwitch: o.newPositionAtSwitch }),
  };
}

/** What the cutover's tasks after the switch act through: the two servers, or plan's recorder. */
export interface CutoverAfterSwitchActions {
  diffGrants(): Promise<GrantDiff>;
  applyGrantDiff(diff: GrantDiff): Promise<void>;
  /** Returns the events it enabled. */
  enableCopiedEvents(): Promise<string[]>;
}

/** The cutover's tasks after the switch: the users/grants the target lacks (when asked), the copy's events. */
export function cutoverAfterSwitch(input: MigrationInput, act: CutoverAfterSwitchActions): AfterSwitch {
  return async (diff, timed) => {
    const apply = input.cutover.applyMissingGrants;
    // Recomputed when finishing a crashed attempt (never fatal: the switch is done).
    const d = diff ?? (apply ? await act.diffGrants().catch(() => undefined) : undefined);
    if (apply && d && (d.missingUsers.length || d.missingGrants.length)) {
      await timed('apply missing users and grants on the target', () => act.applyGrantDiff(d));
    }
    if (input.initialLoad.method === 'logical') {
      await timed('enable the events the copy created DISABLE ON SLAVE', async () => {
        const enabled = await act.enableCopiedEvents();
        if (enabled.length) logger.info('cutover: events enabled on the target', { events: enabled });
      });
    }
  };
}

export async function runCutover(deps: CutoverDeps): Promise<CutoverResult> {
  const { source, target, input } = deps;
  const at = [target, input.names.heartbeatSchema, input.migrationId] as const;
  return switchPrimary<CutoverResult>({
    ...deps,
    ...cutoverDirection(input),
    markers: switchMarkerStore<CutoverResult>(...at, CUTOVER_LOG),
    spareIds: deps.spareSourceIds,
    makeWritable: async () => void (await setReadOnly(target, deps.targetDialect, false)),
    afterSwitch: cutoverAfterSwitch(input, {
      diffGrants: () => diffGrants(source, target, deps.crossmoveUsers),
      applyGrantDiff: (d) => applyGrantDiff(source, target, d),
      enableCopiedEvents: () => enableCopiedEvents(source, target, input.initialLoad.schemas ?? []),
    }),
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
