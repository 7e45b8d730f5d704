// RDS cluster snapshots, read-only: find a snapshot by name, read who may restore it. Changes
// live in snapshot-changes.ts. Callers pass the client of the account (and region) the snapshot is in.
import {
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBClusterSnapshotsCommand,
  type DBClusterSnapshot,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { awsCall, errorName } from './call.js';

/** The caller's snapshot with this identifier (in the client's region), or null when absent. */
export async function findClusterSnapshot(client: RDSClient, id: string): Promise<DBClusterSnapshot | null> {
  try {
    const out = await awsCall(`RDS DescribeDBClusterSnapshots ${id}`, () =>
      client.send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: id })),
    );
    return out?.DBClusterSnapshots?.find((s) => s.DBClusterSnapshotIdentifier === id) ?? null;
  } catch (err) {
    if (errorName(err) === 'DBClusterSnapshotNotFoundFault') return null;
    throw err;
  }
}

/** Accounts in the snapshot's `restore` attribute (who may copy/restore it); `all` when public. */
export async function restoreAccounts(client: RDSClient, snapshotId: string): Promise<string[]> {
  const out = await awsCall(`RDS DescribeDBClusterSnapshotAttributes ${snapshotId}`, () =>
    client.send(new DescribeDBClusterSnapshotAttributesCommand({ DBClusterSnapshotIdentifier: snapshotId })),
  );
  const attrs = out.DBClusterSnapshotAttributesResult?.DBClusterSnapshotAttributes ?? [];
  return attrs.find((a) => a.AttributeName === 'restore')?.AttributeValues ?? [];
}
