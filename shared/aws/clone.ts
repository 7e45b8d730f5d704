// "Clone the cluster" and "Check the clone" in the target account: a copy-on-write restore from the
// source ARN, named and tagged from the migrationId so a retry finds it instead of cloning twice.
import type { DBCluster, RDSClient } from '@aws-sdk/client-rds';
import { ResourceConflictError, ResourceFailedError, ResourceNotFoundError } from '../errors.js';
import { logStep } from '../logger.js';
import type { ClusterPoll, MigrationState } from '../state.js';
import { errorName } from './call.js';
import { findCluster, madeByMigration, targetRdsClient } from './rds.js';
import { restoreCopyOnWriteClone } from './rds-changes.js';
import { ensureTargetParameterGroup } from './target-parameter-group.js';

/** Cluster states that never turn into `available` without a human. */
const FAILED_CLUSTER_STATES = new Set([
  'failed',
  'inaccessible-encryption-credentials',
  'inaccessible-encryption-credentials-recoverable',
  'incompatible-parameters',
  'incompatible-restore',
  'migration-failed',
]);

export function clusterPoll(cluster: DBCluster, attempts: number, created?: boolean): ClusterPoll {
  return {
    done: cluster.Status === 'available',
    attempts,
    status: cluster.Status ?? 'unknown',
    clusterIdentifier: cluster.DBClusterIdentifier!,
    clusterArn: cluster.DBClusterArn,
    endpoint: cluster.Endpoint,
    port: cluster.Port,
    ...(created === undefined ? {} : { created }),
    ...(cluster.ClusterCreateTime ? { createdAt: new Date(cluster.ClusterCreateTime).toISOString() } : {}),
    ...(cluster.DBClusterParameterGroup ? { parameterGroup: cluster.DBClusterParameterGroup } : {}),
  };
}

export function conflictMessage(id: string, migrationId: string): string {
  return `Target cluster identifier ${id} is already used by a cluster crossmove did not make for migration ${migrationId} (no tag crossmove:migrationId=${migrationId}); choose another target.clusterIdentifier or delete that cluster`;
}

/**
 * Where the target cluster goes (clone and restore alike): the input's key and network, and the cluster
 * parameter group ensureTargetParameterGroup made sure of (binlogs on).
 */
export function targetClusterSettings(input: MigrationState['input'], dbClusterParameterGroupName: string) {
  return {
    migrationId: input.migrationId,
    kmsKeyId: input.target.kmsKeyId,
    dbClusterParameterGroupName,
    vpcSecurityGroupIds: input.target.vpcSecurityGroupIds,
    dbSubnetGroupName: input.target.dbSubnetGroupName,
  };
}

/** The create call said the cluster already exists: an earlier attempt won the race. Ours is reused. */
export async function reuseAfterCreateRace(rds: RDSClient, id: string, migrationId: string): Promise<ClusterPoll> {
  const again = await findCluster(rds, id);
  if (again && madeByMigration(again, migrationId)) return clusterPoll(again, 0, false);
  throw new ResourceConflictError(conflictMessage(id, migrationId));
}

export async function ensureClone(state: Pick<MigrationState, 'input' | 'preflight'>): Promise<ClusterPoll> {
  const { input } = state;
  const id = input.names.targetClusterIdentifier;
  const rds = targetRdsClient(input);
  const existing = await findCluster(rds, id);
  if (existing) {
    if (!madeByMigration(existing, input.migrationId)) throw new ResourceConflictError(conflictMessage(id, input.migrationId));
    return clusterPoll(existing, 0, false);
  }
  const spec = {
    sourceClusterArn: input.source.clusterArn!,
    clusterIdentifier: id,
    ...targetClusterSettings(input, await ensureTargetParameterGroup(state)),
  };
  logStep('clone the source cluster (copy-on-write)', { source: spec.sourceClusterArn, clusterIdentifier: id });
  try {
    return clusterPoll(await restoreCopyOnWriteClone(rds, spec), 0, true);
  } catch (err) {
    const name = errorName(err);
    if (name === 'DBClusterAlreadyExistsFault') return reuseAfterCreateRace(rds, id, input.migrationId);
    if (name === 'DBClusterNotFoundFault') {
      throw new ResourceNotFoundError(
        `Source cluster ${spec.sourceClusterArn} is not visible to the target account: check the RAM share was accepted ("Accept the share") and that both sides are in the same region`,
      );
    }
    if (name === 'KMSKeyNotAccessibleFault') {
      throw new ResourceNotFoundError(
        `KMS key not accessible for the clone of ${spec.sourceClusterArn}: the source key policy must allow the target account ("Let the target use the KMS key") and target.kmsKeyId${spec.kmsKeyId ? ` (${spec.kmsKeyId})` : ''} must be usable by the pipeline role`,
      );
    }
    throw err;
  }
}

export async function checkClone(state: Pick<MigrationState, 'input' | 'clone'>): Promise<ClusterPoll> {
  const id = state.input.names.targetClusterIdentifier;
  const attempts = (state.clone?.attempts ?? 0) + 1;
  const cluster = await findCluster(targetRdsClient(state.input), id);
  if (!cluster) throw new ResourceNotFoundError(`Target cluster ${id} does not exist: it was deleted while the clone was being created`);
  if (FAILED_CLUSTER_STATES.has(cluster.Status ?? '')) {
    throw new ResourceFailedError(`Target cluster ${id} is ${cluster.Status}: the clone failed; see its RDS events, delete it and re-run`);
  }
  return { ...clusterPoll(cluster, attempts), ...(state.clone?.created === undefined ? {} : { created: state.clone.created }) };
}
