// source-account/role.yaml per source kind of the logical copy: deployed with the FrozenSource value and
// the parameters that kind needs (an RDS MySQL source has no cluster, a self-managed one neither), the
// role grants exactly the calls that migration's source-account steps send (preflight, the admin
// secret, the frozen source made, followed and deleted, cleanup, the security-group write block), each
// Allowed on its real resource and no wider; and the frozen-source calls of every other kind are Denied.
// The calls are recorded from the real code against aws-sdk-client-mock (responses shaped like the API
// references), attributed to the source account by the assumed role's credentials.
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CreateDBInstanceCommand, CreateDBInstanceReadReplicaCommand, DeleteDBClusterCommand, DeleteDBInstanceCommand, DescribeAccountAttributesCommand, DescribeDBClusterParametersCommand,
  DescribeDBClustersCommand, DescribeDBInstancesCommand, DescribeEventsCommand, RDSClient, RestoreDBClusterToPointInTimeCommand, type DBInstance,
} from '@aws-sdk/client-rds';
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetResourceSharesCommand, RAMClient } from '@aws-sdk/client-ram';
import { DeleteSecretCommand, DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupsCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { sourceClientConfig } from '../../shared/aws/source-account.js';
import { SecurityGroupBlocker } from '../../shared/aws/write-block-sg.js';
import { localLambdaContext } from '../../shared/handler.js';
import { handler as runPreflight } from '../../handlers/run-preflight.js';
import { handler as cleanupAws } from '../../handlers/cleanup-aws.js';
import { sourceAdminCredentials } from '../../shared/db-credentials.js';
import { prepareRdsReplica, checkRdsReplica } from '../../shared/initial-load/frozen-source/rds-replica.js';
import { prepareSourceClone, checkSourceClone } from '../../shared/initial-load/frozen-source/source-clone.js';
import type { FrozenSourceState, MigrationState } from '../../shared/state.js';
import type { RecordedCall } from '../support/iam/requests.js';
import { FACTS, crossAccountResources } from '../support/iam/fixtures.js';
import { grantedActions, recordedCalls, sourceAccessRole, sourceRoleRefusals } from '../support/iam/roles.js';
import { allowedMutants, deniedCalls, type SimulationSetup } from '../support/iam/simulate.js';
import { unintended } from '../support/iam/breadth.js';
import { ASSUMED_KEY_ID, REGION, SOURCE_ARN, SOURCE_KEY, SOURCE_SECRET, SOURCE_SG, SRC, TGT, assumeRoleResponse, crossAccountState, resetCaches, mockTargetParameterGroup } from '../aws/mock-fixtures.js';
import { mockNetworkCalls, placedSourceCluster, placedTarget } from '../aws/network-fixtures.js';

const mocks = {
  rds: mockClient(RDSClient),
  kms: mockClient(KMSClient),
  ram: mockClient(RAMClient),
  secretsmanager: mockClient(SecretsManagerClient),
  ec2: mockClient(EC2Client),
};
const sts = mockClient(STSClient);
const ctx = localLambdaContext('test');
const INSTANCE_ARN = `arn:aws:rds:${REGION}:${SRC}:db:orders-mysql`;
const FROZEN = 'crossmove-orders-2026-12-frozen';
const FROZEN_INSTANCE = 'crossmove-orders-2026-12-frozen-1';
const TAGS = [{ Key: 'crossmove:migrationId', Value: 'orders-2026-12' }];
const notFound = (name: string) => Object.assign(new Error(`${name} not found`), { name });
const BASE = { TargetAccountId: TGT, ExternalId: 'orders-2026-12-3f9c' };
const cutover = { ok: true, rolledBack: false, writeBlockedMs: 1, finalSourcePosition: { file: 'f', position: 1 }, targetPositionAtSwitch: { file: 'g', position: 1 }, tablesVerified: 1, checksumsMatch: true, grantDifferences: [], steps: [] };

type Kind = 'rds-replica' | 'source-clone' | 'named-replica';

/** The deployment docs/deploying.md gives for each kind (write block by security group, admin secret in the source account). */
const DEPLOYMENTS: Record<Kind | 'none', Record<string, string>> = {
  // An RDS MySQL/MariaDB source: an instance, no cluster.
  'rds-replica': { ...BASE, FrozenSource: 'rds-replica', SourceInstanceArn: INSTANCE_ARN, AdminSecretArn: SOURCE_SECRET, WriteBlockSecurityGroupId: SOURCE_SG },
  // An Aurora source, encrypted.
  'source-clone': { ...BASE, FrozenSource: 'source-clone', SourceClusterArn: SOURCE_ARN, SourceKmsKeyArn: SOURCE_KEY, AdminSecretArn: SOURCE_SECRET, WriteBlockSecurityGroupId: SOURCE_SG },
  // A self-managed source with a replica of its own: nothing of RDS.
  'named-replica': { ...BASE, FrozenSource: 'named-replica', AdminSecretArn: SOURCE_SECRET, WriteBlockSecurityGroupId: SOURCE_SG },
  // The clone path of an Aurora source.
  none: { ...BASE, SourceClusterArn: SOURCE_ARN, SourceKmsKeyArn: SOURCE_KEY, AdminSecretArn: SOURCE_SECRET, WriteBlockSecurityGroupId: SOURCE_SG },
};

const endpointSource = { clusterArn: undefined, endpoint: { host: 'orders-mysql.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com', port: 3306 } };
const STATES: Record<Kind, () => MigrationState> = {
  'rds-replica': () => crossAccountState({ source: endpointSource, target: placedTarget, initialLoad: { method: 'logical', frozenSource: { kind: 'rds-replica', sourceInstanceArn: INSTANCE_ARN } } }),
  'source-clone': () => crossAccountState({ target: placedTarget, initialLoad: { method: 'logical', frozenSource: { kind: 'source-clone', instanceClass: 'db.r6g.large' } } }),
  'named-replica': () =>
    crossAccountState({ source: { ...endpointSource, endpoint: { host: '10.1.1.20', port: 3306 } }, target: placedTarget, initialLoad: { method: 'logical', frozenSource: { kind: 'named-replica', endpoint: { host: '10.1.1.21', port: 3306 } } } }),
};

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
    VpcSecurityGroups: [{ VpcSecurityGroupId: SOURCE_SG, Status: 'active' }],
    DBParameterGroups: [{ DBParameterGroupName: 'orders-mysql8', ParameterApplyStatus: 'in-sync' }],
    OptionGroupMemberships: [{ OptionGroupName: 'default:mysql-8-0', Status: 'in-sync' }],
    PubliclyAccessible: false,
    ReadReplicaDBInstanceIdentifiers: [],
    Endpoint: { Address: 'orders-mysql.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com', Port: 3306 },
    ...overrides,
  };
}

const sourceCalls = async (): Promise<RecordedCall[]> => (await recordedCalls(mocks, (key) => (key === ASSUMED_KEY_ID ? SRC : TGT), () => '(source role)')).filter((c) => c.account === SRC);
const actionOf = (c: RecordedCall) => `${c.service}:${c.operation}`;

/** The frozen source's own steps for one kind: made, followed until it is being built, then left for cleanup. */
async function frozenSourceSteps(kind: Kind, state: MigrationState): Promise<FrozenSourceState | undefined> {
  if (kind === 'rds-replica') {
    const replica = { ...sourceInstance(), DBInstanceIdentifier: FROZEN, DBInstanceArn: `arn:aws:rds:${REGION}:${SRC}:db:${FROZEN}`, DBInstanceStatus: 'creating', ReadReplicaSourceDBInstanceIdentifier: INSTANCE_ARN, TagList: TAGS, Endpoint: undefined };
    mocks.rds.on(CreateDBInstanceReadReplicaCommand).resolves({ DBInstance: replica });
    const made = await prepareRdsReplica(state);
    mocks.rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: FROZEN }).resolves({ DBInstances: [replica] });
    const polled = await checkRdsReplica({ ...state, frozenSource: made }, 2);
    mocks.rds.on(DeleteDBInstanceCommand).resolves({ DBInstance: { ...replica, DBInstanceStatus: 'deleting' } });
    return polled;
  }
  if (kind === 'source-clone') {
    const clone = { ...placedSourceCluster(), StorageEncrypted: true, KmsKeyId: SOURCE_KEY, DBClusterIdentifier: FROZEN, DBClusterArn: `arn:aws:rds:${REGION}:${SRC}:cluster:${FROZEN}`, Status: 'creating', TagList: TAGS, DBClusterMembers: [], ClusterCreateTime: new Date('2026-12-03T10:00:00Z') };
    mocks.rds.on(RestoreDBClusterToPointInTimeCommand).resolves({ DBCluster: clone });
    const made = await prepareSourceClone(state);
    mocks.rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: FROZEN }).resolves({ DBClusters: [{ ...clone, Status: 'available' }] });
    mocks.rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: FROZEN_INSTANCE }).rejectsOnce(notFound('DBInstanceNotFoundFault'));
    const instance = { DBInstanceIdentifier: FROZEN_INSTANCE, DBClusterIdentifier: FROZEN, DBInstanceClass: 'db.r6g.large', Engine: 'aurora-mysql', DBInstanceStatus: 'creating', TagList: TAGS };
    mocks.rds.on(CreateDBInstanceCommand).resolves({ DBInstance: instance });
    const creating = await checkSourceClone({ ...state, frozenSource: made }, 2);
    mocks.rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: FROZEN_INSTANCE }).resolves({ DBInstances: [{ ...instance, DBInstanceStatus: 'available' }] });
    mocks.rds.on(DescribeEventsCommand).resolves({ Events: [] });
    const waiting = await checkSourceClone({ ...state, frozenSource: creating }, 3);
    // Cleanup: the instance goes on the first run, the cluster on the second.
    mocks.rds.on(DeleteDBInstanceCommand).resolves({ DBInstance: { ...instance, DBInstanceStatus: 'deleting' } });
    mocks.rds.on(DeleteDBClusterCommand).resolves({ DBCluster: { ...clone, Status: 'deleting' } });
    return waiting;
  }
  return undefined; // a named replica is paused over MySQL (test/db), nothing in AWS
}

/** One migration of this kind through every source-account step; the frozen source's calls apart. */
async function runKind(kind: Kind): Promise<{ all: RecordedCall[]; frozen: RecordedCall[] }> {
  const state = STATES[kind]();
  mockNetworkCalls(mocks.rds, mocks.ec2);
  mockTargetParameterGroup(mocks.rds);
  mocks.rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: SOURCE_ARN }).resolves({ DBClusters: [{ ...placedSourceCluster(), StorageEncrypted: true, KmsKeyId: SOURCE_KEY }] });
  mocks.rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: FROZEN }).rejectsOnce(notFound('DBClusterNotFoundFault')).rejectsOnce(notFound('DBClusterNotFoundFault'));
  mocks.rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders-prod-moved' }).rejects(notFound('DBClusterNotFoundFault'));
  mocks.rds.on(DescribeDBClusterParametersCommand).resolves({ Parameters: [{ ParameterName: 'binlog_format', ParameterValue: 'ROW' }] });
  mocks.rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: INSTANCE_ARN }).resolves({ DBInstances: [sourceInstance()] });
  mocks.rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: FROZEN }).rejectsOnce(notFound('DBInstanceNotFoundFault')).rejectsOnce(notFound('DBInstanceNotFoundFault'));
  mocks.rds.on(DescribeAccountAttributesCommand).resolves({ AccountQuotas: [{ AccountQuotaName: 'DBInstances', Used: 12, Max: 40 }, { AccountQuotaName: 'DBClusters', Used: 3, Max: 40 }] });
  mocks.kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', Arn: SOURCE_KEY, KeyManager: 'CUSTOMER', KeyState: 'Enabled' } });
  mocks.kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify({ Version: '2012-10-17', Statement: [] }) });
  mocks.secretsmanager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'admin', password: 'kinds-test-pw-1' }) });
  mocks.secretsmanager.on(DescribeSecretCommand).resolves({ Name: 'crossmove/orders-2026-12/replication-user' });
  mocks.secretsmanager.on(DeleteSecretCommand).resolves({});
  mocks.ram.on(GetResourceSharesCommand).resolves({ resourceShares: [] });

  const preflight = await runPreflight(state, ctx);
  await sourceAdminCredentials(state);
  const frozenSource = await frozenSourceSteps(kind, state);
  const cleanupState = { ...state, preflight, cutover, ...(frozenSource ? { frozenSource } : {}) };
  const frozenCount = (await sourceCalls()).length;
  await cleanupAws(cleanupState, ctx);
  if (kind === 'source-clone') {
    mocks.rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: FROZEN_INSTANCE }).rejects(notFound('DBInstanceNotFoundFault'));
    await cleanupAws(cleanupState, ctx);
  }
  const afterCleanup = await sourceCalls();

  // The cutover's write block in the source account, built as cut-over.ts builds it.
  const rule = { IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, IpRanges: [{ CidrIp: '10.2.0.0/16' }] };
  mocks.ec2.on(DescribeSecurityGroupsCommand, { GroupIds: [SOURCE_SG] }).resolves({ SecurityGroups: [{ GroupId: SOURCE_SG, IpPermissions: [rule] }] });
  mocks.ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  mocks.ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
  const blocker = new SecurityGroupBlocker(new EC2Client({ ...(await sourceClientConfig(state.input)), region: REGION }), SOURCE_SG);
  await blocker.undo(await blocker.plan());
  await blocker.block();

  const all = await sourceCalls();
  // The frozen source's calls: those of its steps, and cleanup's removal of it (RDS calls on crossmove-*-frozen*).
  const frozen = [...all.slice(0, frozenCount), ...afterCleanup.slice(frozenCount)].filter(
    (c) => c.service === 'rds' && (JSON.stringify(c.input).includes(FROZEN) || c.operation === 'DescribeAccountAttributes' || (c.input.DBInstanceIdentifier === INSTANCE_ARN)),
  );
  return { all, frozen };
}

function setupFor(parameters: Record<string, string>): SimulationSetup {
  const deployed = sourceAccessRole(SRC, REGION, parameters);
  return { principalFor: () => deployed.principal, facts: FACTS, resourcePolicy: crossAccountResources(deployed) };
}

beforeEach(() => {
  Object.values(mocks).forEach((m) => m.reset());
  sts.reset();
  resetCaches();
  sts.on(AssumeRoleCommand).resolves(assumeRoleResponse());
});

// Authorised for a call, not a call itself: tags given at creation; RDS using the clone's key with the caller's permissions.
const ON_BEHALF = new Set(['rds:AddTagsToResource', 'kms:CreateGrant']);

describe('source-account/role.yaml per source kind of the logical copy', () => {
  const recorded: Partial<Record<Kind, { all: RecordedCall[]; frozen: RecordedCall[] }>> = {};

  for (const kind of ['rds-replica', 'source-clone', 'named-replica'] as const) {
    it(`${kind}: grants exactly what its migration calls in the source account, each Allowed on its real resource and no wider`, async () => {
      const calls = await runKind(kind);
      recorded[kind] = calls;
      const deployed = sourceAccessRole(SRC, REGION, DEPLOYMENTS[kind]);
      expect(grantedActions(deployed.principal).filter((a) => !ON_BEHALF.has(a))).toEqual([...new Set(calls.all.map(actionOf))].sort());
      const setup = setupFor(DEPLOYMENTS[kind]);
      expect(await deniedCalls(calls.all, setup)).toEqual([]);
      expect(unintended(await allowedMutants(calls.all, setup))).toEqual([]);
      if (kind !== 'named-replica') expect(calls.frozen.length).toBeGreaterThan(3);
      else expect(calls.frozen).toEqual([]);
    });
  }

  it("denies each kind's frozen-source calls to the role deployed for any other kind (or for a clone)", async () => {
    for (const kind of ['rds-replica', 'source-clone'] as const) if (!recorded[kind]) recorded[kind] = await runKind(kind);
    for (const kind of ['rds-replica', 'source-clone'] as const) {
      const frozen = recorded[kind]!.frozen;
      for (const other of ['rds-replica', 'source-clone', 'named-replica', 'none'] as const) {
        if (other === kind) continue;
        const denied = await deniedCalls(frozen, setupFor(DEPLOYMENTS[other]));
        // The quota read has no resource type and is granted to both kinds that make something (not to the others).
        const shared = frozen.filter((c) => c.operation === 'DescribeAccountAttributes' && (other === 'rds-replica' || other === 'source-clone'));
        const expected = frozen.filter((c) => !shared.includes(c));
        expect(denied.length, `${kind} calls against the ${other} role:\n${denied.join('\n')}`).toBeGreaterThanOrEqual(expected.length);
        for (const c of expected) expect(denied.some((d) => d.includes(`[from rds:${c.operation}]`)), `${kind} ${c.operation} ${JSON.stringify(c.input)} under the ${other} role`).toBe(true);
        expect(await deniedCalls(shared, setupFor(DEPLOYMENTS[other]))).toEqual([]);
      }
    }
  });

  it('a self-managed source read live, with its secret elsewhere and read_only as the write block, gets a role with no permission at all', () => {
    const bare = sourceAccessRole(SRC, REGION, { ...BASE, FrozenSource: 'live' });
    expect(bare.principal.policies).toEqual([]);
    // The trust policy is still there (nothing to call, but the role exists if it is deployed anyway).
    expect(bare.trustPolicy.Statement).toHaveLength(1);
  });

  it('is refused by CloudFormation (its Rules) when a kind lacks the ARN it is scoped to, or is given one it does not use', () => {
    const refusals = (p: Record<string, string>) => sourceRoleRefusals(SRC, REGION, { ...BASE, ...p });
    for (const kind of Object.keys(DEPLOYMENTS) as (keyof typeof DEPLOYMENTS)[]) expect(refusals(DEPLOYMENTS[kind]), kind).toEqual([]);
    expect(refusals({ FrozenSource: 'rds-replica' })).toEqual([expect.stringContaining('FrozenSource rds-replica needs SourceInstanceArn')]);
    expect(refusals({ FrozenSource: 'source-clone' })).toEqual([expect.stringContaining('FrozenSource source-clone needs SourceClusterArn')]);
    expect(refusals({})).toEqual([expect.stringContaining('FrozenSource none (initialLoad.method clone or snapshot) needs SourceClusterArn')]);
    expect(refusals({ FrozenSource: 'source-clone', SourceClusterArn: SOURCE_ARN, SourceInstanceArn: INSTANCE_ARN })).toEqual([expect.stringContaining('SourceInstanceArn is used with FrozenSource rds-replica only')]);
    expect(refusals({ FrozenSource: 'rds-replica', SourceInstanceArn: INSTANCE_ARN, AllowSourceShutdown: 'true' })).toEqual([expect.stringContaining('AllowSourceShutdown true needs SourceClusterArn')]);
    expect(refusals({ FrozenSource: 'rds-replica', SourceInstanceArn: INSTANCE_ARN, SourceKmsKeyArn: SOURCE_KEY })).toEqual([expect.stringContaining('SourceKmsKeyArn is the key of SourceClusterArn')]);
    expect(() => sourceAccessRole(SRC, REGION, { ...BASE, FrozenSource: 'rds-replica' })).toThrow(/would refuse/);
  });
});
