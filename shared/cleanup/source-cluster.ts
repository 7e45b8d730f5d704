// Cleanup: the old source cluster, only when the operator asks (cleanupOptions.sourceCluster stop or
// delete) and only after a cutover that succeeded. Stopping or deleting it ends any reverse
// replication (the fallback), which is why it is never a default.
import { CleanupRefusedError } from '../errors.js';
import { logStep } from '../logger.js';
import type { CleanupItem } from '../state.js';
import { errorName } from '../aws/call.js';
import { findCluster, findInstance, sourceRdsClient } from '../aws/rds.js';
import { deleteClusterWithFinalSnapshot, deleteInstance, stopCluster } from '../aws/rds-changes.js';
import { clusterNameOfArn } from '../aws/snapshot-source.js';
import { item, type CleanupState } from './types.js';

const GONE_OR_GOING = new Set(['deleting']);
const STOPPED = new Set(['stopped', 'stopping']);

function finalSnapshotIdentifier(migrationId: string): string {
  return `crossmove-${migrationId}-final`;
}

/** Throws (before anything is changed) when stop/delete was asked without the conditions for it. */
export function assertSourceShutdownAllowed(state: CleanupState): void {
  const wanted = state.cleanupOptions?.sourceCluster ?? 'keep';
  if (wanted === 'keep') return;
  if (!state.input.source.clusterArn) {
    throw new CleanupRefusedError(`cleanupOptions.sourceCluster ${wanted} needs an Aurora source (source.clusterArn); nothing was changed`);
  }
  if (state.cutover?.ok !== true || state.cutover.rolledBack) {
    throw new CleanupRefusedError(
      `cleanupOptions.sourceCluster ${wanted} is refused: the state shows no successful cutover (cutover.ok ${state.cutover?.ok ?? 'missing'}). Pass the migration's final output, or leave sourceCluster at keep; nothing was changed`,
    );
  }
}

export async function shutDownSource(state: CleanupState): Promise<CleanupItem[]> {
  const { input, accounts } = state;
  const wanted = state.cleanupOptions?.sourceCluster ?? 'keep';
  const arn = input.source.clusterArn;
  if (!arn) return [];
  if (wanted === 'keep') return [item('source-cluster', arn, accounts.source, 'kept', 'not asked to (cleanupOptions.sourceCluster stop or delete)')];
  assertSourceShutdownAllowed(state);
  const id = clusterNameOfArn(arn);
  const rds = await sourceRdsClient(input);
  const cluster = await findCluster(rds, arn);
  if (!cluster) return [item('source-cluster', arn, accounts.source, 'gone')];
  if (GONE_OR_GOING.has(cluster.Status ?? '')) return [item('source-cluster', arn, accounts.source, 'pending', 'being deleted')];

  if (wanted === 'stop') {
    if (STOPPED.has(cluster.Status ?? '')) return [item('source-cluster', arn, accounts.source, 'gone', `already ${cluster.Status}`)];
    logStep('stop the old source cluster', { clusterIdentifier: id });
    await stopCluster(rds, id);
    return [item('source-cluster', arn, accounts.source, 'stopped', 'Aurora starts a stopped cluster again after 7 days; delete it when it is no longer needed')];
  }

  if (cluster.DeletionProtection) {
    return [item('source-cluster', arn, accounts.source, 'blocked', `deletion protection is on: turn it off (aws rds modify-db-cluster --db-cluster-identifier ${id} --no-deletion-protection) and run cleanup again`)];
  }
  const items: CleanupItem[] = [];
  let waiting = 0;
  for (const member of cluster.DBClusterMembers ?? []) {
    const instanceId = member.DBInstanceIdentifier!;
    const instance = await findInstance(rds, instanceId);
    if (!instance) continue;
    if (instance.DBInstanceStatus !== 'deleting') {
      logStep('delete an instance of the old source cluster', { instanceIdentifier: instanceId, clusterIdentifier: id });
      await deleteInstance(rds, instanceId);
    }
    // Confirmed gone only when it is no longer found (moto removes it at once; AWS takes minutes).
    if (await findInstance(rds, instanceId)) {
      waiting++;
      items.push(item('source-instance', instanceId, accounts.source, 'pending', 'being deleted'));
    } else items.push(item('source-instance', instanceId, accounts.source, 'removed'));
  }
  if (waiting) {
    items.push(item('source-cluster', arn, accounts.source, 'pending', 'its instances are being deleted; run cleanup again in a few minutes to delete the cluster'));
    return items;
  }
  const finalSnapshot = finalSnapshotIdentifier(input.migrationId);
  logStep('delete the old source cluster', { clusterIdentifier: id, finalSnapshot });
  try {
    await deleteClusterWithFinalSnapshot(rds, id, finalSnapshot);
  } catch (err) {
    if (errorName(err) === 'DBClusterNotFoundFault') return [...items, item('source-cluster', arn, accounts.source, 'gone')];
    throw err;
  }
  items.push(item('source-cluster', arn, accounts.source, 'removed', `final snapshot ${finalSnapshot} kept in account ${accounts.source}`));
  return items;
}
