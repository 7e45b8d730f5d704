// RDS, read-only: find clusters and instances, read cluster parameters and events. Changes live in
// rds-changes.ts. Source-account reads use the assumed role, target-account reads the pipeline's own
// credentials; both honour AWS_ENDPOINT_URL (tests point them at moto).
import {
  DescribeDBClusterParameterGroupsCommand,
  DescribeDBClusterParametersCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSubnetGroupsCommand,
  DescribeEventsCommand,
  RDSClient,
  type DBCluster,
  type DBClusterParameterGroup,
  type DBInstance,
  type DBSubnetGroup,
  type Event,
  type Parameter,
  type Tag,
} from '@aws-sdk/client-rds';
import type { MigrationInput } from '../input/validate.js';
import { awsCall, errorName } from './call.js';
import { sourceClientConfig, targetClientConfig } from './source-account.js';

/** Tag crossmove puts on everything it creates; a resource without it is never reused or touched. */
const MIGRATION_TAG = 'crossmove:migrationId';

/** RDS in the source account; in the source cluster's region unless `region` says otherwise (the snapshot path's shareable copy). */
export async function sourceRdsClient(input: Pick<MigrationInput, 'source' | 'migrationId'>, region?: string | null): Promise<RDSClient> {
  const config = await sourceClientConfig(input);
  return new RDSClient({ ...config, ...(region ? { region } : {}) });
}

const targetClients = new Map<string, RDSClient>();
export function targetRdsClient(input: Pick<MigrationInput, 'target'>): RDSClient {
  const config = targetClientConfig(input);
  const key = config.region ?? '';
  if (!targetClients.has(key)) targetClients.set(key, new RDSClient(config));
  return targetClients.get(key)!;
}

export function migrationTags(migrationId: string): Tag[] {
  return [{ Key: MIGRATION_TAG, Value: migrationId }];
}

export function madeByMigration(resource: { TagList?: Tag[] }, migrationId: string): boolean {
  return (resource.TagList ?? []).some((t) => t.Key === MIGRATION_TAG && t.Value === migrationId);
}

/** The cluster (by identifier or ARN), or null when it does not exist / is not visible. */
export async function findCluster(client: RDSClient, idOrArn: string): Promise<DBCluster | null> {
  try {
    const out = await awsCall(`RDS DescribeDBClusters ${idOrArn}`, () =>
      client.send(new DescribeDBClustersCommand({ DBClusterIdentifier: idOrArn })),
    );
    return out.DBClusters?.[0] ?? null;
  } catch (err) {
    if (errorName(err) === 'DBClusterNotFoundFault') return null;
    throw err;
  }
}

export async function findInstance(client: RDSClient, id: string): Promise<DBInstance | null> {
  try {
    const out = await awsCall(`RDS DescribeDBInstances ${id}`, () =>
      client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id })),
    );
    return out.DBInstances?.[0] ?? null;
  } catch (err) {
    if (errorName(err) === 'DBInstanceNotFoundFault') return null;
    throw err;
  }
}

/** One parameter of a cluster parameter group (engine defaults included), or null when not listed. */
export async function findClusterParameter(client: RDSClient, group: string, name: string): Promise<Parameter | null> {
  let marker: string | undefined;
  do {
    const out = await awsCall(`RDS DescribeDBClusterParameters ${group}`, () =>
      client.send(new DescribeDBClusterParametersCommand({ DBClusterParameterGroupName: group, Marker: marker })),
    );
    const hit = out.Parameters?.find((p) => p.ParameterName === name);
    if (hit) return hit;
    marker = out.Marker;
  } while (marker);
  return null;
}

/** Every parameter of a cluster parameter group (engine defaults included), all pages. */
export async function clusterParameters(client: RDSClient, group: string): Promise<Parameter[]> {
  const all: Parameter[] = [];
  let marker: string | undefined;
  do {
    const out = await awsCall(`RDS DescribeDBClusterParameters ${group}`, () =>
      client.send(new DescribeDBClusterParametersCommand({ DBClusterParameterGroupName: group, Marker: marker })),
    );
    all.push(...(out.Parameters ?? []));
    marker = out.Marker;
  } while (marker);
  return all;
}

/** Every event of one instance since `startTime`, oldest first, following Marker pagination. */
export async function instanceEvents(client: RDSClient, instanceId: string, startTime: Date): Promise<Event[]> {
  const events: Event[] = [];
  let marker: string | undefined;
  do {
    const out = await awsCall(`RDS DescribeEvents ${instanceId}`, () =>
      client.send(
        new DescribeEventsCommand({ SourceIdentifier: instanceId, SourceType: 'db-instance', StartTime: startTime, Marker: marker }),
      ),
    );
    events.push(...(out.Events ?? []));
    marker = out.Marker;
  } while (marker);
  return events;
}

/** Every event of one cluster since `startTime`, oldest first, following Marker pagination (snapshot path). */
export async function clusterEvents(client: RDSClient, clusterId: string, startTime: Date): Promise<Event[]> {
  const events: Event[] = [];
  let marker: string | undefined;
  do {
    const out = await awsCall(`RDS DescribeEvents ${clusterId}`, () =>
      client.send(
        new DescribeEventsCommand({ SourceIdentifier: clusterId, SourceType: 'db-cluster', StartTime: startTime, Marker: marker }),
      ),
    );
    events.push(...(out.Events ?? []));
    marker = out.Marker;
  } while (marker);
  return events;
}

/** Clusters of this account in the clone group (copy-on-write family) of a source cluster. */
export async function clustersInCloneGroup(client: RDSClient, cloneGroupId: string): Promise<DBCluster[]> {
  const found: DBCluster[] = [];
  let Marker: string | undefined;
  do {
    const out = await awsCall('RDS DescribeDBClusters', () => client.send(new DescribeDBClustersCommand({ Marker })));
    found.push(...(out?.DBClusters ?? []).filter((c) => c.CloneGroupId === cloneGroupId));
    Marker = out?.Marker;
  } while (Marker);
  return found;
}

/** A DB subnet group (its VPC and subnets), or null when it does not exist. */
export async function findSubnetGroup(client: RDSClient, name: string): Promise<DBSubnetGroup | null> {
  try {
    const out = await awsCall(`RDS DescribeDBSubnetGroups ${name}`, () => client.send(new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: name })));
    return out?.DBSubnetGroups?.[0] ?? null;
  } catch (err) {
    if (errorName(err) === 'DBSubnetGroupNotFoundFault') return null;
    throw err;
  }
}

/** A cluster parameter group (its family), or null when it does not exist. */
export async function findClusterParameterGroup(client: RDSClient, name: string): Promise<DBClusterParameterGroup | null> {
  try {
    const out = await awsCall(`RDS DescribeDBClusterParameterGroups ${name}`, () =>
      client.send(new DescribeDBClusterParameterGroupsCommand({ DBClusterParameterGroupName: name })),
    );
    return out?.DBClusterParameterGroups?.[0] ?? null;
  } catch (err) {
    if (errorName(err) === 'DBParameterGroupNotFoundFault' || errorName(err) === 'DBClusterParameterGroupNotFoundFault') return null;
    throw err;
  }
}
