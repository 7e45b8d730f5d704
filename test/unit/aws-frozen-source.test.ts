// The logical copy's frozen sources made in the SOURCE account, against aws-sdk-client-mock with
// responses shaped like the RDS API reference: the read replica of an RDS MySQL instance and the Aurora
// clone (with its one instance) are requested with exactly these parameters, found again (not made
// twice) by a retried step, followed while they are created, checked by the preflight (backups,
// replica slots, quotas, a name in use) and deleted by cleanup (instance, then the clone's cluster).
// The same calls are simulated against source-account/role.yaml as CloudFormation deploys it with
// FrozenSource rds-replica / source-clone: each Allowed on its real resource, a wrong resource Denied,
// and all Denied when the role was deployed with FrozenSource none.
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CreateDBInstanceCommand, CreateDBInstanceReadReplicaCommand, DeleteDBClusterCommand, DeleteDBInstanceCommand, DescribeAccountAttributesCommand, DescribeDBClustersCommand,
  DescribeDBInstancesCommand, DescribeEventsCommand, RDSClient, RestoreDBClusterToPointInTimeCommand, type DBInstance,
} from '@aws-sdk/client-rds';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { prepareRdsReplica, checkRdsReplica } from '../../shared/initial-load/frozen-source/rds-replica.js';
import { prepareSourceClone, checkSourceClone } from '../../shared/initial-load/frozen-source/source-clone.js';
import { frozenSourceAwsChecks } from '../../shared/preflight/frozen-source-checks.js';
import { removeFrozenSource } from '../../shared/cleanup/frozen-source.js';
import type { FrozenSourceState, MigrationState } from '../../shared/state.js';
import { FACTS, SOURCE_ROLE_PARAMETERS, crossAccountResources } from '../support/iam/fixtures.js';
import { recordedCalls, sourceAccessRole } from '../support/iam/roles.js';
import { allowedMutants, deniedCalls, type SimulationSetup } from '../support/iam/simulate.js';
import { unintended } from '../support/iam/breadth.js';
import { ASSUMED_KEY_ID, REGION, ROLE_ARN, SOURCE_ARN, SOURCE_KEY, SRC, TGT, assumeRoleResponse, crossAccountState, resetCaches, sourceCluster } from '../aws/mock-fixtures.js';
import { rdsAccessDenied } from '../aws/rds-access-denied.js';

const rds = mockClient(RDSClient);
const sts = mockClient(STSClient);
const INSTANCE_ARN = `arn:aws:rds:${REGION}:${SRC}:db:orders-mysql`;
const FROZEN = 'crossmove-orders-2026-12-frozen';
const FROZEN_INSTANCE = 'crossmove-orders-2026-12-frozen-1';
const TAGS = [{ Key: 'crossmove:migrationId', Value: 'orders-2026-12' }];
const notFound = (name: string) => Object.assign(new Error(`${name} not found`), { name });

function sourceInstance(overrides: Partial<DBInstance> = {}): DBInstance {
  return {
    DBInstanceIdentifier: 'orders-mysql',
    DBInstanceArn: INSTANCE_ARN,
    DBInstanceClass: 'db.r6g.xlarge',
    Engine: 'mysql',
    EngineVersion: '8.0.39',
    DBInstanceStatus: 'available',
    BackupRetentionPeriod: 7,
    DBSubnetGroup: { DBSubnetGroupName: 'orders-private' },
    VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-0fedcba9876543210', Status: 'active' }],
    DBParameterGroups: [{ DBParameterGroupName: 'orders-mysql8', ParameterApplyStatus: 'in-sync' }],
    OptionGroupMemberships: [{ OptionGroupName: 'default:mysql-8-0', Status: 'in-sync' }],
    PubliclyAccessible: false,
    ReadReplicaDBInstanceIdentifiers: [],
    Endpoint: { Address: 'orders-mysql.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com', Port: 3306 },
    ...overrides,
  };
}

const replicaState = (): MigrationState => crossAccountState({ initialLoad: { method: 'logical', frozenSource: { kind: 'rds-replica', sourceInstanceArn: INSTANCE_ARN } } });
const cloneState = (): MigrationState => crossAccountState({ initialLoad: { method: 'logical', frozenSource: { kind: 'source-clone', instanceClass: 'db.r6g.large' } } });

async function sourceAccountActions(): Promise<string[]> {
  const actions = new Set<string>();
  for (const call of rds.calls()) {
    const client = call.thisValue as { config: { credentials: () => Promise<{ accessKeyId: string }> } };
    if ((await client.config.credentials()).accessKeyId === ASSUMED_KEY_ID) actions.add(`rds:${(call.args[0] as object).constructor.name.replace(/Command$/, '')}`);
  }
  return [...actions].sort();
}

/** The role.yaml statements of one FrozenSource deployment, unconditional ones left out. */
function frozenStatementActions(kind: 'rds-replica' | 'source-clone'): string[] {
  const template = parse(readFileSync(new URL('../../source-account/role.yaml', import.meta.url), 'utf8'));
  const conditions = kind === 'rds-replica' ? ['FrozenSourceMade', 'FrozenReadReplica'] : ['FrozenSourceMade', 'FrozenClone', 'FrozenCloneOfEncrypted'];
  const policies = template.Resources.SourceAccessRole.Properties.Policies['Fn::If'][1];
  const statements = policies.flatMap((p: any) => p.PolicyDocument.Statement).filter((s: any) => s['Fn::If'] && conditions.includes(s['Fn::If'][0]));
  // Authorised for the calls, not calls themselves: tags given at creation (rds:AddTagsToResource) and
  // RDS encrypting the clone with the caller's permissions (kms:*).
  const onBehalf = (a: string) => a === 'rds:AddTagsToResource' || a.startsWith('kms:');
  return [...new Set<string>(statements.flatMap((s: any) => s['Fn::If'][1].Action))].filter((a) => !onBehalf(a)).sort();
}

async function simulate(kind: 'rds-replica' | 'source-clone') {
  // Without AllowSourceShutdown: its grant on every instance (the old cluster's members) would hide a
  // frozen-source statement wider than crossmove-* names.
  // An RDS MySQL source has no cluster: its role is deployed without SourceClusterArn.
  const { SourceClusterArn, SourceKmsKeyArn, ...withoutCluster } = SOURCE_ROLE_PARAMETERS;
  const aurora = { ...SOURCE_ROLE_PARAMETERS, SnapshotKmsKeyArn: '' };
  const deployed = sourceAccessRole(SRC, REGION, kind === 'rds-replica' ? { ...withoutCluster, SnapshotKmsKeyArn: '', AllowSourceShutdown: 'false', FrozenSource: kind, SourceInstanceArn: INSTANCE_ARN } : { ...aurora, AllowSourceShutdown: 'false', FrozenSource: kind });
  void SourceClusterArn;
  void SourceKmsKeyArn;
  const setup: SimulationSetup = { principalFor: () => deployed.principal, facts: FACTS, resourcePolicy: crossAccountResources(deployed) };
  const calls = (await recordedCalls({ rds }, (key) => (key === ASSUMED_KEY_ID ? SRC : TGT), () => '(source role)')).filter((c) => c.account === SRC);
  const none = sourceAccessRole(SRC, REGION, { ...SOURCE_ROLE_PARAMETERS, FrozenSource: 'none', AllowSourceShutdown: 'false', SnapshotKmsKeyArn: '' });
  return {
    calls,
    denied: await deniedCalls(calls, setup),
    unintended: unintended(await allowedMutants(calls, setup)),
    deniedWithoutFrozenSource: (await deniedCalls(calls, { ...setup, principalFor: () => none.principal })).map((d) => d.replace(/^ImplicitlyDenied: \(source role\): /, '').replace(/ on .*/, '')),
  };
}

beforeEach(() => {
  rds.reset();
  sts.reset();
  resetCaches();
  sts.on(AssumeRoleCommand).resolves(assumeRoleResponse());
});

describe('frozen source: read replica of an RDS instance (source account)', () => {
  it('preflight, create with exact parameters, reuse on retry, follow, cleanup; every call allowed by role.yaml with FrozenSource rds-replica, and only those', async () => {
    const state = replicaState();
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: INSTANCE_ARN }).resolves({ DBInstances: [sourceInstance()] });
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: FROZEN }).rejectsOnce(notFound('DBInstanceNotFoundFault')).rejectsOnce(notFound('DBInstanceNotFoundFault'));
    rds.on(DescribeAccountAttributesCommand).resolves({ AccountQuotas: [{ AccountQuotaName: 'DBInstances', Used: 12, Max: 40 }] });
    const replica = { ...sourceInstance(), DBInstanceIdentifier: FROZEN, DBInstanceArn: `arn:aws:rds:${REGION}:${SRC}:db:${FROZEN}`, DBInstanceStatus: 'creating', ReadReplicaSourceDBInstanceIdentifier: INSTANCE_ARN, TagList: TAGS, Endpoint: undefined };
    rds.on(CreateDBInstanceReadReplicaCommand).resolves({ DBInstance: replica });

    const [check] = await frozenSourceAwsChecks(state.input, state.accounts);
    expect(check).toMatchObject({ id: 'frozen-rds-replica', status: 'pass' });
    expect(check!.message).toContain('backups kept 7 day(s), 0 of 15 replicas used');

    const made = await prepareRdsReplica(state);
    expect(made).toMatchObject({ done: false, kind: 'rds-replica', identifier: FROZEN, status: 'creating', created: true, endpoint: null, position: null });
    expect(rds.commandCalls(CreateDBInstanceReadReplicaCommand).map((c) => c.args[0].input)).toEqual([
      {
        DBInstanceIdentifier: FROZEN,
        SourceDBInstanceIdentifier: INSTANCE_ARN,
        DBInstanceClass: 'db.r6g.xlarge',
        DBSubnetGroupName: 'orders-private',
        VpcSecurityGroupIds: ['sg-0fedcba9876543210'],
        DBParameterGroupName: 'orders-mysql8',
        OptionGroupName: 'default:mysql-8-0',
        PubliclyAccessible: false,
        MultiAZ: false,
        AutoMinorVersionUpgrade: false,
        DeletionProtection: false,
        Tags: TAGS,
      },
    ]);
    // A retried step finds the replica this migration made: nothing is created twice.
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: FROZEN }).resolves({ DBInstances: [replica] });
    expect(await prepareRdsReplica(state)).toMatchObject({ identifier: FROZEN, created: false, status: 'creating' });
    expect(rds.commandCalls(CreateDBInstanceReadReplicaCommand)).toHaveLength(1);
    // Followed while RDS builds it (the MySQL half, stopping it at a position, needs a server: test/db).
    const polled = await checkRdsReplica({ ...state, frozenSource: made }, 2);
    expect(polled).toMatchObject({ done: false, attempts: 2, status: 'creating', created: true });

    rds.on(DeleteDBInstanceCommand).resolves({ DBInstance: { ...replica, DBInstanceStatus: 'deleting' } });
    const items = await removeFrozenSource({ ...state, frozenSource: polled } as never);
    expect(items).toEqual([{ kind: 'frozen-source-instance', id: FROZEN, account: SRC, outcome: 'removed', detail: 'the read replica, without a final snapshot' }]);
    expect(rds.commandCalls(DeleteDBInstanceCommand).map((c) => c.args[0].input)).toEqual([{ DBInstanceIdentifier: FROZEN, SkipFinalSnapshot: true, DeleteAutomatedBackups: true }]);

    expect(await sourceAccountActions()).toEqual(frozenStatementActions('rds-replica'));
    const sim = await simulate('rds-replica');
    expect(sim.denied).toEqual([]);
    expect(sim.unintended).toEqual([]);
    expect(new Set(sim.deniedWithoutFrozenSource)).toEqual(new Set(['rds:DescribeDBInstances', 'rds:DescribeAccountAttributes', 'rds:CreateDBInstanceReadReplica', 'rds:AddTagsToResource', 'rds:DeleteDBInstance']));
  });

  it('refuses before any change: backups off, a replica of a replica, no replica slot, an instance quota used up, a name taken by something else', async () => {
    const state = replicaState();
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: FROZEN }).rejects(notFound('DBInstanceNotFoundFault'));
    rds.on(DescribeAccountAttributesCommand).resolves({ AccountQuotas: [{ AccountQuotaName: 'DBInstances', Used: 40, Max: 40 }] });
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: INSTANCE_ARN }).resolves({
      DBInstances: [sourceInstance({ BackupRetentionPeriod: 0, ReadReplicaSourceDBInstanceIdentifier: 'orders-primary', ReadReplicaDBInstanceIdentifiers: Array.from({ length: 15 }, (_, i) => `r${i}`) })],
    });
    const [check] = await frozenSourceAwsChecks(state.input, state.accounts);
    expect(check!.status).toBe('fail');
    for (const part of ['automatic backups are off (BackupRetentionPeriod 0)', 'itself a read replica of orders-primary', 'already has 15 read replicas', 'uses 40 of its 40 DB instances']) expect(check!.message).toContain(part);
    await expect(prepareRdsReplica(state)).rejects.toMatchObject({ name: 'FrozenSourceError', message: expect.stringContaining('BackupRetentionPeriod 0') });

    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: FROZEN }).resolves({ DBInstances: [{ ...sourceInstance(), DBInstanceIdentifier: FROZEN, TagList: [] }] });
    await expect(prepareRdsReplica(state)).rejects.toMatchObject({ name: 'ResourceConflictError' });
    // Cleanup leaves an instance of that name alone when it is not this migration's.
    expect(await removeFrozenSource(state)).toEqual([expect.objectContaining({ outcome: 'kept' })]);
    expect(rds.commandCalls(CreateDBInstanceReadReplicaCommand)).toHaveLength(0);
    expect(rds.commandCalls(DeleteDBInstanceCommand)).toHaveLength(0);
  });
});

describe('frozen source: Aurora clone in the source account', () => {
  it('clone with exact parameters, its instance once available, the crash-recovery event awaited, cleanup instance then cluster; role.yaml with FrozenSource source-clone allows exactly these', async () => {
    const state = cloneState();
    const encrypted = sourceCluster({ StorageEncrypted: true, KmsKeyId: SOURCE_KEY, DBClusterParameterGroup: 'orders-binlog', DBSubnetGroup: 'orders-private', VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-0fedcba9876543210', Status: 'active' }] });
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: SOURCE_ARN }).resolves({ DBClusters: [encrypted] });
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: FROZEN }).rejectsOnce(notFound('DBClusterNotFoundFault')).rejectsOnce(notFound('DBClusterNotFoundFault'));
    rds.on(DescribeAccountAttributesCommand).resolves({ AccountQuotas: [{ AccountQuotaName: 'DBClusters', Used: 3, Max: 40 }] });
    const clone = { ...encrypted, DBClusterIdentifier: FROZEN, DBClusterArn: `arn:aws:rds:${REGION}:${SRC}:cluster:${FROZEN}`, Status: 'creating', TagList: TAGS, DBClusterMembers: [], Endpoint: `${FROZEN}.cluster-c1a2b3c4d5e6.us-east-1.rds.amazonaws.com`, ClusterCreateTime: new Date('2026-12-03T10:00:00Z') };
    rds.on(RestoreDBClusterToPointInTimeCommand).resolves({ DBCluster: clone });

    const [check] = await frozenSourceAwsChecks(state.input, state.accounts);
    expect(check).toMatchObject({ id: 'frozen-source-clone', status: 'pass' });

    const made = await prepareSourceClone(state);
    expect(made).toMatchObject({ done: false, kind: 'source-clone', identifier: FROZEN, created: true, status: 'creating' });
    expect(rds.commandCalls(RestoreDBClusterToPointInTimeCommand).map((c) => c.args[0].input)).toEqual([
      {
        SourceDBClusterIdentifier: SOURCE_ARN,
        DBClusterIdentifier: FROZEN,
        RestoreType: 'copy-on-write',
        UseLatestRestorableTime: true,
        DBClusterParameterGroupName: 'orders-binlog',
        DBSubnetGroupName: 'orders-private',
        VpcSecurityGroupIds: ['sg-0fedcba9876543210'],
        KmsKeyId: SOURCE_KEY,
        DeletionProtection: false,
        Tags: TAGS,
      },
    ]);

    // Available: its one instance is created (once), then the position event is awaited.
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: FROZEN }).resolves({ DBClusters: [{ ...clone, Status: 'available' }] });
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: FROZEN_INSTANCE }).rejectsOnce(notFound('DBInstanceNotFoundFault'));
    const instance = { DBInstanceIdentifier: FROZEN_INSTANCE, DBClusterIdentifier: FROZEN, DBInstanceClass: 'db.r6g.large', Engine: 'aurora-mysql', DBInstanceStatus: 'creating', TagList: TAGS };
    rds.on(CreateDBInstanceCommand).resolves({ DBInstance: instance });
    const creating = await checkSourceClone({ ...state, frozenSource: made }, 2);
    expect(creating).toMatchObject({ done: false, status: 'instance creating', instanceIdentifier: FROZEN_INSTANCE });
    expect(rds.commandCalls(CreateDBInstanceCommand).map((c) => c.args[0].input)).toEqual([
      { DBInstanceIdentifier: FROZEN_INSTANCE, DBClusterIdentifier: FROZEN, Engine: 'aurora-mysql', DBInstanceClass: 'db.r6g.large', PubliclyAccessible: false, Tags: TAGS },
    ]);
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: FROZEN_INSTANCE }).resolves({ DBInstances: [{ ...instance, DBInstanceStatus: 'available' }] });
    rds.on(DescribeEventsCommand).resolves({ Events: [{ SourceIdentifier: FROZEN_INSTANCE, SourceType: 'db-instance', Message: 'DB instance restarted', Date: new Date('2026-12-03T10:20:00Z') }] });
    const waiting = await checkSourceClone({ ...state, frozenSource: creating }, 3);
    expect(waiting).toMatchObject({ done: false, status: 'waiting for the "Binlog position from crash recovery" event' });
    expect(rds.commandCalls(CreateDBInstanceCommand)).toHaveLength(1);
    expect(rds.commandCalls(DescribeEventsCommand)[0]!.args[0].input).toMatchObject({ SourceIdentifier: FROZEN_INSTANCE, SourceType: 'db-instance', StartTime: new Date('2026-12-03T09:00:00Z') });

    // Cleanup: the instance first (the cluster waits for it), then the cluster on the next run.
    rds.on(DeleteDBInstanceCommand).resolves({ DBInstance: { ...instance, DBInstanceStatus: 'deleting' } });
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: FROZEN }).resolves({ DBClusters: [{ ...clone, Status: 'available', DBClusterMembers: [{ DBInstanceIdentifier: FROZEN_INSTANCE, IsClusterWriter: true }] }] });
    expect((await removeFrozenSource(state)).map((i) => [i.kind, i.outcome])).toEqual([['frozen-source-instance', 'pending'], ['frozen-source-cluster', 'pending']]);
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: FROZEN_INSTANCE }).rejects(notFound('DBInstanceNotFoundFault'));
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: FROZEN }).resolves({ DBClusters: [{ ...clone, Status: 'available', DBClusterMembers: [] }] });
    rds.on(DeleteDBClusterCommand).resolves({ DBCluster: { ...clone, Status: 'deleting' } });
    expect((await removeFrozenSource(state)).map((i) => [i.kind, i.outcome])).toEqual([['frozen-source-instance', 'gone'], ['frozen-source-cluster', 'removed']]);
    expect(rds.commandCalls(DeleteDBInstanceCommand).map((c) => c.args[0].input)).toEqual([{ DBInstanceIdentifier: FROZEN_INSTANCE, SkipFinalSnapshot: true, DeleteAutomatedBackups: true }]);
    expect(rds.commandCalls(DeleteDBClusterCommand).map((c) => c.args[0].input)).toEqual([{ DBClusterIdentifier: FROZEN, SkipFinalSnapshot: true }]);

    expect(await sourceAccountActions()).toEqual(frozenStatementActions('source-clone'));
    const sim = await simulate('source-clone');
    expect(sim.denied).toEqual([]);
    expect(sim.unintended).toEqual([]);
    expect(new Set(sim.deniedWithoutFrozenSource)).toEqual(
      new Set(['rds:DescribeDBClusters', 'rds:DescribeAccountAttributes', 'rds:RestoreDBClusterToPointInTime', 'rds:AddTagsToResource', 'rds:CreateDBInstance', 'rds:DescribeDBInstances', 'rds:DescribeEvents', 'rds:DeleteDBInstance', 'rds:DeleteDBCluster', 'kms:CreateGrant']),
    );
  });
});

describe('frozen source cleanup when the input says auto', () => {
  it('removes nothing and calls nothing after a copy that read the live source (its state says so)', async () => {
    const state = crossAccountState({ initialLoad: { method: 'logical' } });
    const frozenSource: FrozenSourceState = { done: true, attempts: 1, kind: 'live', status: 'live source, one snapshot', endpoint: null, position: null, fingerprint: null };
    expect(await removeFrozenSource({ ...state, frozenSource })).toEqual([]);
    expect(rds.calls()).toHaveLength(0);
  });

  it('without a state, looks for the clone auto would have made; a role deployed with FrozenSource none cannot even look: skipped, not failed', async () => {
    const state = crossAccountState({ initialLoad: { method: 'logical' } });
    rds.on(DescribeDBInstancesCommand).rejects(Object.assign(new Error('User is not authorized to perform: rds:DescribeDBInstances'), { name: 'AccessDenied' }));
    expect(await removeFrozenSource(state)).toEqual([expect.objectContaining({ kind: 'frozen-source-cluster', id: FROZEN, outcome: 'skipped' })]);
    // An explicit kind is not guessed: the same refusal is an error that names the missing permission and the redeployment.
    await expect(removeFrozenSource(cloneState())).rejects.toMatchObject({ name: 'FrozenSourceAccessDeniedError', message: expect.stringContaining('FrozenSource=source-clone and SourceClusterArn=') });
  });
});


describe('frozen source: a refusal of the source role (AccessDenied) names the call, the resource, the role and the redeployment', () => {
  const SESSION = `arn:aws:sts::${SRC}:assumed-role/crossmove-source-access/crossmove-orders-2026-12`;
  const REPLICA_ARN = `arn:aws:rds:${REGION}:${SRC}:db:${FROZEN}`;

  it('rds-replica: the create refused by a role deployed for another kind; the AWS error stays the cause; not a TransientError', async () => {
    const state = replicaState();
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: FROZEN }).rejects(notFound('DBInstanceNotFoundFault'));
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: INSTANCE_ARN }).resolves({ DBInstances: [sourceInstance()] });
    const denied = await rdsAccessDenied(new CreateDBInstanceReadReplicaCommand({ DBInstanceIdentifier: FROZEN, SourceDBInstanceIdentifier: INSTANCE_ARN }), SESSION, REPLICA_ARN);
    expect(denied).toMatchObject({ name: 'AccessDenied', Code: 'AccessDenied', Type: 'Sender', $fault: 'client', $metadata: expect.objectContaining({ httpStatusCode: 403 }) });
    rds.on(CreateDBInstanceReadReplicaCommand).rejects(denied);

    const err = await prepareRdsReplica(state).catch((e) => e);
    expect(err.name).toBe('FrozenSourceAccessDeniedError');
    for (const part of ['rds:CreateDBInstanceReadReplica', `on ${REPLICA_ARN}`, `the source-account role ${ROLE_ARN}`, `redeploy source-account/role.yaml with FrozenSource=rds-replica and SourceInstanceArn=${INSTANCE_ARN}`]) {
      expect(err.message).toContain(part);
    }
    expect(err.cause).toBe(denied);
  });

  it('rds-replica: a read refused while the replica is followed names DescribeDBInstances and the replica', async () => {
    const state = replicaState();
    const frozenSource: FrozenSourceState = { done: false, attempts: 1, kind: 'rds-replica', identifier: FROZEN, status: 'creating', endpoint: null, position: null, fingerprint: null };
    rds.on(DescribeDBInstancesCommand).rejects(await rdsAccessDenied(new DescribeDBInstancesCommand({ DBInstanceIdentifier: FROZEN }), SESSION, REPLICA_ARN));
    await expect(checkRdsReplica({ ...state, frozenSource }, 2)).rejects.toMatchObject({
      name: 'FrozenSourceAccessDeniedError',
      message: expect.stringMatching(new RegExp(`may not call rds:DescribeDBInstances on ${REPLICA_ARN}.*FrozenSource=rds-replica`)),
    });
  });

  it('source-clone: the clone refused names RestoreDBClusterToPointInTime, the source cluster, and SourceClusterArn', async () => {
    const state = cloneState();
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: FROZEN }).rejects(notFound('DBClusterNotFoundFault'));
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: SOURCE_ARN }).resolves({ DBClusters: [sourceCluster()] });
    rds.on(RestoreDBClusterToPointInTimeCommand).rejects(await rdsAccessDenied(new RestoreDBClusterToPointInTimeCommand({ DBClusterIdentifier: FROZEN, SourceDBClusterIdentifier: SOURCE_ARN }), SESSION, SOURCE_ARN));
    await expect(prepareSourceClone(state)).rejects.toMatchObject({
      name: 'FrozenSourceAccessDeniedError',
      message: expect.stringContaining(`may not call rds:RestoreDBClusterToPointInTime on ${SOURCE_ARN}`),
    });
    await expect(prepareSourceClone(state)).rejects.toThrow(`redeploy source-account/role.yaml with FrozenSource=source-clone and SourceClusterArn=${SOURCE_ARN}`);
  });

  it('cleanup: a delete refused names DeleteDBInstance; other faults keep their AWS name', async () => {
    const state = replicaState();
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: FROZEN }).resolves({ DBInstances: [{ ...sourceInstance(), DBInstanceIdentifier: FROZEN, TagList: TAGS }] });
    rds.on(DeleteDBInstanceCommand).rejectsOnce(await rdsAccessDenied(new DeleteDBInstanceCommand({ DBInstanceIdentifier: FROZEN }), SESSION, REPLICA_ARN));
    await expect(removeFrozenSource(state)).rejects.toMatchObject({ name: 'FrozenSourceAccessDeniedError', message: expect.stringContaining(`rds:DeleteDBInstance on ${REPLICA_ARN}`) });
    rds.on(DeleteDBInstanceCommand).rejects(Object.assign(new Error('Instance is not in available state'), { name: 'InvalidDBInstanceStateFault' }));
    await expect(removeFrozenSource(state)).rejects.toMatchObject({ name: 'InvalidDBInstanceStateFault' });
  });
});
