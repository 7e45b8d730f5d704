// RDS cluster snapshots, changes: snapshot the source (source account), let the target account restore
// it, copy it into the target account/region re-encrypted with the target key, restore a cluster from
// the copy, delete a snapshot (cleanup). Callers look first (snapshot.ts, rds.ts) so a retried step
// reuses what an earlier attempt made.
import {
  CopyDBClusterSnapshotCommand,
  CreateDBClusterSnapshotCommand,
  DeleteDBClusterSnapshotCommand,
  ModifyDBClusterSnapshotAttributeCommand,
  RestoreDBClusterFromSnapshotCommand,
  type CopyDBClusterSnapshotCommandInput,
  type DBCluster,
  type DBClusterSnapshot,
  type RDSClient,
  type RestoreDBClusterFromSnapshotCommandInput,
} from '@aws-sdk/client-rds';
import { awsCall } from './call.js';
import { migrationTags } from './rds.js';

export async function createClusterSnapshot(client: RDSClient, spec: { clusterIdentifier: string; snapshotIdentifier: string }): Promise<DBClusterSnapshot> {
  const out = await awsCall(`RDS CreateDBClusterSnapshot ${spec.snapshotIdentifier}`, () =>
    client.send(
      new CreateDBClusterSnapshotCommand({
        DBClusterIdentifier: spec.clusterIdentifier,
        DBClusterSnapshotIdentifier: spec.snapshotIdentifier,
        // No tags: tag-on-create would need rds:AddTagsToResource in the source role; the snapshot is
        // found by its name and checked against the source cluster identifier instead.
      }),
    ),
  );
  return out.DBClusterSnapshot!;
}

/** Adds one account to the snapshot's `restore` attribute (RDS ignores an account already present). */
export async function addRestoreAccount(client: RDSClient, snapshotIdentifier: string, account: string): Promise<void> {
  await awsCall(`RDS ModifyDBClusterSnapshotAttribute ${snapshotIdentifier}`, () =>
    client.send(
      new ModifyDBClusterSnapshotAttributeCommand({ DBClusterSnapshotIdentifier: snapshotIdentifier, AttributeName: 'restore', ValuesToAdd: [account] }),
    ),
  );
}

export interface SnapshotCopySpec {
  /** ARN of the source snapshot: required for a snapshot shared from another account or in another region. */
  sourceSnapshotArn: string;
  targetSnapshotIdentifier: string;
  migrationId: string;
  /** Target-account key in the client's (target) region; only for an encrypted snapshot (RDS rejects it otherwise). */
  kmsKeyId?: string;
  /**
   * Tag the copy with the migrationId (default). The source account's shareable copy is not tagged:
   * tag-on-create would need rds:AddTagsToResource in the source role; it is recognised by its name and
   * its SourceDBClusterSnapshotArn instead.
   */
  tag?: boolean;
}

function snapshotCopyRequest(spec: SnapshotCopySpec): CopyDBClusterSnapshotCommandInput {
  return {
    SourceDBClusterSnapshotIdentifier: spec.sourceSnapshotArn,
    TargetDBClusterSnapshotIdentifier: spec.targetSnapshotIdentifier,
    ...(spec.kmsKeyId ? { KmsKeyId: spec.kmsKeyId } : {}),
    // Across regions the SDK's RDS middleware adds the PreSignedUrl (signed for the source region, from
    // the ARN) because the client runs in the destination region; SourceRegion is not needed in SDK v3.
    ...(spec.tag === false ? {} : { Tags: migrationTags(spec.migrationId) }),
  };
}

export async function copyClusterSnapshot(client: RDSClient, spec: SnapshotCopySpec): Promise<DBClusterSnapshot> {
  const out = await awsCall(`RDS CopyDBClusterSnapshot ${spec.targetSnapshotIdentifier}`, () =>
    client.send(new CopyDBClusterSnapshotCommand(snapshotCopyRequest(spec))),
  );
  return out.DBClusterSnapshot!;
}

export interface RestoreSpec {
  snapshotIdentifier: string;
  clusterIdentifier: string;
  engineVersion?: string;
  migrationId: string;
  kmsKeyId?: string;
  dbClusterParameterGroupName?: string;
  vpcSecurityGroupIds?: string[];
  dbSubnetGroupName?: string;
}

function restoreRequest(spec: RestoreSpec): RestoreDBClusterFromSnapshotCommandInput {
  return {
    DBClusterIdentifier: spec.clusterIdentifier,
    SnapshotIdentifier: spec.snapshotIdentifier,
    Engine: 'aurora-mysql',
    // The source's version: a restore must not upgrade the engine under the binlog position.
    ...(spec.engineVersion ? { EngineVersion: spec.engineVersion } : {}),
    ...(spec.kmsKeyId ? { KmsKeyId: spec.kmsKeyId } : {}),
    ...(spec.dbClusterParameterGroupName ? { DBClusterParameterGroupName: spec.dbClusterParameterGroupName } : {}),
    ...(spec.vpcSecurityGroupIds?.length ? { VpcSecurityGroupIds: spec.vpcSecurityGroupIds } : {}),
    ...(spec.dbSubnetGroupName ? { DBSubnetGroupName: spec.dbSubnetGroupName } : {}),
    Tags: migrationTags(spec.migrationId),
  };
}

export async function restoreClusterFromSnapshot(client: RDSClient, spec: RestoreSpec): Promise<DBCluster> {
  const out = await awsCall(`RDS RestoreDBClusterFromSnapshot ${spec.clusterIdentifier}`, () =>
    client.send(new RestoreDBClusterFromSnapshotCommand(restoreRequest(spec))),
  );
  return out.DBCluster!;
}

export async function deleteClusterSnapshot(client: RDSClient, snapshotIdentifier: string): Promise<void> {
  await awsCall(`RDS DeleteDBClusterSnapshot ${snapshotIdentifier}`, () =>
    client.send(new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: snapshotIdentifier })),
  );
}
