// serverless.yml (snapshot and cleanup functions) grants each function exactly the target-account calls its step
// sends, plus sts:AssumeRole when it works in the source account. The calls are recorded, not listed by
// hand: every handler runs against aws-sdk-client-mock, and a call counts as target-account when its
// client does NOT carry the assumed role's credentials. KMS actions that RDS performs with the caller's
// permissions (re-encrypting a copy or a restored cluster) and tag-on-create are the only additions.
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CopyDBClusterSnapshotCommand, CreateDBClusterSnapshotCommand, DeleteDBClusterSnapshotCommand, DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBClusterSnapshotsCommand, DescribeDBClustersCommand, ModifyDBClusterSnapshotAttributeCommand, RDSClient, RestoreDBClusterFromSnapshotCommand,
  CreateDBClusterParameterGroupCommand, DescribeDBClusterParameterGroupsCommand, ModifyDBClusterParameterGroupCommand,
} from '@aws-sdk/client-rds';
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { DeleteResourceShareCommand, GetResourceSharesCommand, RAMClient } from '@aws-sdk/client-ram';
import { DeleteSecretCommand, DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { localLambdaContext } from '../../shared/handler.js';
import type { MigrationState } from '../../shared/state.js';
import { handler as snapshotSource } from '../../handlers/snapshot-source.js';
import { handler as checkSourceSnapshot } from '../../handlers/check-source-snapshot.js';
import { handler as shareSnapshot } from '../../handlers/share-snapshot.js';
import { handler as copySnapshot } from '../../handlers/copy-snapshot.js';
import { handler as checkSnapshotCopy } from '../../handlers/check-snapshot-copy.js';
import { handler as restoreSnapshot } from '../../handlers/restore-snapshot.js';
import { handler as cleanupAws } from '../../handlers/cleanup-aws.js';
import { CloudWatchClient, DeleteAlarmsCommand, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { setCloudWatchClient } from '../../shared/aws/cloudwatch.js';
import { testDeployment, type Deployment } from '../support/iam/fixtures.js';
import { allowedMutants, deniedCalls } from '../support/iam/simulate.js';
import { unintended } from '../support/iam/breadth.js';
import { ASSUMED_KEY_ID, REGION, SOURCE_KEY, SRC, TGT, assumeRoleResponse, crossAccountState, mockTargetParameterGroup, resetCaches, targetCluster } from '../aws/mock-fixtures.js';

const mocks = { rds: mockClient(RDSClient), kms: mockClient(KMSClient), ram: mockClient(RAMClient), secretsmanager: mockClient(SecretsManagerClient), cloudwatch: mockClient(CloudWatchClient) };
const sts = mockClient(STSClient);
const ctx = localLambdaContext('test');
const FRAGMENT = parse(readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8'), { merge: true, maxAliasCount: -1 });
const CUSTOM_IAM = parse(readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8')).custom.iam as Record<string, { Action: string[] }>;
/** What RDS does with the caller's KMS permissions (not an SDK call of ours) and tag-on-create. */
const ON_BEHALF = new Set(['kms:CreateGrant', 'kms:DescribeKey', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'rds:AddTagsToResource']);

function grantedActions(functionKey: string): string[] {
  const roleName = FRAGMENT.functions[functionKey].role;
  const statements = FRAGMENT.resources.Resources[roleName].Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
  return statements
    .flatMap((s: any) => {
      if (typeof s === 'string') {
        const key = /^\$\{self:custom\.iam\.(\w+)\}$/.exec(s)![1]!;
        return key === 'logs' ? [] : CUSTOM_IAM[key]!.Action;
      }
      return s.Action;
    })
    .sort();
}

async function recorded(): Promise<{ target: string[]; assumed: boolean }> {
  const target = new Set<string>();
  let assumed = sts.commandCalls(AssumeRoleCommand).length > 0;
  for (const [prefix, mock] of Object.entries(mocks)) {
    for (const call of mock.calls()) {
      const client = call.thisValue as { config: { credentials: () => Promise<{ accessKeyId: string }> } };
      if ((await client.config.credentials()).accessKeyId === ASSUMED_KEY_ID) assumed = true;
      else target.add(`${prefix}:${(call.args[0] as object).constructor.name.replace(/Command$/, '')}`);
    }
  }
  return { target: [...target].sort(), assumed };
}

const notFound = (name: string) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: 404 } });
const SNAP_ARN = `arn:aws:rds:${REGION}:${SRC}:cluster-snapshot:crossmove-orders-2026-12-source`;
const snap = (id: string, tags = true) => ({
  DBClusterSnapshotIdentifier: id, DBClusterSnapshotArn: SNAP_ARN, DBClusterIdentifier: 'orders-prod', Status: 'available', StorageEncrypted: true, KmsKeyId: SOURCE_KEY,
  TagList: tags ? [{ Key: 'crossmove:migrationId', Value: 'orders-2026-12' }] : [],
});
const poll = (id: string) => ({ done: true, attempts: 1, status: 'available', snapshotIdentifier: id, snapshotArn: SNAP_ARN, account: SRC, region: REGION, encrypted: true, kmsKeyId: SOURCE_KEY });
const state = (): MigrationState => ({
  ...crossAccountState({ initialLoad: { method: 'snapshot' } }),
  preflight: { ok: true, checks: [], sourceCluster: { engineVersion: '8.0.mysql_aurora.3.05.2', kmsKeyArn: SOURCE_KEY, parameterGroup: 'orders-binlog', instanceCount: 1 } },
  sourceSnapshot: poll('crossmove-orders-2026-12-source'),
  snapshotCopy: poll('crossmove-orders-2026-12-copy'),
  replicationUser: { userName: 'crossmove_repl', secretRef: `arn:aws:secretsmanager:${REGION}:${TGT}:secret:crossmove/orders-2026-12/replication-user-AbCdEf`, requireSsl: true },
});

const SCENARIOS: Record<string, () => Promise<unknown>> = {
  snapshotSource: async () => {
    mocks.rds.on(DescribeDBClusterSnapshotsCommand).rejects(notFound('DBClusterSnapshotNotFoundFault'));
    mocks.rds.on(CreateDBClusterSnapshotCommand).resolves({ DBClusterSnapshot: snap('crossmove-orders-2026-12-source') });
    return snapshotSource(state(), ctx);
  },
  checkSourceSnapshot: async () => {
    mocks.rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [snap('crossmove-orders-2026-12-source')] });
    return checkSourceSnapshot(state(), ctx);
  },
  shareSnapshot: async () => {
    mocks.rds.on(DescribeDBClusterSnapshotAttributesCommand).resolves({ DBClusterSnapshotAttributesResult: { DBClusterSnapshotAttributes: [] } });
    mocks.rds.on(ModifyDBClusterSnapshotAttributeCommand).resolves({});
    return shareSnapshot(state(), ctx);
  },
  copySnapshot: async () => {
    mocks.rds.on(DescribeDBClusterSnapshotsCommand).rejects(notFound('DBClusterSnapshotNotFoundFault'));
    mocks.rds.on(CopyDBClusterSnapshotCommand).resolves({ DBClusterSnapshot: snap('crossmove-orders-2026-12-copy') });
    return copySnapshot(state(), ctx);
  },
  checkSnapshotCopy: async () => {
    mocks.rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [snap('crossmove-orders-2026-12-copy')] });
    return checkSnapshotCopy(state(), ctx);
  },
  restoreSnapshot: async () => {
    mocks.rds.on(DescribeDBClustersCommand).rejects(notFound('DBClusterNotFoundFault'));
    mocks.rds.on(RestoreDBClusterFromSnapshotCommand).resolves({ DBCluster: targetCluster('creating') });
    // With target.dbClusterParameterGroupName (its binlogs are read) ...
    mockTargetParameterGroup(mocks.rds);
    await restoreSnapshot(state(), ctx);
    // ... and without (crossmove creates its copy of the source's group).
    mocks.rds.on(DescribeDBClusterParameterGroupsCommand, { DBClusterParameterGroupName: 'crossmove-orders-2026-12' }).rejects(notFound('DBParameterGroupNotFoundFault'));
    mocks.rds.on(CreateDBClusterParameterGroupCommand).resolves({});
    mocks.rds.on(ModifyDBClusterParameterGroupCommand).resolves({});
    const noGroup = state();
    noGroup.input = { ...noGroup.input, target: { ...noGroup.input.target, dbClusterParameterGroupName: undefined } };
    noGroup.preflight = { ...noGroup.preflight!, targetParameterGroup: { name: 'crossmove-orders-2026-12', create: true, family: 'aurora-mysql8.0', copiedFrom: 'orders-binlog', parameters: [{ name: 'binlog_format', value: 'ROW' }], notCopied: [] } };
    return restoreSnapshot(noGroup, ctx);
  },
  cleanupAws: async () => {
    mocks.ram.on(GetResourceSharesCommand).resolves({ resourceShares: [{ resourceShareArn: `arn:aws:ram:${REGION}:${SRC}:resource-share/x`, name: 'crossmove-orders-2026-12', status: 'ACTIVE' }] });
    mocks.ram.on(DeleteResourceShareCommand).resolves({});
    mocks.kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify({ Statement: [{ Sid: 'CrossmoveTargetAccessorders202612' }] }) });
    mocks.kms.on(PutKeyPolicyCommand).resolves({});
    mocks.secretsmanager.on(DescribeSecretCommand).resolves({});
    // The target admin secret crossmove made for the restored cluster: scheduled for deletion.
    mocks.secretsmanager.on(DescribeSecretCommand, { SecretId: 'crossmove/orders-2026-12/target-admin' }).resolves({ Description: 'crossmove orders-2026-12: master user of cluster orders-prod-moved (password set by crossmove)' });
    mocks.secretsmanager.on(DeleteSecretCommand).resolves({});
    mocks.rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [snap('crossmove-orders-2026-12-copy')] });
    mocks.rds.on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-source' }).resolves({ DBClusterSnapshots: [snap('crossmove-orders-2026-12-source')] });
    mocks.rds.on(DeleteDBClusterSnapshotCommand).resolves({});
    // The deployed stack's alarm prefix: the per-migration alarms are looked up and deleted.
    mocks.cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'crossmove-test-orders-2026-12-heartbeat-lag' }] });
    mocks.cloudwatch.on(DeleteAlarmsCommand).resolves({});
    process.env.CROSSMOVE_ALARM_PREFIX = 'crossmove-test'; // the packaged stack's stage
    try {
      return await cleanupAws(state(), ctx);
    } finally {
      delete process.env.CROSSMOVE_ALARM_PREFIX;
    }
  },
};

beforeEach(() => {
  Object.values(mocks).forEach((m) => m.reset());
  setCloudWatchClient(undefined);
  sts.reset();
  resetCaches();
  sts.on(AssumeRoleCommand).resolves(assumeRoleResponse());
  mocks.kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', Arn: SOURCE_KEY, KeyManager: 'CUSTOMER', KeyState: 'Enabled' } });
});

describe('serverless.yml (snapshot and cleanup functions)', () => {
  it('names every function, its handler file and its role', () => {
    // serverless.yml holds every function now; each snapshot/cleanup scenario must be one of them.
    expect(Object.keys(FRAGMENT.functions)).toEqual(expect.arrayContaining(Object.keys(SCENARIOS)));
    for (const [key, fn] of Object.entries<any>(FRAGMENT.functions)) {
      const file = fn.handler.replace(/\.handler$/, '.ts');
      expect(existsSync(new URL(`../../${file}`, import.meta.url)), `${key}: ${file}`).toBe(true);
      expect(FRAGMENT.resources.Resources[fn.role]?.Type).toBe('AWS::IAM::Role');
    }
  });

  it.each(Object.keys(SCENARIOS))('%s: its role grants exactly the calls it sends (no * action)', async (key) => {
    await SCENARIOS[key]!();
    const { target, assumed } = await recorded();
    const granted = grantedActions(key);
    expect(granted.filter((a) => a.includes('*'))).toEqual([]);
    const expected = [...target, ...(assumed ? ['sts:AssumeRole'] : [])].sort();
    expect(granted.filter((a) => !ON_BEHALF.has(a))).toEqual(expected.filter((a) => !ON_BEHALF.has(a)));
  });
});

let deployment: Deployment;
beforeAll(async () => {
  deployment = await testDeployment();
}, 330_000);

describe('the packaged roles of the snapshot and cleanup functions, simulated', () => {
  it.each(Object.keys(SCENARIOS))('%s: every call (and what RDS does with its permissions) is Allowed', async (key) => {
    await SCENARIOS[key]!();
    const calls = await deployment.callsOf(key, { ...mocks, sts });
    expect(calls.length, `${key} sent no call`).toBeGreaterThan(0);
    expect(await deniedCalls(calls, deployment.setupFor(key))).toEqual([]);
  });

  it.each(Object.keys(SCENARIOS))('%s: a wrong resource or condition value is Denied', async (key) => {
    await SCENARIOS[key]!();
    const calls = await deployment.callsOf(key, { ...mocks, sts });
    expect(unintended(await allowedMutants(calls, deployment.setupFor(key)))).toEqual([]);
  });
});

describe('KMS in the snapshot roles', () => {
  it('CopySnapshotRole lets only RDS use keys, and grants only for AWS resources', () => {
    const statements = FRAGMENT.resources.Resources.CopySnapshotRole.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement).filter(
      (s: any) => typeof s !== 'string' && s.Action.some((a: string) => a.startsWith('kms:')),
    );
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) expect(s.Condition?.StringLike?.['kms:ViaService']).toBe('rds.*.amazonaws.com');
    const grant = statements.find((s: any) => s.Action.includes('kms:CreateGrant'));
    expect(grant.Action).toEqual(['kms:CreateGrant']);
    expect(grant.Condition.Bool).toEqual({ 'kms:GrantIsForAWSResource': 'true' });
  });
});
