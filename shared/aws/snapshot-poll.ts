// The poll result of a cluster snapshot, and the snapshot states that never become `available`.
import type { DBClusterSnapshot } from '@aws-sdk/client-rds';
import { ResourceFailedError } from '../errors.js';
import type { SnapshotPoll } from '../state.js';
import { accountOfArn, regionOfArn } from './source-account.js';

const FAILED_SNAPSHOT_STATES = new Set(['failed', 'error', 'incompatible-restore', 'deleted']);

export function snapshotPoll(snapshot: DBClusterSnapshot, attempts: number, created?: boolean): SnapshotPoll {
  const arn = snapshot.DBClusterSnapshotArn ?? '';
  return {
    done: snapshot.Status === 'available',
    attempts,
    status: snapshot.Status ?? 'unknown',
    snapshotIdentifier: snapshot.DBClusterSnapshotIdentifier!,
    snapshotArn: arn,
    account: accountOfArn(arn) ?? null,
    region: regionOfArn(arn) ?? null,
    encrypted: Boolean(snapshot.StorageEncrypted),
    kmsKeyId: snapshot.KmsKeyId ?? null,
    ...(snapshot.EngineVersion ? { engineVersion: snapshot.EngineVersion } : {}),
    ...(snapshot.PercentProgress === undefined ? {} : { percentProgress: snapshot.PercentProgress }),
    ...(created === undefined ? {} : { created }),
  };
}

export function assertSnapshotHealthy(snapshot: DBClusterSnapshot, what: string): void {
  if (FAILED_SNAPSHOT_STATES.has(snapshot.Status ?? '')) {
    throw new ResourceFailedError(`${what} ${snapshot.DBClusterSnapshotIdentifier} is ${snapshot.Status}; delete it and start the migration again (a new snapshot is taken)`);
  }
}
