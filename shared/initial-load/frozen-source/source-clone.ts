// initialLoad.frozenSource kind source-clone: an Aurora source (source.clusterArn) is cloned
// copy-on-write in its OWN account (crossmove-<migrationId>-frozen, with one instance): for a logical
// copy where a clone into the target cannot be used (another engine version, another region's
// cluster...). Nothing writes to the clone, so it holds the source's data at the clone point for as
// long as the copy reads it; that point is the position its first instance reports in the RDS event
// "Binlog position from crash recovery is <file> <position>" (shared/aws/binlog-events.ts), and the
// target replicates from the SOURCE from there. Cleanup deletes the instance, then the cluster. It
// costs one instance while it exists; the storage is shared with the source until pages change.
import { ResourceConflictError, ResourceNotFoundError } from '../../errors.js';
import { logStep } from '../../logger.js';
import { findCluster, findInstance, instanceEvents, madeByMigration } from '../../aws/rds.js';
import { frozenSourceRdsClient } from '../../aws/frozen-source-access.js';
import { createCloneInstance, restoreSourceClone } from '../../aws/frozen-source-changes.js';
import { firstBinlogPosition } from '../../aws/binlog-events.js';
import { sourceAdminCredentials } from '../../db-credentials.js';
import { sourceEndpoint } from '../../endpoints.js';
import { closeQuietly, openConnection, type Conn } from '../../mysql/connection.js';
import { detectEngine, dialectFor } from '../../mysql/dialect.js';
import type { FrozenSourceState } from '../../state.js';
import type { DBCluster } from '@aws-sdk/client-rds';
import type { CopyState } from '../steps/sides.js';
import { assertPositionOnSource } from './position.js';
import { readFingerprint } from './fingerprint.js';

/** Events are looked for from a little before the clone was made (clock skew). */
const LOOK_BACK_MS = 60 * 60_000;

function poll(cluster: DBCluster, attempts: number, created: boolean | undefined, status?: string): FrozenSourceState {
  return {
    done: false,
    attempts,
    status: status ?? cluster.Status ?? 'unknown',
    kind: 'source-clone',
    identifier: cluster.DBClusterIdentifier!,
    ...(created !== undefined ? { created } : {}),
    ...(cluster.ClusterCreateTime ? { createdAt: new Date(cluster.ClusterCreateTime).toISOString() } : {}),
    endpoint: cluster.Endpoint ? { host: cluster.Endpoint, port: cluster.Port ?? 3306 } : null,
    position: null,
    fingerprint: null,
  };
}

export async function prepareSourceClone(state: CopyState): Promise<FrozenSourceState> {
  const { input } = state;
  const id = input.names.frozenSourceIdentifier;
  const rds = await frozenSourceRdsClient(input, 'source-clone');
  const existing = await findCluster(rds, id);
  if (existing) {
    if (!madeByMigration(existing, input.migrationId)) {
      throw new ResourceConflictError(`Cluster ${id} already exists in the source account and was not made by migration ${input.migrationId} (no tag crossmove:migrationId=${input.migrationId}): delete or rename it`);
    }
    return poll(existing, 1, false);
  }
  const arn = input.source.clusterArn!;
  const source = await findCluster(rds, arn);
  if (!source) throw new ResourceNotFoundError(`source.clusterArn ${arn} was not found in the source account`);
  logStep('clone the source cluster in its account', { identifier: id, source: arn });
  const created = await restoreSourceClone(rds, { identifier: id, migrationId: input.migrationId, source: { ...source, DBClusterArn: source.DBClusterArn ?? arn } });
  return poll(created, 1, true);
}

export async function checkSourceClone(state: CopyState & { frozenSource: FrozenSourceState }, attempts: number): Promise<FrozenSourceState> {
  const { input } = state;
  const id = state.frozenSource.identifier ?? input.names.frozenSourceIdentifier;
  const rds = await frozenSourceRdsClient(input, 'source-clone');
  const cluster = await findCluster(rds, id);
  if (!cluster) throw new ResourceNotFoundError(`The clone ${id} is gone from the source account (deleted while the migration prepared it): start the migration again to make a new one`);
  const created = state.frozenSource.created;
  if (cluster.Status !== 'available') return poll(cluster, attempts, created);

  const instanceId = input.names.frozenSourceInstanceIdentifier;
  let instance = await findInstance(rds, instanceId);
  if (!instance) {
    logStep("create the clone's instance", { identifier: instanceId, cluster: id });
    instance = await createCloneInstance(rds, { identifier: instanceId, clusterIdentifier: id, instanceClass: input.initialLoad.frozenSource.instanceClass ?? input.target.instanceClass, migrationId: input.migrationId });
  }
  const withInstance = { ...poll(cluster, attempts, created, `instance ${instance.DBInstanceStatus ?? 'creating'}`), instanceIdentifier: instanceId };
  if (instance.DBInstanceStatus !== 'available') return withInstance;

  const from = new Date(new Date(cluster.ClusterCreateTime ?? Date.now()).getTime() - LOOK_BACK_MS);
  const position = firstBinlogPosition(await instanceEvents(rds, instanceId, from));
  if (!position) return { ...withInstance, status: 'waiting for the "Binlog position from crash recovery" event' };
  if (!withInstance.endpoint) return withInstance;

  let clone: Conn | undefined;
  let source: Conn | undefined;
  try {
    const creds = await sourceAdminCredentials(state);
    clone = await openConnection(withInstance.endpoint, creds);
    const fingerprint = await readFingerprint(clone, dialectFor(await detectEngine(clone)));
    source = await openConnection(sourceEndpoint(state), creds);
    await assertPositionOnSource(source, position, `The clone ${id}`);
    return { ...withInstance, done: true, status: 'available', position, fingerprint };
  } finally {
    await closeQuietly(clone);
    await closeQuietly(source);
  }
}
