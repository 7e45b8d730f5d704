// "Restore the snapshot": a new target cluster from the copy, with the source's engine version and the
// target's key, parameter group and network. It returns the same ClusterPoll as "Clone the cluster"
// (stored at $.clone), so the clone path's "Check the clone", "Create the writer", "Check the writer"
// and "Read the clone's binlog position" run unchanged after it.
import { ResourceConflictError, ResourceNotFoundError, TransientError } from '../errors.js';
import { logStep } from '../logger.js';
import type { ClusterPoll, MigrationState } from '../state.js';
import { errorName } from './call.js';
import { clusterPoll, conflictMessage, reuseAfterCreateRace, targetClusterSettings } from './clone.js';
import { findCluster, madeByMigration, targetRdsClient } from './rds.js';
import { restoreClusterFromSnapshot, type RestoreSpec } from './snapshot-changes.js';
import { ensureTargetParameterGroup } from './target-parameter-group.js';

export async function ensureRestoredCluster(state: Pick<MigrationState, 'input' | 'preflight' | 'snapshotCopy'>): Promise<ClusterPoll> {
  const { input } = state;
  const id = input.names.targetClusterIdentifier;
  const rds = targetRdsClient(input);
  const existing = await findCluster(rds, id);
  if (existing) {
    if (!madeByMigration(existing, input.migrationId)) throw new ResourceConflictError(conflictMessage(id, input.migrationId));
    return clusterPoll(existing, 0, false);
  }
  const copy = state.snapshotCopy;
  if (!copy?.done) throw new ResourceNotFoundError('The snapshot copy is not available yet: "Copy the snapshot" must finish before "Restore the snapshot"');
  const sourceVersion = state.preflight?.sourceCluster?.engineVersion;
  const spec: RestoreSpec = {
    snapshotIdentifier: copy.snapshotIdentifier,
    clusterIdentifier: id,
    engineVersion: sourceVersion && sourceVersion !== 'unknown' ? sourceVersion : copy.engineVersion,
    ...targetClusterSettings(input, await ensureTargetParameterGroup(state)),
  };
  logStep('restore the target cluster from the snapshot copy', { snapshotIdentifier: spec.snapshotIdentifier, clusterIdentifier: id, engineVersion: spec.engineVersion });
  try {
    return clusterPoll(await restoreClusterFromSnapshot(rds, spec), 0, true);
  } catch (err) {
    const name = errorName(err);
    if (name === 'DBClusterAlreadyExistsFault') return reuseAfterCreateRace(rds, id, input.migrationId);
    if (name === 'DBClusterSnapshotNotFoundFault') throw new ResourceNotFoundError(`Snapshot copy ${spec.snapshotIdentifier} does not exist in the target account: start the migration again (it is copied again)`);
    if (name === 'InvalidDBClusterSnapshotStateFault') throw new TransientError(`Snapshot copy ${spec.snapshotIdentifier} is not available yet; the step is retried`, { cause: err });
    if (name === 'KMSKeyNotAccessibleFault') throw new ResourceNotFoundError(`target.kmsKeyId ${spec.kmsKeyId ?? '(none)'} is not usable by the pipeline role for restoring ${id}`);
    throw err;
  }
}
