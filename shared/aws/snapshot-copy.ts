// "Copy the snapshot" and "Check the snapshot copy": in the target account and region, from the
// (shared) source snapshot's ARN, re-encrypted with target.kmsKeyId so the target never depends on the
// source account's key. Named from the migrationId and tagged, so a retry reuses its own copy.
import { ResourceConflictError, ResourceNotFoundError, TransientError } from '../errors.js';
import { logStep } from '../logger.js';
import type { MigrationState, SnapshotPoll } from '../state.js';
import { errorName } from './call.js';
import { madeByMigration, targetRdsClient } from './rds.js';
import { findClusterSnapshot } from './snapshot.js';
import { copyClusterSnapshot } from './snapshot-changes.js';
import { snapshotPathBlocker } from './snapshot-plan.js';
import { assertSnapshotHealthy, snapshotPoll } from './snapshot-poll.js';

type CopyState = Pick<MigrationState, 'input' | 'accounts' | 'sourceSnapshot'>;

function conflict(id: string, migrationId: string): ResourceConflictError {
  return new ResourceConflictError(
    `Snapshot ${id} in the target account was not made by crossmove for migration ${migrationId} (no tag crossmove:migrationId=${migrationId}); delete or rename it, or change migrationId`,
  );
}

export async function ensureSnapshotCopy(state: CopyState): Promise<SnapshotPoll> {
  const { input, accounts } = state;
  const source = state.sourceSnapshot;
  if (!source?.done) throw new ResourceNotFoundError('The source snapshot is not available yet: "Snapshot the source" must finish before "Copy the snapshot"');
  const id = input.names.targetSnapshotIdentifier;
  const rds = targetRdsClient(input);
  const reuse = async (): Promise<SnapshotPoll | null> => {
    const existing = await findClusterSnapshot(rds, id);
    if (!existing) return null;
    if (!madeByMigration(existing, input.migrationId)) throw conflict(id, input.migrationId);
    return snapshotPoll(existing, 0, false);
  };
  const found = await reuse();
  if (found) return found;

  // Checked again here (the input may have changed between attempts); nothing is created when it fails.
  const blocker = snapshotPathBlocker(input, accounts, { kmsKeyArn: source.encrypted ? (source.kmsKeyId ?? source.snapshotArn) : null, keyManager: null });
  if (blocker) throw blocker;
  const spec = {
    sourceSnapshotArn: source.snapshotArn,
    targetSnapshotIdentifier: id,
    migrationId: input.migrationId,
    // RDS rejects a KmsKeyId for an unencrypted snapshot.
    ...(source.encrypted && input.target.kmsKeyId ? { kmsKeyId: input.target.kmsKeyId } : {}),
  };
  logStep('copy the snapshot into the target account', { from: spec.sourceSnapshotArn, snapshotIdentifier: id, kmsKeyId: spec.kmsKeyId, region: accounts.targetRegion });
  try {
    return snapshotPoll(await copyClusterSnapshot(rds, spec), 0, true);
  } catch (err) {
    const name = errorName(err);
    if (name === 'DBClusterSnapshotAlreadyExistsFault') {
      const again = await reuse();
      if (again) return again;
      throw conflict(id, input.migrationId);
    }
    if (name === 'DBClusterSnapshotNotFoundFault') {
      throw new ResourceNotFoundError(
        `Snapshot ${spec.sourceSnapshotArn} is not visible to account ${accounts.target}: check that "Share the snapshot" added the account to its restore attribute`,
      );
    }
    if (name === 'KMSKeyNotAccessibleFault') {
      throw new ResourceNotFoundError(
        `KMS key not accessible while copying ${spec.sourceSnapshotArn}: the source key policy must allow account ${accounts.target} ("Let the target use the KMS key") and target.kmsKeyId${spec.kmsKeyId ? ` (${spec.kmsKeyId})` : ''} must be a key of the target account in ${accounts.targetRegion} usable by the pipeline role`,
      );
    }
    if (name === 'InvalidDBClusterSnapshotStateFault') {
      throw new TransientError(`Snapshot ${spec.sourceSnapshotArn} cannot be copied yet (${(err as Error).message}); the step is retried`, { cause: err });
    }
    throw err;
  }
}

export async function checkSnapshotCopy(state: Pick<MigrationState, 'input' | 'snapshotCopy'>): Promise<SnapshotPoll> {
  const id = state.input.names.targetSnapshotIdentifier;
  const attempts = (state.snapshotCopy?.attempts ?? 0) + 1;
  const snapshot = await findClusterSnapshot(targetRdsClient(state.input), id);
  if (!snapshot) throw new ResourceNotFoundError(`Snapshot copy ${id} does not exist in the target account: it was deleted while being copied; start the migration again`);
  assertSnapshotHealthy(snapshot, 'Snapshot copy');
  const created = state.snapshotCopy?.created;
  return { ...snapshotPoll(snapshot, attempts), ...(created === undefined ? {} : { created }) };
}
