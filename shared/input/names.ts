// Every resource crossmove creates is named from the migrationId, never randomly, so a retried
// step can find (and reuse) what an earlier attempt made.
import type { MigrationInputParsed } from './schema.js';

/** Schemas a migration may not name: the server's own and crossmove's (heartbeat, copy bookkeeping). Here, not in schema.ts, so a check can use them without loading zod. */
export const RESERVED_SCHEMAS = ['mysql', 'information_schema', 'performance_schema', 'sys', 'crossmove', 'crossmove_load'];

export interface ResourceNames {
  /** Step Functions execution name (one running execution per migration). */
  executionName: string;
  /** Target cluster (the clone / restored snapshot). */
  targetClusterIdentifier: string;
  /** Cluster parameter group crossmove creates for the target cluster when target.dbClusterParameterGroupName is not given. */
  targetClusterParameterGroupName: string;
  /** Writer instance created in the target cluster. */
  targetWriterIdentifier: string;
  /** AWS RAM resource share in the source account. */
  resourceShareName: string;
  /** Sid of the statement added to the source KMS key policy. */
  kmsStatementSid: string;
  /** Source cluster snapshot (snapshot path). */
  sourceSnapshotIdentifier: string;
  /** Source-account copy of the source snapshot, re-encrypted and in the target region, when it must be (snapshot path). */
  sourceShareableSnapshotIdentifier: string;
  /** Copy of the snapshot in the target account/region (snapshot path). */
  targetSnapshotIdentifier: string;
  /** Secrets Manager secret (target account) holding the clone's master user and the password crossmove set. */
  targetAdminSecretName: string;
  /** Secrets Manager secret (or local secret file) holding the replication user's password. */
  replicationSecretName: string;
  /** Logical copy's frozen source in the source account: the RDS read replica, or the Aurora clone cluster. */
  frozenSourceIdentifier: string;
  /** The Aurora clone's instance (initialLoad.frozenSource kind source-clone). */
  frozenSourceInstanceIdentifier: string;
  /** Schema on the source that holds the heartbeat table. */
  heartbeatSchema: string;
}

export function deriveNames(migrationId: string, input: Pick<MigrationInputParsed, 'target'>): ResourceNames {
  const cluster = input.target.clusterIdentifier ?? `crossmove-${migrationId}`;
  const sidSuffix = migrationId.replace(/[^a-z0-9]/g, '');
  return {
    executionName: migrationId,
    targetClusterIdentifier: cluster,
    targetWriterIdentifier: `${cluster}-writer`.slice(0, 63),
    targetClusterParameterGroupName: `crossmove-${migrationId}`,
    resourceShareName: `crossmove-${migrationId}`,
    kmsStatementSid: `CrossmoveTargetAccess${sidSuffix}`,
    sourceSnapshotIdentifier: `crossmove-${migrationId}-source`,
    sourceShareableSnapshotIdentifier: `crossmove-${migrationId}-shareable`,
    targetSnapshotIdentifier: `crossmove-${migrationId}-copy`,
    targetAdminSecretName: `crossmove/${migrationId}/target-admin`,
    replicationSecretName: `crossmove/${migrationId}/replication-user`,
    frozenSourceIdentifier: `crossmove-${migrationId}-frozen`,
    frozenSourceInstanceIdentifier: `crossmove-${migrationId}-frozen-1`,
    heartbeatSchema: 'crossmove',
  };
}
