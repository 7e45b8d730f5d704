// RDS, changes in the target account: the copy-on-write clone, its cluster parameter group and its
// writer instance. Callers check
// first (rds.ts) so a retried step reuses what an earlier attempt made; the *AlreadyExists faults of a
// race are handled there too.
import {
  CreateDBClusterParameterGroupCommand,
  CreateDBInstanceCommand,
  ModifyDBClusterCommand,
  ModifyDBClusterParameterGroupCommand,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  StopDBClusterCommand,
  RestoreDBClusterToPointInTimeCommand,
  type DBCluster,
  type DBInstance,
  type RDSClient,
  type RestoreDBClusterToPointInTimeCommandInput,
} from '@aws-sdk/client-rds';
import { awsCall } from './call.js';
import { migrationTags } from './rds.js';

export interface CloneSpec {
  sourceClusterArn: string;
  clusterIdentifier: string;
  migrationId: string;
  kmsKeyId?: string;
  dbClusterParameterGroupName?: string;
  vpcSecurityGroupIds?: string[];
  dbSubnetGroupName?: string;
}

function cloneRequest(spec: CloneSpec): RestoreDBClusterToPointInTimeCommandInput {
  return {
    // The source must be given by ARN: by name RDS looks in the caller's account (DBClusterNotFoundFault).
    SourceDBClusterIdentifier: spec.sourceClusterArn,
    DBClusterIdentifier: spec.clusterIdentifier,
    RestoreType: 'copy-on-write',
    UseLatestRestorableTime: true,
    ...(spec.kmsKeyId ? { KmsKeyId: spec.kmsKeyId } : {}),
    ...(spec.dbClusterParameterGroupName ? { DBClusterParameterGroupName: spec.dbClusterParameterGroupName } : {}),
    ...(spec.vpcSecurityGroupIds?.length ? { VpcSecurityGroupIds: spec.vpcSecurityGroupIds } : {}),
    ...(spec.dbSubnetGroupName ? { DBSubnetGroupName: spec.dbSubnetGroupName } : {}),
    Tags: migrationTags(spec.migrationId),
  };
}

export async function restoreCopyOnWriteClone(client: RDSClient, spec: CloneSpec): Promise<DBCluster> {
  const out = await awsCall(`RDS RestoreDBClusterToPointInTime ${spec.clusterIdentifier}`, () =>
    client.send(new RestoreDBClusterToPointInTimeCommand(cloneRequest(spec))),
  );
  return out.DBCluster!;
}

/** A cluster parameter group, untagged (tag-on-create would need rds:AddTagsToResource on it): the description names its migration. */
export async function createClusterParameterGroup(client: RDSClient, spec: { name: string; family: string; description: string }): Promise<void> {
  await awsCall(`RDS CreateDBClusterParameterGroup ${spec.name}`, () =>
    client.send(new CreateDBClusterParameterGroupCommand({ DBClusterParameterGroupName: spec.name, DBParameterGroupFamily: spec.family, Description: spec.description })),
  );
}

/** RDS takes at most 20 parameters per ModifyDBClusterParameterGroup call. */
const PARAMETERS_PER_CALL = 20;

/**
 * Sets parameters of a group no cluster uses yet: `pending-reboot` is accepted for static and dynamic
 * parameters alike, and a new cluster starts with whatever its group holds. Setting a value again is a no-op.
 */
export async function setClusterParameters(client: RDSClient, group: string, parameters: { name: string; value: string }[]): Promise<void> {
  for (let i = 0; i < parameters.length; i += PARAMETERS_PER_CALL) {
    const chunk = parameters.slice(i, i + PARAMETERS_PER_CALL);
    await awsCall(`RDS ModifyDBClusterParameterGroup ${group}`, () =>
      client.send(
        new ModifyDBClusterParameterGroupCommand({
          DBClusterParameterGroupName: group,
          Parameters: chunk.map((p) => ({ ParameterName: p.name, ParameterValue: p.value, ApplyMethod: 'pending-reboot' })),
        }),
      ),
    );
  }
}

/**
 * Sets the master user's password of a cluster this account owns (a cross-account clone included). RDS
 * applies it right away whatever ApplyImmediately says, but asynchronously: until it is in effect the
 * cluster shows PendingModifiedValues.MasterUserPassword. A cluster whose master password RDS manages in
 * Secrets Manager is switched back to a password given here (ManageMasterUserPassword false, which makes
 * RDS delete its own secret of THIS cluster): RDS-managed master passwords are not supported with
 * binlog replication (Aurora User Guide, "Password management with Amazon Aurora and AWS Secrets
 * Manager", Limitations).
 */
export async function setMasterUserPassword(client: RDSClient, clusterIdentifier: string, password: string, rdsManagesIt: boolean): Promise<DBCluster> {
  const out = await awsCall(`RDS ModifyDBCluster ${clusterIdentifier} (master password)`, () =>
    client.send(
      new ModifyDBClusterCommand({
        DBClusterIdentifier: clusterIdentifier,
        MasterUserPassword: password,
        ApplyImmediately: true,
        ...(rdsManagesIt ? { ManageMasterUserPassword: false } : {}),
      }),
    ),
  );
  return out.DBCluster!;
}

export interface WriterSpec {
  instanceIdentifier: string;
  clusterIdentifier: string;
  instanceClass: string;
  migrationId: string;
}

export async function createWriterInstance(client: RDSClient, spec: WriterSpec): Promise<DBInstance> {
  const out = await awsCall(`RDS CreateDBInstance ${spec.instanceIdentifier}`, () =>
    client.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: spec.instanceIdentifier,
        DBClusterIdentifier: spec.clusterIdentifier,
        Engine: 'aurora-mysql',
        DBInstanceClass: spec.instanceClass,
        // Always explicit: RDS's default depends on the subnet group (public subnets -> public), and
        // replication and the app reach the target from inside the VPC. Covers the snapshot path too
        // (its restored cluster gets its writer here; the cluster-level flag of the restores is for
        // Multi-AZ DB clusters only).
        PubliclyAccessible: false,
        Tags: migrationTags(spec.migrationId),
      }),
    ),
  );
  return out.DBInstance!;
}

// Cleanup of the old source (source account, assumed role), only on the operator's explicit request.

export async function stopCluster(client: RDSClient, clusterIdentifier: string): Promise<DBCluster> {
  const out = await awsCall(`RDS StopDBCluster ${clusterIdentifier}`, () => client.send(new StopDBClusterCommand({ DBClusterIdentifier: clusterIdentifier })));
  return out.DBCluster!;
}

export async function deleteInstance(client: RDSClient, instanceIdentifier: string): Promise<void> {
  await awsCall(`RDS DeleteDBInstance ${instanceIdentifier}`, () => client.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: instanceIdentifier })));
}

/** Deletes a cluster with no instances left, keeping a final snapshot (a deleted source cannot come back otherwise). */
export async function deleteClusterWithFinalSnapshot(client: RDSClient, clusterIdentifier: string, finalSnapshotIdentifier: string): Promise<DBCluster> {
  const out = await awsCall(`RDS DeleteDBCluster ${clusterIdentifier}`, () =>
    client.send(
      new DeleteDBClusterCommand({ DBClusterIdentifier: clusterIdentifier, SkipFinalSnapshot: false, FinalDBSnapshotIdentifier: finalSnapshotIdentifier }),
    ),
  );
  return out.DBCluster!;
}
