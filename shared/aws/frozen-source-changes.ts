// RDS, changes in the SOURCE account (assumed role) for the logical copy's frozen sources: a read
// replica of an RDS MySQL/MariaDB instance, or an Aurora copy-on-write clone of the source cluster with
// one instance, each named crossmove-<migrationId>-frozen and tagged with the migration, and their
// deletion by cleanup. Reads are rds.ts's; callers look first, so a retried step reuses what it made.
import {
  CreateDBInstanceReadReplicaCommand,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  RestoreDBClusterToPointInTimeCommand,
  type CreateDBInstanceReadReplicaCommandInput,
  type DBCluster,
  type DBInstance,
  type RDSClient,
  type RestoreDBClusterToPointInTimeCommandInput,
} from '@aws-sdk/client-rds';
import { awsCall } from './call.js';
import { createWriterInstance } from './rds-changes.js';
import { migrationTags } from './rds.js';

export interface ReadReplicaSpec {
  identifier: string;
  migrationId: string;
  /** The source instance (ARN). */
  source: DBInstance & { DBInstanceArn: string };
  instanceClass?: string;
}

/**
 * The replica sits where the source does (its subnet group and security groups, so crossmove's
 * functions reach it as they reach the source), with the source's DB parameter and option groups;
 * single-AZ, no deletion protection, no automatic minor upgrade: it lives for the copy only.
 */
function readReplicaRequest(spec: ReadReplicaSpec): CreateDBInstanceReadReplicaCommandInput {
  const s = spec.source;
  return {
    DBInstanceIdentifier: spec.identifier,
    SourceDBInstanceIdentifier: s.DBInstanceArn,
    DBInstanceClass: spec.instanceClass ?? s.DBInstanceClass,
    ...(s.DBSubnetGroup?.DBSubnetGroupName ? { DBSubnetGroupName: s.DBSubnetGroup.DBSubnetGroupName } : {}),
    ...(s.VpcSecurityGroups?.length ? { VpcSecurityGroupIds: s.VpcSecurityGroups.map((g) => g.VpcSecurityGroupId!).filter(Boolean) } : {}),
    ...(s.DBParameterGroups?.[0]?.DBParameterGroupName ? { DBParameterGroupName: s.DBParameterGroups[0].DBParameterGroupName } : {}),
    ...(s.OptionGroupMemberships?.[0]?.OptionGroupName ? { OptionGroupName: s.OptionGroupMemberships[0].OptionGroupName } : {}),
    PubliclyAccessible: s.PubliclyAccessible ?? false,
    MultiAZ: false,
    AutoMinorVersionUpgrade: false,
    DeletionProtection: false,
    Tags: migrationTags(spec.migrationId),
  };
}

export async function createReadReplica(client: RDSClient, spec: ReadReplicaSpec): Promise<DBInstance> {
  const out = await awsCall(`RDS CreateDBInstanceReadReplica ${spec.identifier}`, () => client.send(new CreateDBInstanceReadReplicaCommand(readReplicaRequest(spec))));
  return out.DBInstance!;
}

export interface SourceCloneSpec {
  identifier: string;
  migrationId: string;
  source: DBCluster & { DBClusterArn: string };
}

/**
 * A copy-on-write clone in the source's own account, subnets and security groups, with the source's
 * cluster parameter group (binlogs on: the clone reports the source's binlog position of the clone
 * point in its "Binlog position from crash recovery" event only then) and its key.
 */
function sourceCloneRequest(spec: SourceCloneSpec): RestoreDBClusterToPointInTimeCommandInput {
  const s = spec.source;
  return {
    SourceDBClusterIdentifier: s.DBClusterArn,
    DBClusterIdentifier: spec.identifier,
    RestoreType: 'copy-on-write',
    UseLatestRestorableTime: true,
    ...(s.DBClusterParameterGroup ? { DBClusterParameterGroupName: s.DBClusterParameterGroup } : {}),
    ...(s.DBSubnetGroup ? { DBSubnetGroupName: s.DBSubnetGroup } : {}),
    ...(s.VpcSecurityGroups?.length ? { VpcSecurityGroupIds: s.VpcSecurityGroups.map((g) => g.VpcSecurityGroupId!).filter(Boolean) } : {}),
    ...(s.StorageEncrypted && s.KmsKeyId ? { KmsKeyId: s.KmsKeyId } : {}),
    DeletionProtection: false,
    Tags: migrationTags(spec.migrationId),
  };
}

export async function restoreSourceClone(client: RDSClient, spec: SourceCloneSpec): Promise<DBCluster> {
  const out = await awsCall(`RDS RestoreDBClusterToPointInTime ${spec.identifier}`, () => client.send(new RestoreDBClusterToPointInTimeCommand(sourceCloneRequest(spec))));
  return out.DBCluster!;
}

/** The source-account clone's one instance: made like the target's writer (private, tagged with the migration). */
export async function createCloneInstance(client: RDSClient, spec: { identifier: string; clusterIdentifier: string; instanceClass: string; migrationId: string }): Promise<DBInstance> {
  return createWriterInstance(client, { instanceIdentifier: spec.identifier, clusterIdentifier: spec.clusterIdentifier, instanceClass: spec.instanceClass, migrationId: spec.migrationId });
}

/** Deletes a frozen source's instance: no final snapshot, no automated backups kept (it is a throwaway copy). */
export async function deleteFrozenInstance(client: RDSClient, identifier: string): Promise<void> {
  await awsCall(`RDS DeleteDBInstance ${identifier}`, () =>
    client.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: identifier, SkipFinalSnapshot: true, DeleteAutomatedBackups: true })),
  );
}

/** Deletes the clone cluster once it has no instance left, without a final snapshot (the source keeps the data). */
export async function deleteFrozenCluster(client: RDSClient, identifier: string): Promise<void> {
  await awsCall(`RDS DeleteDBCluster ${identifier}`, () => client.send(new DeleteDBClusterCommand({ DBClusterIdentifier: identifier, SkipFinalSnapshot: true })));
}
