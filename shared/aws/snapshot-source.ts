// "Snapshot the source", "Check the source snapshot" and "Share the snapshot": in the source account
// (assumed role), in the source cluster's region. The snapshot is named from the migrationId, so a
// retried step finds it instead of taking a second one.
import { PreflightFailedError, ResourceConflictError, ResourceNotFoundError, TransientError } from '../errors.js';
import { logStep } from '../logger.js';
import type { MigrationState, SnapshotPoll, SnapshotShareResult } from '../state.js';
import { errorName } from './call.js';
import { describeKey, sourceKmsClient } from './kms.js';
import { sourceRdsClient } from './rds.js';
import { findClusterSnapshot, restoreAccounts } from './snapshot.js';
import { addRestoreAccount, createClusterSnapshot } from './snapshot-changes.js';
import { snapshotPathBlocker, type SnapshotSourceFacts } from './snapshot-plan.js';
import { assertSnapshotHealthy, snapshotPoll } from './snapshot-poll.js';

type SourceState = Pick<MigrationState, 'input' | 'accounts' | 'preflight'>;

export function clusterNameOfArn(arn: string): string {
  return arn.split(':cluster:')[1] ?? arn;
}

/** What the snapshot path needs to know about the source key (read-only, source account). */
export async function sourceFacts(state: SourceState): Promise<SnapshotSourceFacts> {
  const cluster = state.preflight?.sourceCluster;
  if (!cluster) {
    throw new PreflightFailedError('The source cluster was not inspected: "Run preflight checks" must run before "Snapshot the source"');
  }
  const kmsKeyArn = cluster.kmsKeyArn;
  // Only a cross-account share cares whether the key is the AWS-managed one.
  if (!kmsKeyArn || state.accounts.sameAccount) return { kmsKeyArn, keyManager: null };
  const key = await describeKey(await sourceKmsClient(state.input), kmsKeyArn);
  return { kmsKeyArn, keyManager: key.KeyManager === 'AWS' ? 'AWS' : 'CUSTOMER' };
}

export async function ensureSourceSnapshot(state: SourceState): Promise<SnapshotPoll> {
  const { input, accounts } = state;
  const blocker = snapshotPathBlocker(input, accounts, await sourceFacts(state));
  if (blocker) throw blocker;
  const clusterId = clusterNameOfArn(input.source.clusterArn!);
  const snapshotId = input.names.sourceSnapshotIdentifier;
  const rds = await sourceRdsClient(input);
  const reuse = async (): Promise<SnapshotPoll | null> => {
    const existing = await findClusterSnapshot(rds, snapshotId);
    if (!existing) return null;
    if (existing.DBClusterIdentifier !== clusterId) {
      throw new ResourceConflictError(
        `Snapshot ${snapshotId} in account ${accounts.source} belongs to cluster ${existing.DBClusterIdentifier}, not ${clusterId}; delete or rename it, or change migrationId`,
      );
    }
    return snapshotPoll(existing, 0, false);
  };
  const found = await reuse();
  if (found) return found;
  logStep('snapshot the source cluster', { clusterIdentifier: clusterId, snapshotIdentifier: snapshotId, account: accounts.source });
  try {
    return snapshotPoll(await createClusterSnapshot(rds, { clusterIdentifier: clusterId, snapshotIdentifier: snapshotId }), 0, true);
  } catch (err) {
    const name = errorName(err);
    if (name === 'DBClusterSnapshotAlreadyExistsFault') {
      const again = await reuse();
      if (again) return again;
    }
    if (name === 'DBClusterNotFoundFault') throw new ResourceNotFoundError(`Source cluster ${input.source.clusterArn} does not exist or is not visible to the source role`);
    if (name === 'InvalidDBClusterStateFault') {
      throw new TransientError(`Source cluster ${clusterId} cannot be snapshotted right now (${(err as Error).message}); it is busy (backing up, modifying): the step is retried`, { cause: err });
    }
    throw err;
  }
}

export async function checkSourceSnapshot(state: Pick<MigrationState, 'input' | 'sourceSnapshot'>): Promise<SnapshotPoll> {
  const id = state.input.names.sourceSnapshotIdentifier;
  const attempts = (state.sourceSnapshot?.attempts ?? 0) + 1;
  const snapshot = await findClusterSnapshot(await sourceRdsClient(state.input), id);
  if (!snapshot) throw new ResourceNotFoundError(`Source snapshot ${id} does not exist: it was deleted while being created; start the migration again`);
  assertSnapshotHealthy(snapshot, 'Source snapshot');
  const created = state.sourceSnapshot?.created;
  return { ...snapshotPoll(snapshot, attempts), ...(created === undefined ? {} : { created }) };
}

export async function ensureSnapshotShared(state: Pick<MigrationState, 'input' | 'accounts' | 'sourceSnapshot'>): Promise<SnapshotShareResult> {
  const { input, accounts } = state;
  const snapshot = state.sourceSnapshot;
  if (!snapshot?.done) throw new ResourceNotFoundError('The source snapshot is not available yet: "Snapshot the source" must finish before "Share the snapshot"');
  if (accounts.sameAccount) return { snapshotArn: snapshot.snapshotArn, sharedWith: null, added: false, skipped: true };
  const target = accounts.target!;
  const rds = await sourceRdsClient(input);
  const accountsNow = await restoreAccounts(rds, snapshot.snapshotIdentifier);
  if (accountsNow.includes(target)) return { snapshotArn: snapshot.snapshotArn, sharedWith: target, added: false };
  logStep('let the target account restore the snapshot', { snapshotIdentifier: snapshot.snapshotIdentifier, targetAccount: target });
  await addRestoreAccount(rds, snapshot.snapshotIdentifier, target);
  return { snapshotArn: snapshot.snapshotArn, sharedWith: target, added: true };
}
