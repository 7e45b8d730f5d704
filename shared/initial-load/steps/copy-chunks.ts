// "Copy chunks until the time budget": one worker slot of the copy's Map (copy-worker.ts). Its event is
// the Map's ItemSelector: the slot number and the pieces of the state it needs, never the plan.
import type { Budget } from '../../chunks/budget.js';
import { logger } from '../../logger.js';
import { RETRYABLE_ERROR_NAMES } from '../../errors.js';
import { closeQuietly, openConnection } from '../../mysql/connection.js';
import type { CopyPlanResult, FrozenSourceState, MigrationState } from '../../state.js';
import { runCopyWorker, type CopyWorkerResult } from '../copy-worker.js';
import { recordCopyFailure } from '../copy-failures.js';
import { copyProgressOf } from '../progress.js';
import { onAws } from './prepare-frozen-source.js';
import { frozenSide, targetSide } from './sides.js';

export interface CopyWorkerEvent extends Pick<MigrationState, 'input' | 'accounts'> {
  worker: number;
  frozenSource: FrozenSourceState;
  copyPlan: CopyPlanResult;
}

export async function copyChunksStep(event: CopyWorkerEvent, budget: Budget): Promise<CopyWorkerResult> {
  const target = await targetSide(event);
  const progress = copyProgressOf(event.input.migrationId);
  try {
    const result = await runCopyWorker({
      migrationId: event.input.migrationId,
      worker: event.worker,
      lanes: event.input.initialLoad.parallelism,
      from: await frozenSide(event),
      target,
      frozen: { kind: event.frozenSource.kind, fingerprint: event.frozenSource.fingerprint },
      budget,
      liveMustFinish: onAws(),
      onSnapshot: () => progress.setPhase('data'),
      onCommitted: (rows, bytes) => progress.committed(rows, bytes),
    });
    logger.info('chunk worker finished', { ...result });
    return result;
  } catch (err) {
    // Kept for "Explain the failed copy round" (a Distributed Map passes only its own error on).
    const e = err as Error;
    if (!(RETRYABLE_ERROR_NAMES as readonly string[]).includes(e.name)) {
      const conn = await openConnection(target.endpoint, target.credentials).catch(() => undefined);
      if (conn) await recordCopyFailure(conn, event.input.migrationId, { worker: event.worker, error: e.name || 'Error', message: e.message }).catch(() => undefined);
      await closeQuietly(conn);
    }
    throw err;
  }
}
