// Cleanup: the logical copy's frozen source made in the SOURCE account, a read replica of an RDS
// instance (initialLoad.frozenSource rds-replica) or a copy-on-write clone of the Aurora source with
// its one instance (source-clone), found by the names crossmove gives them (crossmove-<id>-frozen,
// -frozen-1) and removed only when they carry this migration's tag. Nothing reads them once the copy is
// done; each costs an instance while it exists. Without snapshots (they hold nothing the source lacks).
// The clone's cluster goes once its instance is gone: the first run deletes the instance (pending),
// a later one the cluster. A named replica is not crossmove's: "Finish the copy" started it again.
import { logStep } from '../logger.js';
import { errorName } from '../aws/call.js';
import type { CleanupItem } from '../state.js';
import { findCluster, findInstance, madeByMigration } from '../aws/rds.js';
import { frozenSourceRdsClient } from '../aws/frozen-source-access.js';
import { deleteFrozenCluster, deleteFrozenInstance } from '../aws/frozen-source-changes.js';
import { item, type CleanupState } from './types.js';

const GOING = new Set(['deleting']);

/**
 * Which frozen source this migration may have made in the source account: the one its state records
 * ("Prepare the frozen source"), else the one its input names. With kind auto and no state, the kind
 * that auto would make there is looked for (the source role may lack the permission: then nothing was
 * made with it either).
 */
function madeKinds(state: CleanupState): { replica: boolean; clone: boolean; guessed: boolean } {
  const { input } = state;
  const none = { replica: false, clone: false, guessed: false };
  if (input.initialLoad.method !== 'logical') return none;
  const recorded = state.frozenSource?.kind;
  if (recorded) return { replica: recorded === 'rds-replica', clone: recorded === 'source-clone', guessed: false };
  const f = input.initialLoad.frozenSource;
  if (f.kind !== 'auto') return { replica: f.kind === 'rds-replica', clone: f.kind === 'source-clone', guessed: false };
  return { replica: !!f.sourceInstanceArn, clone: !f.sourceInstanceArn && !!input.source.clusterArn, guessed: true };
}

export async function removeFrozenSource(state: CleanupState): Promise<CleanupItem[]> {
  const kinds = madeKinds(state);
  if (!kinds.replica && !kinds.clone) return [];
  try {
    return await removeKinds(state, kinds);
  } catch (err) {
    if (!kinds.guessed || !/AccessDenied/.test(errorName(err) ?? '')) throw err;
    const id = state.input.names.frozenSourceIdentifier;
    return [item(kinds.replica ? 'frozen-source-instance' : 'frozen-source-cluster', id, state.accounts.source, 'skipped', 'initialLoad.frozenSource auto, and the source role may not read frozen sources (deployed with FrozenSource none): none was made with it')];
  }
}

async function removeKinds(state: CleanupState, kinds: { replica: boolean; clone: boolean }): Promise<CleanupItem[]> {
  const { input, accounts } = state;
  const names = input.names;
  const rds = await frozenSourceRdsClient(input, kinds.replica ? 'rds-replica' : 'source-clone');
  const instanceId = kinds.replica ? names.frozenSourceIdentifier : names.frozenSourceInstanceIdentifier;
  const kindName = kinds.replica ? 'read replica' : "clone's instance";
  const items: CleanupItem[] = [];

  const instance = await findInstance(rds, instanceId);
  let instanceLeft = false;
  if (!instance) items.push(item('frozen-source-instance', instanceId, accounts.source, 'gone'));
  else if (!madeByMigration(instance, input.migrationId)) {
    items.push(item('frozen-source-instance', instanceId, accounts.source, 'kept', `not tagged crossmove:migrationId=${input.migrationId}: not made by this migration`));
  } else if (GOING.has(instance.DBInstanceStatus ?? '')) {
    instanceLeft = true;
    items.push(item('frozen-source-instance', instanceId, accounts.source, 'pending', 'being deleted; run cleanup again'));
  } else {
    logStep(`delete the frozen source's ${kindName}`, { identifier: instanceId });
    await deleteFrozenInstance(rds, instanceId);
    instanceLeft = true;
    items.push(item('frozen-source-instance', instanceId, accounts.source, kinds.clone ? 'pending' : 'removed', kinds.clone ? 'deletion started; the clone cluster goes on the next cleanup run' : `the ${kindName}, without a final snapshot`));
  }
  if (!kinds.clone) return items;

  const clusterId = names.frozenSourceIdentifier;
  const cluster = await findCluster(rds, clusterId);
  if (!cluster) items.push(item('frozen-source-cluster', clusterId, accounts.source, 'gone'));
  else if (!madeByMigration(cluster, input.migrationId)) items.push(item('frozen-source-cluster', clusterId, accounts.source, 'kept', `not tagged crossmove:migrationId=${input.migrationId}: not made by this migration`));
  else if (GOING.has(cluster.Status ?? '')) items.push(item('frozen-source-cluster', clusterId, accounts.source, 'pending', 'being deleted'));
  else if (instanceLeft || (cluster.DBClusterMembers ?? []).length > 0) {
    items.push(item('frozen-source-cluster', clusterId, accounts.source, 'pending', 'waits for its instance to be deleted; run cleanup again'));
  } else {
    logStep('delete the frozen source clone', { identifier: clusterId });
    await deleteFrozenCluster(rds, clusterId);
    items.push(item('frozen-source-cluster', clusterId, accounts.source, 'removed', 'the clone, without a final snapshot (the source keeps the data)'));
  }
  return items;
}
