// "Snapshot the source", "Check the source snapshot" and "Share the snapshot": in the source account
// (assumed role), in the source cluster's region. The snapshot is named from the migrationId, so a
// retried step finds it instead of taking a second one.
import { PreflightFailedError, ResourceConflictError, ResourceNotFoundError, TransientError } from '../errors.js';
import { logStep } from '../logger.js';
import type { MigrationState, SnapshotPoll, SnapshotShareResult } from '../state.js';
import { errorName } from './call.js';
import { describeKey, sourceKmsClient } from './kms.js';
import { sourceRdsClient } from './rds.js';
import type { DBClusterSnapshot } from '@aws-sdk/client-rds';
import { findClusterSnapshot, restoreAccounts } from './snapshot.js';
import { addRestoreAccount, copyClusterSnapshot, createClusterSnapshot } from './snapshot-changes.js';
import { needsShareableCopy, snapshotPathBlocker, type SnapshotSourceFacts } from './snapshot-plan.js';
import { assertSnapshotHealthy, snapshotPoll } from './snapshot-poll.js';

type SourceState = Pick<MigrationState, 'input' | 'accounts' | 'preflight'>;

export function clusterNameOfArn(arn: string): string {
  return arn.split(':cluster:')[1] ?? arn;
}

/** What the snapshot path needs to know about the source key (read-only, source account). */
async function sourceFacts(state: SourceState): Promise<SnapshotSourceFacts> {
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
  const facts = await sourceFacts(state);
  const blocker = snapshotPathBlocker(input, accounts, facts);
  if (blocker) throw blocker;
  const viaShareableCopy = needsShareableCopy(accounts, facts);
  const poll = await ensureOwnSnapshot(state);
  if (!viaShareableCopy) return poll;
  // Available at once (an earlier attempt took it): go straight on to the shareable copy.
  return poll.done ? ensureShareableCopy(state, poll) : { ...poll, viaShareableCopy, stage: 'source' };
}

async function ensureOwnSnapshot(state: SourceState): Promise<SnapshotPoll> {
  const { input, accounts } = state;
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

export async function checkSourceSnapshot(state: Pick<MigrationState, 'input' | 'accounts' | 'sourceSnapshot'>): Promise<SnapshotPoll> {
  const previous = state.sourceSnapshot;
  const attempts = (previous?.attempts ?? 0) + 1;
  if (previous?.stage === 'shareable-copy') return { ...(await ensureShareableCopy(state, previous)), attempts };
  const id = state.input.names.sourceSnapshotIdentifier;
  const snapshot = await findClusterSnapshot(await sourceRdsClient(state.input), id);
  if (!snapshot) throw new ResourceNotFoundError(`Source snapshot ${id} does not exist: it was deleted while being created; start the migration again`);
  assertSnapshotHealthy(snapshot, 'Source snapshot');
  const created = previous?.created;
  const poll = { ...snapshotPoll(snapshot, attempts), ...(created === undefined ? {} : { created }) };
  if (!previous?.viaShareableCopy) return poll;
  return poll.done ? { ...(await ensureShareableCopy(state, poll)), attempts } : { ...poll, viaShareableCopy: true, stage: 'source' };
}

/**
 * Whether `snapshot` is the shareable copy made from this migration's source snapshot (it carries no
 * tag): copied from that snapshot, or, where the answer leaves out SourceDBClusterSnapshotArn, a snapshot
 * of the source cluster under crossmove's name.
 */
export function isShareableCopyOf(snapshot: DBClusterSnapshot, input: MigrationState['input'], sourceAccount: string | null): boolean {
  const from = snapshot.SourceDBClusterSnapshotArn;
  if (from) return from.endsWith(`:${sourceAccount}:cluster-snapshot:${input.names.sourceSnapshotIdentifier}`);
  return snapshot.DBClusterIdentifier === clusterNameOfArn(input.source.clusterArn ?? '');
}

/**
 * The source-account copy of the source snapshot in the target region, re-encrypted with
 * source.snapshotKmsKeyId when encrypted (snapshot-plan.ts needsShareableCopy): started once, then
 * polled. It is what later steps share and copy. Named from the migrationId and recognised by the
 * snapshot it was copied from, so a retry finds its own copy.
 */
async function ensureShareableCopy(state: Pick<MigrationState, 'input' | 'accounts'>, from: SnapshotPoll): Promise<SnapshotPoll> {
  const { input, accounts } = state;
  const id = input.names.sourceShareableSnapshotIdentifier;
  const region = accounts.targetRegion ?? from.region;
  const rds = await sourceRdsClient(input, region);
  const shaped = (s: DBClusterSnapshot, created?: boolean): SnapshotPoll => ({ ...snapshotPoll(s, from.attempts, created), viaShareableCopy: true, stage: 'shareable-copy' });
  const reuse = async (): Promise<SnapshotPoll | null> => {
    const existing = await findClusterSnapshot(rds, id);
    if (!existing) return null;
    if (!isShareableCopyOf(existing, input, accounts.source)) {
      throw new ResourceConflictError(
        `Snapshot ${id} in account ${accounts.source} (${region}) is not crossmove's copy of ${input.names.sourceSnapshotIdentifier} (it was copied from ${existing.SourceDBClusterSnapshotArn ?? 'no snapshot'}); delete or rename it, or change migrationId`,
      );
    }
    assertSnapshotHealthy(existing, 'Shareable copy of the source snapshot');
    return shaped(existing);
  };
  if (from.stage === 'shareable-copy') {
    const again = await reuse();
    if (!again) throw new ResourceNotFoundError(`Shareable copy ${id} in account ${accounts.source} (${region}) does not exist: it was deleted while being copied; start the migration again`);
    return again;
  }
  const found = await reuse();
  if (found) return found;
  const spec = {
    sourceSnapshotArn: from.snapshotArn,
    targetSnapshotIdentifier: id,
    migrationId: input.migrationId,
    // RDS rejects a KmsKeyId for an unencrypted snapshot.
    ...(from.encrypted ? { kmsKeyId: input.source.snapshotKmsKeyId } : {}),
    tag: false,
  };
  logStep('copy the source snapshot in the source account, re-encrypted, into the target region (it can then be shared and copied)', {
    from: spec.sourceSnapshotArn,
    snapshotIdentifier: id,
    kmsKeyId: spec.kmsKeyId,
    region,
    account: accounts.source,
  });
  try {
    return shaped(await copyClusterSnapshot(rds, spec), true);
  } catch (err) {
    const name = errorName(err);
    if (name === 'DBClusterSnapshotAlreadyExistsFault') {
      const again = await reuse();
      if (again) return again;
    }
    if (name === 'KMSKeyNotAccessibleFault') {
      throw new ResourceNotFoundError(
        `KMS key not accessible while copying ${spec.sourceSnapshotArn} into ${region}: source.snapshotKmsKeyId (${spec.kmsKeyId}) must be an enabled key of account ${accounts.source} in ${region} that the source-account role may use, and the role must be allowed to use the cluster's key`,
      );
    }
    if (name === 'InvalidDBClusterSnapshotStateFault') {
      throw new TransientError(`Snapshot ${spec.sourceSnapshotArn} cannot be copied yet (${(err as Error).message}); the step is retried`, { cause: err });
    }
    throw err;
  }
}

export async function ensureSnapshotShared(state: Pick<MigrationState, 'input' | 'accounts' | 'sourceSnapshot'>): Promise<SnapshotShareResult> {
  const { input, accounts } = state;
  const snapshot = state.sourceSnapshot;
  if (!snapshot?.done) throw new ResourceNotFoundError('The source snapshot is not available yet: "Snapshot the source" must finish before "Share the snapshot"');
  if (accounts.sameAccount) return { snapshotArn: snapshot.snapshotArn, sharedWith: null, added: false, skipped: true };
  const target = accounts.target!;
  // The snapshot's own region: the shareable copy lives in the target region.
  const rds = await sourceRdsClient(input, snapshot.region);
  const accountsNow = await restoreAccounts(rds, snapshot.snapshotIdentifier);
  if (accountsNow.includes(target)) return { snapshotArn: snapshot.snapshotArn, sharedWith: target, added: false };
  logStep('let the target account restore the snapshot', { snapshotIdentifier: snapshot.snapshotIdentifier, targetAccount: target });
  await addRestoreAccount(rds, snapshot.snapshotIdentifier, target);
  return { snapshotArn: snapshot.snapshotArn, sharedWith: target, added: true };
}
