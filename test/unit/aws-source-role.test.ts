// source-account/role.yaml grants exactly the calls the source-account steps send (no more, no less,
// no `*` action). The calls are recorded, not listed by hand: every source-account step runs against
// aws-sdk-client-mock, and a call counts as source-account when its client carries the assumed role's
// credentials.
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CopyDBClusterSnapshotCommand, CreateDBClusterSnapshotCommand, DeleteDBClusterCommand, DeleteDBClusterSnapshotCommand, DeleteDBInstanceCommand, DescribeDBClusterParametersCommand,
  DescribeDBClusterSnapshotAttributesCommand, DescribeDBClusterSnapshotsCommand, DescribeDBClustersCommand, DescribeDBInstancesCommand,
  ModifyDBClusterSnapshotAttributeCommand, RDSClient, StopDBClusterCommand,
} from '@aws-sdk/client-rds';
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import {
  AssociateResourceShareCommand, CreateResourceShareCommand, DeleteResourceShareCommand, GetResourceShareAssociationsCommand, GetResourceSharesCommand, RAMClient,
} from '@aws-sdk/client-ram';
import { DeleteSecretCommand, DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupsCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { sourceClientConfig } from '../../shared/aws/source-account.js';
import { SecurityGroupBlocker } from '../../shared/aws/write-block-sg.js';
import { localLambdaContext } from '../../shared/handler.js';
import { handler as runPreflight } from '../../handlers/run-preflight.js';
import { handler as shareCluster } from '../../handlers/share-cluster.js';
import { handler as grantKeyAccess } from '../../handlers/grant-key-access.js';
import { handler as snapshotSource } from '../../handlers/snapshot-source.js';
import { handler as checkSourceSnapshot } from '../../handlers/check-source-snapshot.js';
import { handler as shareSnapshot } from '../../handlers/share-snapshot.js';
import { handler as cleanupAws } from '../../handlers/cleanup-aws.js';
import { sourceAdminCredentials } from '../../shared/db-credentials.js';
import { conditionKeyProblems } from './aws-iam-condition-keys.js';
import { FACTS, SOURCE_ROLE_PARAMETERS, crossAccountResources } from '../support/iam/fixtures.js';
import { grantedActions, recordedCalls, sourceAccessRole } from '../support/iam/roles.js';
import { allowedMutants, deniedCalls, type SimulationSetup } from '../support/iam/simulate.js';
import { unintended } from '../support/iam/breadth.js';
import { ASSUMED_KEY_ID, REGION, SOURCE_SG, TGT, SOURCE_ARN, SOURCE_KEY, SRC, assumeRoleResponse, crossAccountState, resetCaches, sourceCluster, mockTargetParameterGroup } from '../aws/mock-fixtures.js';
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
const SHARE_ARN = `arn:aws:ram:us-east-1:${SRC}:resource-share/7ab63972-b505-7e2a-420d-6f5d3EXAMPLE`;

interface Statement { Sid?: string; Action: string | string[]; Resource: unknown; Effect: string; Condition?: Record<string, Record<string, unknown>> }
/** Every statement of the template, whatever its condition (each is written as { Fn::If: [condition, statement, NoValue] }). */
function templateStatements(): { policy: Statement[]; trust: Statement[] } {
  const template = parse(readFileSync(new URL('../../source-account/role.yaml', import.meta.url), 'utf8'));
  const role = template.Resources.SourceAccessRole.Properties;
  const unwrap = (s: any): Statement => (s['Fn::If'] ? s['Fn::If'][1] : s);
  // The policy itself exists only when there is anything to grant (Fn::If AnythingToGrant).
  const policies = role.Policies['Fn::If'] ? role.Policies['Fn::If'][1] : role.Policies;
  return {
    policy: policies.flatMap((p: any) => p.PolicyDocument.Statement.map(unwrap)),
    trust: role.AssumeRolePolicyDocument.Statement,
  };
}
const actionsOf = (statements: Statement[]) => statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

async function recordedSourceAccountActions(): Promise<string[]> {
  const actions = new Set<string>();
  for (const [prefix, mock] of Object.entries(mocks)) {
    for (const call of mock.calls()) {
      const client = call.thisValue as { config: { credentials: () => Promise<{ accessKeyId: string }> } };
      if ((await client.config.credentials()).accessKeyId !== ASSUMED_KEY_ID) continue;
      actions.add(`${prefix}:${(call.args[0] as object).constructor.name.replace(/Command$/, '')}`);
    }
  }
  return [...actions].sort();
}

beforeEach(() => {
  Object.values(mocks).forEach((m) => m.reset());
  sts.reset();
  resetCaches();
  sts.on(AssumeRoleCommand).resolves(assumeRoleResponse());
});

describe('source-account/role.yaml', () => {
  it('grants exactly the calls the source-account steps make', async () => {
    // Every source-account path: preflight (cluster, parameter, key, secret), share created, share
    // repaired, key policy written.
    mocks.rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: SOURCE_ARN }).resolves({ DBClusters: [placedSourceCluster()] });
    mockNetworkCalls(mocks.rds, mocks.ec2);
    mockTargetParameterGroup(mocks.rds);
    mocks.rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders-prod-moved' }).rejects(Object.assign(new Error('not found'), { name: 'DBClusterNotFoundFault' }));
    mocks.rds.on(DescribeDBClusterParametersCommand).resolves({ Parameters: [{ ParameterName: 'binlog_format', ParameterValue: 'ROW' }] });
    mocks.kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', Arn: SOURCE_KEY, KeyManager: 'CUSTOMER', KeyState: 'Enabled' } });
    mocks.kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify({ Version: '2012-10-17', Statement: [] }) });
    mocks.kms.on(PutKeyPolicyCommand).resolves({});
    mocks.secretsmanager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'admin', password: 'role-test-pw-1' }) });
    mocks.ram.on(GetResourceSharesCommand).resolvesOnce({ resourceShares: [] }).resolves({ resourceShares: [{ resourceShareArn: SHARE_ARN, name: 'crossmove-orders-2026-12', status: 'ACTIVE' }] });
    mocks.ram.on(CreateResourceShareCommand).resolves({ resourceShare: { resourceShareArn: SHARE_ARN, name: 'crossmove-orders-2026-12', status: 'ACTIVE' } });
    mocks.ram.on(GetResourceShareAssociationsCommand).resolves({ resourceShareAssociations: [] });
    mocks.ram.on(AssociateResourceShareCommand).resolves({ resourceShareAssociations: [] });

    const state = crossAccountState({ target: placedTarget });
    const preflight = await runPreflight(state, ctx);
    // The network path was read in the source account (recorded below), and passed.
    expect(preflight.checks.find((c) => c.id === 'network-target-to-source')?.status).toBe('pass');
    await sourceAdminCredentials(state);
    await shareCluster(state, ctx); // creates
    await shareCluster(state, ctx); // finds it, re-associates
    await grantKeyAccess({ ...state, preflight }, ctx);

    // Snapshot path (issue 6): snapshot, poll, share the snapshot.
    const snapshotArn = `arn:aws:rds:us-east-1:${SRC}:cluster-snapshot:crossmove-orders-2026-12-source`;
    const snap = { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-source', DBClusterSnapshotArn: snapshotArn, DBClusterIdentifier: 'orders-prod', Status: 'available', StorageEncrypted: true, KmsKeyId: SOURCE_KEY };
    mocks.rds.on(DescribeDBClusterSnapshotsCommand).rejectsOnce(Object.assign(new Error('not found'), { name: 'DBClusterSnapshotNotFoundFault' })).resolves({ DBClusterSnapshots: [snap] });
    mocks.rds.on(CreateDBClusterSnapshotCommand).resolves({ DBClusterSnapshot: { ...snap, Status: 'creating' } });
    mocks.rds.on(DescribeDBClusterSnapshotAttributesCommand).resolves({ DBClusterSnapshotAttributesResult: { DBClusterSnapshotAttributes: [{ AttributeName: 'restore', AttributeValues: [] }] } });
    mocks.rds.on(ModifyDBClusterSnapshotAttributeCommand).resolves({});
    const snapshotState = { ...crossAccountState({ initialLoad: { method: 'snapshot' } }), preflight };
    const sourceSnapshot = await snapshotSource(snapshotState, ctx);
    const polled = await checkSourceSnapshot({ ...snapshotState, sourceSnapshot }, ctx);
    await shareSnapshot({ ...snapshotState, sourceSnapshot: polled }, ctx);

    // Snapshot path through a shareable copy (cross-region): copied in this account with the snapshot key,
    // that key opened to the target account.
    const snapshotKey = `arn:aws:kms:eu-west-1:${SRC}:key/5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b`;
    const shareableArn = `arn:aws:rds:eu-west-1:${SRC}:cluster-snapshot:crossmove-orders-2026-12-shareable`;
    const shareableSnap = { ...snap, DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-shareable', DBClusterSnapshotArn: shareableArn, KmsKeyId: snapshotKey, SourceDBClusterSnapshotArn: snapshotArn };
    mocks.rds.on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-shareable' }).rejectsOnce(Object.assign(new Error('not found'), { name: 'DBClusterSnapshotNotFoundFault' })).resolves({ DBClusterSnapshots: [shareableSnap] });
    mocks.rds.on(CopyDBClusterSnapshotCommand).resolves({ DBClusterSnapshot: { ...shareableSnap, Status: 'creating' } });
    const viaCopy = {
      ...crossAccountState({ initialLoad: { method: 'snapshot' }, source: { snapshotKmsKeyId: snapshotKey }, target: { region: 'eu-west-1' } }),
      accounts: { ...crossAccountState().accounts, targetRegion: 'eu-west-1' },
      preflight,
    };
    const copying = await checkSourceSnapshot({ ...viaCopy, sourceSnapshot: { ...polled, viaShareableCopy: true, stage: 'source' } }, ctx);
    const shareablePoll = await checkSourceSnapshot({ ...viaCopy, sourceSnapshot: copying }, ctx);
    await shareSnapshot({ ...viaCopy, sourceSnapshot: shareablePoll }, ctx);
    await grantKeyAccess({ ...viaCopy, sourceSnapshot: shareablePoll }, ctx);

    // Cleanup with every source-account part: share, key statement, snapshot, then stop and delete the old cluster.
    mocks.ram.on(DeleteResourceShareCommand).resolves({ returnValue: true });
    mocks.kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'CrossmoveTargetAccessorders202612' }] }) });
    mocks.rds.on(DeleteDBClusterSnapshotCommand).resolves({});
    mocks.rds.on(StopDBClusterCommand).resolves({ DBCluster: sourceCluster({ Status: 'stopping' }) });
    mocks.rds.on(DescribeDBInstancesCommand).resolvesOnce({ DBInstances: [{ DBInstanceIdentifier: 'orders-prod-1', DBInstanceStatus: 'available' }] }).rejects(Object.assign(new Error('not found'), { name: 'DBInstanceNotFoundFault' }));
    mocks.rds.on(DeleteDBInstanceCommand).resolves({});
    mocks.rds.on(DeleteDBClusterCommand).resolves({ DBCluster: sourceCluster({ Status: 'deleting' }) });
    mocks.secretsmanager.on(DescribeSecretCommand).resolves({ Name: 'crossmove/orders-2026-12/replication-user' });
    mocks.secretsmanager.on(DeleteSecretCommand).resolves({});
    const cutover = { ok: true, rolledBack: false, writeBlockedMs: 1, finalSourcePosition: { file: 'f', position: 1 }, targetPositionAtSwitch: { file: 'g', position: 1 }, tablesVerified: 1, checksumsMatch: true, grantDifferences: [], steps: [] };
    await cleanupAws({ ...snapshotState, cutover, cleanupOptions: { sourceCluster: 'stop' } }, ctx);
    await cleanupAws({ ...snapshotState, cutover, cleanupOptions: { sourceCluster: 'delete' } }, ctx);

    // The cutover's security-group write block in the source account (built as shared/mysql/steps/cut-over.ts
    // builds it: an EC2 client with the assumed role), blocked, rolled back, and undone after a crash.
    const rule = { IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, IpRanges: [{ CidrIp: '10.0.0.0/16' }] };
    mocks.ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: SOURCE_SG, IpPermissions: [rule] }] });
    mocks.ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
    mocks.ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
    const blocker = new SecurityGroupBlocker(new EC2Client({ ...(await sourceClientConfig(state.input)) }), SOURCE_SG);
    const plan = await blocker.plan();
    await blocker.block();
    await blocker.undo(plan);

    // The role as CloudFormation deploys it for a clone or snapshot (FrozenSource none): exactly the
    // actions these steps call. The logical copy's kinds: aws-source-role-kinds.test.ts.
    const deployed = sourceAccessRole(SRC, REGION, SOURCE_ROLE_PARAMETERS);
    // What RDS does with the caller's KMS permissions while copying an encrypted snapshot (not an SDK call of ours).
    const onBehalf = new Set(['kms:CreateGrant']);
    expect(grantedActions(deployed.principal).filter((a) => !onBehalf.has(a))).toEqual(await recordedSourceAccountActions());

    // The same calls simulated against that role: each Allowed with its real resource and context; a
    // wrong resource or condition value Denied.
    const setup: SimulationSetup = { principalFor: () => deployed.principal, facts: FACTS, resourcePolicy: crossAccountResources(deployed) };
    const calls = (await recordedCalls(mocks, (key) => (key === ASSUMED_KEY_ID ? SRC : TGT), () => '(source role)')).filter((c) => c.account === SRC);
    expect(calls.length).toBeGreaterThan(30);
    expect(await deniedCalls(calls, setup)).toEqual([]);
    expect(unintended(await allowedMutants(calls, setup))).toEqual([]);

    // Deployed without the optional parts, their calls are Denied (the Fn::If conditions really apply).
    const minimal = sourceAccessRole(SRC, REGION, { ...SOURCE_ROLE_PARAMETERS, AllowSourceShutdown: 'false', WriteBlockSecurityGroupId: '', SnapshotKmsKeyArn: '' });
    const denied = (await deniedCalls(calls, { ...setup, principalFor: () => minimal.principal })).map((d) => d.replace(/ on .*/, ''));
    expect(new Set(denied)).toEqual(
      new Set([
        'ImplicitlyDenied: (source role): rds:StopDBCluster', 'ImplicitlyDenied: (source role): rds:DeleteDBCluster', 'ImplicitlyDenied: (source role): rds:DeleteDBInstance',
        'ImplicitlyDenied: (source role): rds:DescribeDBInstances', 'ImplicitlyDenied: (source role): ec2:RevokeSecurityGroupIngress', 'ImplicitlyDenied: (source role): ec2:AuthorizeSecurityGroupIngress',
        // The shareable copy's key (SnapshotKmsKeyArn): described, opened to the target, used by RDS for the copy.
        'ImplicitlyDenied: (source role): kms:DescribeKey', 'ImplicitlyDenied: (source role): kms:GetKeyPolicy', 'ImplicitlyDenied: (source role): kms:PutKeyPolicy',
        'ImplicitlyDenied: (source role): kms:CreateGrant',
      ]),
    );
  });

  it('puts only condition keys on each action that the action supports (Service Authorization Reference)', () => {
    const { policy, trust } = templateStatements();
    expect(conditionKeyProblems([...policy, ...trust])).toEqual([]);
  });

  it('limits CreateResourceShare to the source cluster and the target account, per part (IfExists)', () => {
    const { policy } = templateStatements();
    const perPart = { 'ram:RequestedResourceType': 'rds:Cluster', 'ram:ResourceArn': { Ref: 'SourceClusterArn' }, 'ram:Principal': { Ref: 'TargetAccountId' } };
    expect(policy.find((s) => s.Sid === 'ShareTheClusterWithTheTargetAccount')!.Condition).toEqual({ StringEqualsIfExists: perPart });
    expect(policy.find((s) => s.Sid === 'RepairTheShare')!.Condition).toEqual({ StringLike: { 'ram:ResourceShareName': 'crossmove-*' }, StringEqualsIfExists: perPart });
  });

  it('has no * action, scopes resources by parameters and trusts only the target account with the external id', () => {
    const { policy, trust } = templateStatements();
    expect(actionsOf(policy).filter((a) => a.includes('*'))).toEqual([]);
    const star = policy.filter((s) => s.Resource === '*').map((s) => s.Sid);
    // Only calls without resource-level permissions (RAM reads, EC2 Describe; CreateResourceShare is
    // limited by conditions); changing a security group is limited to the one write-block group.
    // The frozen source's quota read and the clone's position event: RDS actions without resource types.
    expect(star.sort()).toEqual(['CheckTheSharesAssociations', 'FindTheShare', 'ReadTheAccountQuotasForTheFrozenSource', 'ReadTheClonesBinlogPositionEvent', 'ReadTheSourceVpc', 'ReadTheWriteBlockGroup', 'ShareTheClusterWithTheTargetAccount']);
    // Each of those cites the Service Authorization Reference in its comment (checked in the file's text).
    const text = readFileSync(new URL('../../source-account/role.yaml', import.meta.url), 'utf8');
    for (const sid of star) {
      const block = text.slice(text.indexOf(`Sid: ${sid}`), text.indexOf('AWS::NoValue', text.indexOf(`Sid: ${sid}`)));
      expect(block, sid).toMatch(/no resource type \(Service Authorization Reference/);
    }
    expect(JSON.stringify(policy.find((s) => s.Sid === 'BlockAndRestoreSourceWrites')!.Resource)).toContain('security-group/${WriteBlockSecurityGroupId}');
    expect(policy.find((s) => s.Sid === 'ReadTheSourceCluster')!.Resource).toEqual({ Ref: 'SourceClusterArn' });
    expect(policy.find((s) => s.Sid === 'LetTheTargetUseTheKey')!.Resource).toEqual({ Ref: 'SourceKmsKeyArn' });
    expect(trust).toEqual([
      expect.objectContaining({
        Action: 'sts:AssumeRole',
        Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${TargetAccountId}:root' } },
        Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'ExternalId' } } },
      }),
    ]);
  });
});
