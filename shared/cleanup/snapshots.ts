// Cleanup (snapshot path): the source snapshot (source account; deleting it also ends its share), the
// shareable copy of it when one was needed, and its copy in the target account. Each only when it is
// crossmove's: the source snapshot of this cluster, the copies tagged with this migrationId.
import { logStep } from '../logger.js';
import type { CleanupItem } from '../state.js';
import { errorName } from '../aws/call.js';
import { madeByMigration, sourceRdsClient, targetRdsClient } from '../aws/rds.js';
import { findClusterSnapshot } from '../aws/snapshot.js';
import { deleteClusterSnapshot } from '../aws/snapshot-changes.js';
import { clusterNameOfArn, isShareableCopyOf } from '../aws/snapshot-source.js';
import type { RDSClient } from '@aws-sdk/client-rds';
import { item, type CleanupState } from './types.js';

async function deleteIfPresent(rds: RDSClient, id: string): Promise<'removed' | 'gone'> {
  try {
    await deleteClusterSnapshot(rds, id);
    return 'removed';
  } catch (err) {
    if (errorName(err) === 'DBClusterSnapshotNotFoundFault') return 'gone';
    throw err;
  }
}

export async function removeSnapshots(state: CleanupState): Promise<CleanupItem[]> {
  const { input, accounts } = state;
  if (input.initialLoad.method !== 'snapshot' || !input.source.clusterArn) return [];
  const items: CleanupItem[] = [];

  const copyId = input.names.targetSnapshotIdentifier;
  const targetRds = targetRdsClient(input);
  const copy = await findClusterSnapshot(targetRds, copyId);
  if (!copy) items.push(item('target-snapshot-copy', copyId, accounts.target, 'gone'));
  else if (!madeByMigration(copy, input.migrationId)) items.push(item('target-snapshot-copy', copyId, accounts.target, 'kept', `not tagged crossmove:migrationId=${input.migrationId}`));
  else {
    logStep('delete the snapshot copy', { snapshotIdentifier: copyId });
    items.push(item('target-snapshot-copy', copyId, accounts.target, await deleteIfPresent(targetRds, copyId)));
  }

  // The source-account copy made for sharing (snapshot-plan.ts needsShareableCopy), in the target region.
  const shareableId = input.names.sourceShareableSnapshotIdentifier;
  const shareableRds = await sourceRdsClient(input, accounts.targetRegion);
  const shareable = await findClusterSnapshot(shareableRds, shareableId);
  if (shareable && !isShareableCopyOf(shareable, input, accounts.source)) {
    items.push(item('source-shareable-copy', shareableId, accounts.source, 'kept', `not a copy of ${input.names.sourceSnapshotIdentifier}`));
  } else if (shareable) {
    logStep('delete the shareable copy of the source snapshot', { snapshotIdentifier: shareableId, account: accounts.source, region: accounts.targetRegion });
    items.push(item('source-shareable-copy', shareableId, accounts.source, await deleteIfPresent(shareableRds, shareableId)));
  }

  const sourceId = input.names.sourceSnapshotIdentifier;
  const clusterId = clusterNameOfArn(input.source.clusterArn);
  const sourceRds = await sourceRdsClient(input);
  const snap = await findClusterSnapshot(sourceRds, sourceId);
  if (!snap) items.push(item('source-snapshot', sourceId, accounts.source, 'gone'));
  else if (snap.DBClusterIdentifier !== clusterId) items.push(item('source-snapshot', sourceId, accounts.source, 'kept', `it belongs to cluster ${snap.DBClusterIdentifier}, not ${clusterId}`));
  else {
    logStep('delete the source snapshot', { snapshotIdentifier: sourceId, account: accounts.source });
    items.push(item('source-snapshot', sourceId, accounts.source, await deleteIfPresent(sourceRds, sourceId)));
  }
  return items;
}
