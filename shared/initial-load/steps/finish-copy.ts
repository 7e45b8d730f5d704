// "Finish the copy" (polled while secondary keys build): copy-finish.ts, and the named replica crossmove
// paused started again once the rows are all in.
import type { Budget } from '../../chunks/budget.js';
import { readCredentials } from '../../secrets.js';
import { sourceAdminCredentials, targetAdminCredentials } from '../../db-credentials.js';
import { targetEndpoint } from '../../endpoints.js';
import { closeQuietly, openConnection } from '../../mysql/connection.js';
import { resolveDialect } from '../../mysql/dialect.js';
import type { CopyFinishResult, FrozenSourceState, MigrationState } from '../../state.js';
import { finishCopy } from '../copy-finish.js';
import { resumeNamedReplica } from '../frozen-source/named-replica.js';
import { copyProgressOf } from '../progress.js';
import { frozenSide, targetSide, type CopyState } from './sides.js';

export async function finishCopyStep(state: CopyState & { frozenSource: FrozenSourceState } & Partial<Pick<MigrationState, 'logicalCopy'>>, budget: Budget): Promise<CopyFinishResult> {
  const progress = copyProgressOf(state.input.migrationId);
  const result = await finishCopy({
    migrationId: state.input.migrationId,
    from: await frozenSide(state),
    target: await targetSide(state),
    parallel: state.input.initialLoad.parallelism,
    waitMs: Math.max(0, budget.remainingMs()),
    attempts: (state.logicalCopy?.attempts ?? 0) + 1,
    releaseFrozen: state.frozenSource.kind === 'named-replica' ? () => resumeReplica(state) : undefined,
    onPhase: (phase) => progress.setPhase(phase),
  });
  return result;
}

/** Starts the named replica's SQL thread again if crossmove stopped it. */
async function resumeReplica(state: CopyState): Promise<void> {
  const f = state.input.initialLoad.frozenSource;
  if (!f.endpoint) return;
  const replica = await openConnection(f.endpoint, await (f.adminSecret ? readCredentials(f.adminSecret) : sourceAdminCredentials(state)));
  const target = await openConnection(targetEndpoint(state), await targetAdminCredentials(state));
  try {
    await resumeNamedReplica(replica, await resolveDialect(replica, f.engine), target, state.input.migrationId, `${f.endpoint.host}:${f.endpoint.port}`);
  } finally {
    await closeQuietly(replica);
    await closeQuietly(target);
  }
}
