// serverless.yml: the role of every AWS-step function (clone path, preflight, DNS) grants every
// target-account call its handler sends, plus sts:AssumeRole when it works in the source account. The
// calls are recorded, not listed by hand: each handler runs against aws-sdk-client-mock and a call counts
// as target-account when its client does NOT carry the assumed role's credentials (the source-account
// calls are checked against source-account/role.yaml in aws-source-role.test.ts). Conditions in the
// roles use only keys their actions support.
import { readFileSync } from 'node:fs';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CreateDBClusterParameterGroupCommand, CreateDBInstanceCommand, DescribeDBClusterParameterGroupsCommand, DescribeDBClusterParametersCommand, ModifyDBClusterParameterGroupCommand, DescribeDBClustersCommand, DescribeDBInstancesCommand, DescribeEventsCommand, RDSClient,
  ModifyDBClusterCommand, RestoreDBClusterToPointInTimeCommand,
} from '@aws-sdk/client-rds';
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import {
  AcceptResourceShareInvitationCommand, CreateResourceShareCommand, GetResourceShareInvitationsCommand, GetResourceSharesCommand, RAMClient,
} from '@aws-sdk/client-ram';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChangeResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { localLambdaContext } from '../../shared/handler.js';
import type { MigrationState } from '../../shared/state.js';
import { handler as validateInput } from '../../handlers/validate-input.js';
import { handler as runPreflight } from '../../handlers/run-preflight.js';
import { handler as readCutoverRecord } from '../../handlers/read-cutover-record.js';
import { handler as shareCluster } from '../../handlers/share-cluster.js';
import { handler as acceptShare } from '../../handlers/accept-share.js';
import { handler as grantKeyAccess } from '../../handlers/grant-key-access.js';
import { handler as cloneCluster } from '../../handlers/clone-cluster.js';
import { handler as checkClone } from '../../handlers/check-clone.js';
import { handler as createWriter } from '../../handlers/create-writer.js';
import { handler as checkWriter } from '../../handlers/check-writer.js';
import { handler as readBinlogPosition } from '../../handlers/read-binlog-position.js';
import { handler as resetMasterPassword } from '../../handlers/reset-master-password.js';
import { handler as checkMasterPassword } from '../../handlers/check-master-password.js';
import { handler as switchDns } from '../../handlers/switch-dns.js';
import { handler as planDiff } from '../../handlers/plan-diff.js';
import { handler as compareChunks } from '../../handlers/compare-chunks.js';
import { handler as checkDiff } from '../../handlers/check-diff.js';
import { conditionKeyProblems } from './aws-iam-condition-keys.js';
import { TARGET_KEY_GRANT_ACTIONS, TARGET_KEY_USE_ACTIONS } from '../../shared/aws/key-policy.js';
import { testDeployment, type Deployment } from '../support/iam/fixtures.js';
import { allowedMutants, deniedCalls } from '../support/iam/simulate.js';
import { unintended } from '../support/iam/breadth.js';
import { EC2Client } from '@aws-sdk/client-ec2';
import { mockNetworkCalls, placedSourceCluster, placedTarget } from '../aws/network-fixtures.js';
import {
  ASSUMED_KEY_ID, REGION, SOURCE_ARN, SOURCE_KEY, SRC, TGT, assumeRoleResponse, crossAccountState, rawCrossAccountInput, resetCaches, targetCluster, writerInstance, mockTargetParameterGroup } from '../aws/mock-fixtures.js';

const mocks = {
  rds: mockClient(RDSClient),
  kms: mockClient(KMSClient),
  ram: mockClient(RAMClient),
  secretsmanager: mockClient(SecretsManagerClient),
  route53: mockClient(Route53Client),
  ec2: mockClient(EC2Client),
};
const sts = mockClient(STSClient);
const ctx = localLambdaContext('test');
const SLS = parse(readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8'), { merge: true, maxAliasCount: -1 });
const CUSTOM_IAM = SLS.custom.iam as Record<string, { Action: string[] }>;

function roleStatements(functionKey: string): any[] {
  const roleName = SLS.functions[functionKey].role;
  return SLS.resources.Resources[roleName].Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement).map((s: any) => {
    if (typeof s !== 'string') return s;
    const key = /^\$\{self:custom\.iam\.(\w+)\}$/.exec(s)![1]!;
    return CUSTOM_IAM[key];
  });
}
const grantedActions = (functionKey: string): Set<string> => new Set(roleStatements(functionKey).flatMap((s) => s.Action));

/** Target-account actions sent, plus sts:AssumeRole when a source-account client was used. */
async function recordedActions(): Promise<string[]> {
  const actions = new Set<string>();
  for (const [prefix, mock] of Object.entries(mocks)) {
    for (const call of mock.calls()) {
      const client = call.thisValue as { config: { credentials: () => Promise<{ accessKeyId: string }> } };
      if ((await client.config.credentials()).accessKeyId === ASSUMED_KEY_ID) continue;
      actions.add(`${prefix}:${(call.args[0] as object).constructor.name.replace(/Command$/, '')}`);
    }
  }
  if (sts.commandCalls(AssumeRoleCommand).length) actions.add('sts:AssumeRole');
  // sts:GetCallerIdentity needs no permission (it cannot be denied).
  return [...actions].sort();
}

const notFound = (name: string) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: 404 } });
const SHARE_ARN = `arn:aws:ram:${REGION}:${SRC}:resource-share/7ab63972-b505-7e2a-420d-6f5d3EXAMPLE`;
const INVITATION_ARN = `arn:aws:ram:${REGION}:${SRC}:resource-share-invitation/ac7c6b6c-2a69-4b8f-8f6b-0eEXAMPLE`;
const share = { resourceShareArn: SHARE_ARN, name: 'crossmove-orders-2026-12', owningAccountId: SRC, status: 'ACTIVE' as const };
const clone = { done: true, attempts: 3, status: 'available', clusterIdentifier: 'orders-prod-moved', endpoint: 'orders-prod-moved.cluster-f9e8d7c6b5a4.us-east-1.rds.amazonaws.com', port: 3306, createdAt: '2026-11-24T08:00:00.000Z' };
const writer = { done: true, attempts: 5, status: 'available', instanceIdentifier: 'orders-prod-moved-writer', createdAt: '2026-11-24T08:20:00.000Z' };
const preflight = { ok: true, checks: [], sourceCluster: { engineVersion: '8.0.mysql_aurora.3.05.2', kmsKeyArn: SOURCE_KEY, parameterGroup: 'orders-binlog', instanceCount: 1 } };
const state = (extra: Partial<MigrationState> = {}, overrides: Record<string, any> = {}): MigrationState => ({ ...crossAccountState(overrides), preflight, ...extra });

const SCENARIOS: Record<string, () => Promise<unknown>> = {
  validateInput: async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: TGT, Arn: `arn:aws:sts::${TGT}:assumed-role/x/y`, UserId: 'AROA:y' });
    return validateInput(rawCrossAccountInput(), ctx);
  },
  runPreflight: async () => {
    mocks.rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: SOURCE_ARN }).resolves({ DBClusters: [placedSourceCluster()] });
    mockNetworkCalls(mocks.rds, mocks.ec2);
    mockTargetParameterGroup(mocks.rds);
    mocks.rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders-prod-moved' }).rejects(notFound('DBClusterNotFoundFault'));
    mocks.rds.on(DescribeDBClusterParametersCommand).resolves({ Parameters: [{ ParameterName: 'binlog_format', ParameterValue: 'ROW' }] });
    mocks.kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', Arn: SOURCE_KEY, KeyManager: 'CUSTOMER', KeyState: 'Enabled' } });
    mocks.secretsmanager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'admin', password: 'iam-test-pw-1' }) });
    const preflight = await runPreflight(crossAccountState({ target: placedTarget }), ctx);
    // Both ends of the network path were read (the target's with these credentials, recorded here).
    if (preflight.checks.find((c) => c.id === 'network-target-to-source')?.status !== 'pass') throw new Error(`network check did not pass: ${JSON.stringify(preflight.checks)}`);
    return preflight;
  },
  readCutoverRecord: async () => {
    // A re-run's first look: the clone of an earlier run and its writer exist, but crossmove's secret for
    // its master user does not (the password was never reset: nothing after it ran, nothing to read).
    mocks.rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders-prod-moved' }).resolves({
      DBClusters: [targetCluster('available', { DBClusterMembers: [{ DBInstanceIdentifier: 'orders-prod-moved-writer', IsClusterWriter: true }] })],
    });
    mocks.secretsmanager.on(GetSecretValueCommand, { SecretId: 'crossmove/orders-2026-12/target-admin' }).rejects(notFound('ResourceNotFoundException'));
    const record = await readCutoverRecord(state({ clone: undefined }), ctx);
    if (record.targetIsPrimary || !/never reset/.test(record.detail)) throw new Error(`unexpected record: ${JSON.stringify(record)}`);
    return record;
  },
  shareCluster: async () => {
    mocks.ram.on(GetResourceSharesCommand).resolves({ resourceShares: [] });
    mocks.ram.on(CreateResourceShareCommand).resolves({ resourceShare: share });
    return shareCluster(state(), ctx);
  },
  acceptShare: async () => {
    mocks.ram.on(GetResourceShareInvitationsCommand).resolves({
      resourceShareInvitations: [{ resourceShareInvitationArn: INVITATION_ARN, resourceShareArn: SHARE_ARN, status: 'PENDING', senderAccountId: SRC, receiverAccountId: TGT }],
    });
    mocks.ram.on(AcceptResourceShareInvitationCommand).resolves({ resourceShareInvitation: { resourceShareInvitationArn: INVITATION_ARN, status: 'ACCEPTED' } });
    mocks.ram.on(GetResourceSharesCommand).resolves({ resourceShares: [share] });
    return acceptShare(state({ share: { resourceShareArn: SHARE_ARN, created: true } }), ctx);
  },
  grantKeyAccess: async () => {
    mocks.kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', Arn: SOURCE_KEY, KeyManager: 'CUSTOMER', KeyState: 'Enabled' } });
    mocks.kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify({ Version: '2012-10-17', Statement: [] }) });
    mocks.kms.on(PutKeyPolicyCommand).resolves({});
    return grantKeyAccess(state(), ctx);
  },
  cloneCluster: async () => {
    mocks.rds.on(DescribeDBClustersCommand).rejects(notFound('DBClusterNotFoundFault'));
    mocks.rds.on(RestoreDBClusterToPointInTimeCommand).resolves({ DBCluster: targetCluster('creating') });
    // With target.dbClusterParameterGroupName (its binlogs are read) and without (crossmove creates its copy).
    mockTargetParameterGroup(mocks.rds);
    await cloneCluster(state(), ctx);
    mocks.rds.on(DescribeDBClusterParameterGroupsCommand, { DBClusterParameterGroupName: 'crossmove-orders-2026-12' }).rejects(notFound('DBParameterGroupNotFoundFault'));
    mocks.rds.on(CreateDBClusterParameterGroupCommand).resolves({});
    mocks.rds.on(ModifyDBClusterParameterGroupCommand).resolves({});
    const plan = { name: 'crossmove-orders-2026-12', create: true, family: 'aurora-mysql8.0', copiedFrom: 'orders-binlog', parameters: [{ name: 'binlog_format', value: 'ROW' }], notCopied: [] };
    return cloneCluster(state({ preflight: { ...preflight, targetParameterGroup: plan } }, { target: { dbClusterParameterGroupName: undefined } }), ctx);
  },
  checkClone: async () => {
    mocks.rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [targetCluster('available')] });
    return checkClone(state({ clone: { ...clone, done: false, status: 'creating' } }), ctx);
  },
  createWriter: async () => {
    mocks.rds.on(DescribeDBInstancesCommand).rejects(notFound('DBInstanceNotFoundFault'));
    mocks.rds.on(CreateDBInstanceCommand).resolves({ DBInstance: writerInstance('creating') });
    return createWriter(state({ clone }), ctx);
  },
  checkWriter: async () => {
    mocks.rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [writerInstance('available')] });
    return checkWriter(state({ clone, writer: { ...writer, done: false, status: 'creating' } }), ctx);
  },
  resetMasterPassword: async () => {
    mocks.rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [targetCluster('available', { MasterUsername: 'admin' })] });
    mocks.secretsmanager.on(GetSecretValueCommand).rejects(Object.assign(new Error("Secrets Manager can't find the specified secret."), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } }));
    mocks.secretsmanager.on(CreateSecretCommand).resolves({ ARN: `arn:aws:secretsmanager:${REGION}:${TGT}:secret:crossmove/orders-2026-12/target-admin-AbCdEf` });
    mocks.rds.on(ModifyDBClusterCommand).resolves({ DBCluster: targetCluster('resetting-master-credentials') });
    return resetMasterPassword(state({ clone, writer }), ctx);
  },
  checkMasterPassword: async () => {
    mocks.rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [targetCluster('available', { MasterUsername: 'admin' })] });
    const targetAdmin = { done: false, attempts: 0, status: 'resetting-master-credentials', secretRef: `arn:aws:secretsmanager:${REGION}:${TGT}:secret:crossmove/orders-2026-12/target-admin-AbCdEf`, username: 'admin', clusterIdentifier: 'orders-prod-moved', createdSecret: true };
    return checkMasterPassword(state({ clone, writer, targetAdmin }), ctx);
  },
  readBinlogPosition: async () => {
    mocks.rds.on(DescribeEventsCommand).resolves({
      Events: [{ SourceIdentifier: 'orders-prod-moved-writer', SourceType: 'db-instance', Message: 'Binlog position from crash recovery is mysql-bin-changelog.000013 77991983', Date: new Date('2026-11-24T08:25:00Z') }],
    });
    return readBinlogPosition(state({ clone, writer }), ctx);
  },
  // The comparison's functions read the admin secrets (the source's through the assumed role), then
  // connect to MySQL: nothing listens here, so each stops at its first connection, every AWS call sent.
  planDiff: async () => {
    mockAdminSecrets();
    return expectNoDatabase(planDiff(state({ preflight: { ...preflight, sourceEndpoint: NO_DB } }, { target: { endpoint: NO_DB } }), ctx));
  },
  compareChunks: async () => {
    mockAdminSecrets();
    const s = state();
    return expectNoDatabase(compareChunks({ worker: 1, job: 'gate-1', input: s.input, accounts: s.accounts, diffPlan: { endpoints: { source: NO_DB, target: NO_DB } } }, ctx));
  },
  checkDiff: async () => {
    mockAdminSecrets();
    const s = state();
    return expectNoDatabase(checkDiff({ ...s, diffPlan: { job: 'gate-1', purpose: 'gate', tables: 1, ranges: 1, notVerifiableByRows: 0, mode: 'exact', resumed: false, endpoints: { source: NO_DB, target: NO_DB } } }, ctx));
  },
  switchDns: async () => {
    mocks.route53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C2682N5HXP0BZ4', Status: 'PENDING', SubmittedAt: new Date() } });
    return switchDns(state({ clone }, { cutover: { dns: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', recordName: 'orders-db.internal.example.com', ttl: 5 } } }), ctx);
  },
};

const NO_DB = { host: '127.0.0.1', port: 1 };
function mockAdminSecrets(): void {
  mocks.secretsmanager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'admin', password: 'iam-test-pw-2' }) });
}
/** The handler got as far as connecting to MySQL (its AWS calls are all sent by then). */
async function expectNoDatabase(run: Promise<unknown>): Promise<unknown> {
  const err = await run.then(() => null, (e: Error) => e);
  if (!err || !/ECONNREFUSED|connect/i.test(err.message)) throw new Error(`expected a refused MySQL connection, got ${err ? err.message : 'success'}`);
  return err;
}

beforeEach(() => {
  Object.values(mocks).forEach((m) => m.reset());
  sts.reset();
  resetCaches();
  sts.on(AssumeRoleCommand).resolves(assumeRoleResponse());
});

let deployment: Deployment;
beforeAll(async () => {
  deployment = await testDeployment();
}, 330_000);

describe('the packaged roles of the AWS-step functions, simulated (IAM policy evaluation over the Service Authorization Reference)', () => {
  it.each(Object.keys(SCENARIOS))('%s: every call its handler sends is Allowed, with its real resource and context', async (key) => {
    await SCENARIOS[key]!();
    const calls = await deployment.callsOf(key, { ...mocks, sts });
    expect(calls.length, `${key} sent no call`).toBeGreaterThan(0);
    expect(await deniedCalls(calls, deployment.setupFor(key))).toEqual([]);
  });

  it.each(Object.keys(SCENARIOS))('%s: the same calls on a wrong resource (other account, region, a resource crossmove did not make) or condition value are Denied', async (key) => {
    await SCENARIOS[key]!();
    const calls = await deployment.callsOf(key, { ...mocks, sts });
    expect(unintended(await allowedMutants(calls, deployment.setupFor(key)))).toEqual([]);
  });
});

describe('serverless.yml roles of the AWS-step functions', () => {
  it.each(Object.keys(SCENARIOS))('%s: its role covers every call its handler sends', async (key) => {
    await SCENARIOS[key]!();
    const recorded = await recordedActions();
    const granted = grantedActions(key);
    expect(recorded.filter((a) => !granted.has(a)), `${key} (${SLS.functions[key].role}) lacks`).toEqual([]);
  });

  it('the scenarios really send calls (a scenario that sends nothing would prove nothing)', async () => {
    await SCENARIOS.acceptShare!();
    expect(await recordedActions()).toEqual(['ram:AcceptResourceShareInvitation', 'ram:GetResourceShareInvitations', 'ram:GetResourceShares']);
    await SCENARIOS.shareCluster!();
    expect(await recordedActions()).toContain('sts:AssumeRole');
  });

  it('every role uses only condition keys its actions support', () => {
    const statements = Object.keys(SLS.functions).flatMap((key) => roleStatements(key).map((s: any) => ({ ...s, Sid: s.Sid ?? `${SLS.functions[key].role}` })));
    expect(conditionKeyProblems(statements)).toEqual([]);
  });

  it('CloneClusterRole lets RDS (and only RDS, in this region) use the keys, and grants only for AWS resources', () => {
    const kms = roleStatements('cloneCluster').filter((s: any) => s.Action.some((a: string) => a.startsWith('kms:')));
    expect(kms.length).toBeGreaterThan(0);
    for (const s of kms) expect(s.Condition.StringEquals['kms:ViaService']).toEqual({ 'Fn::Sub': 'rds.${AWS::Region}.amazonaws.com' });
    const grant = kms.find((s: any) => s.Action.includes('kms:CreateGrant'));
    expect(grant.Condition.Bool).toEqual({ 'kms:GrantIsForAWSResource': 'true' });
  });

  it('CloneClusterRole may do with the keys (through RDS) what the source key policy lets the target account do', () => {
    // The key policy follows the Aurora User Guide's cross-account clone example (shared/aws/key-policy.ts);
    // a cross-account key use needs the action in both the key policy and the caller's IAM policy.
    const kms = roleStatements('cloneCluster').filter((s: any) => s.Action.some((a: string) => a.startsWith('kms:')));
    const conditioned = (actions: readonly string[], withGrantCondition: boolean) =>
      actions.filter((a) => !kms.some((s: any) => s.Action.includes(a) && Boolean(s.Condition.Bool) === withGrantCondition));
    expect(conditioned(TARGET_KEY_USE_ACTIONS, false)).toEqual([]);
    expect(conditioned(TARGET_KEY_GRANT_ACTIONS, true)).toEqual([]);
  });

  it.each([
    ['cloneCluster', 'rds:RestoreDBClusterToPointInTime', ['cluster', 'cluster-pg', 'subgrp', 'og']],
    ['createWriter', 'rds:CreateDBInstance', ['db', 'cluster', 'og', 'pg', 'subgrp', 'secgrp']],
    ['restoreSnapshot', 'rds:RestoreDBClusterFromSnapshot', ['cluster', 'cluster-snapshot', 'cluster-pg', 'subgrp', 'og']],
  ])('%s: %s may use every resource type it authorises', (key, action, types) => {
    const resources = roleStatements(key)
      .filter((s: any) => s.Action.includes(action))
      .flatMap((s: any) => s.Resource)
      .map((r: any) => String(r['Fn::Sub'] ?? r).split(':').at(-2)); // arn:...:rds:REGION:ACCOUNT:<type>:<name>
    expect(new Set(resources)).toEqual(new Set(types));
  });
});
