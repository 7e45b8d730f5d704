// "Clean up (AWS)" against moto: what the migration created is gone afterwards, a second run finds
// everything already gone, and the old source is stopped or deleted only when asked after a cutover.
// moto gaps (covered in test/unit/aws-cleanup.test.ts): instances and clusters disappear at once (so
// the `pending` second run of a real delete is not visible here) and a secret scheduled for deletion.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DescribeDBClusterSnapshotsCommand, DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { CreateKeyCommand, GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetResourceSharesCommand, RAMClient } from '@aws-sdk/client-ram';
import { DescribeSecretCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { ensureMigrationAlarms } from '../../shared/metrics/alarms.js';
import { setCloudWatchClient } from '../../shared/aws/cloudwatch.js';
import { localLambdaContext } from '../../shared/handler.js';
import type { CleanupReport, CutoverResult, MigrationState } from '../../shared/state.js';
import { ensureGeneratedCredentials, storeCredentials } from '../../shared/secrets.js';
import { targetAdminSecretDescription } from '../../shared/aws/master-password.js';
import { handler as validateInput } from '../../handlers/validate-input.js';
import { handler as runPreflight } from '../../handlers/run-preflight.js';
import { handler as shareCluster } from '../../handlers/share-cluster.js';
import { handler as grantKeyAccess } from '../../handlers/grant-key-access.js';
import { handler as snapshotSource } from '../../handlers/snapshot-source.js';
import { handler as copySnapshot } from '../../handlers/copy-snapshot.js';
import { handler as cleanupAwsHandler } from '../../handlers/cleanup-aws.js';
import { startMoto, type Moto } from '../support/moto.js';
import { createSecret, createSourceCluster, credentialsFor, REGION, SOURCE_ACCOUNT, type SourceFixture, auroraWriteBlock } from './fixtures.js';

const ctx = localLambdaContext('test');
const call = <T>(h: (e: any, c: any) => Promise<T>, event: unknown) => h(event, ctx);
const cleanup = (event: unknown) => call(cleanupAwsHandler, event) as Promise<CleanupReport>;
const errorOf = (p: Promise<unknown>) => p.then(() => { throw new Error('expected the step to fail'); }, (e: Error) => e);
const outcomes = (r: CleanupReport) => Object.fromEntries(r.items.map((i) => [i.kind, i.outcome]));
const cutoverOk: CutoverResult = {
  ok: true, rolledBack: false, writeBlockedMs: 20, finalSourcePosition: { file: 'mysql-bin-changelog.000004', position: 1542 },
  targetPositionAtSwitch: { file: 'mysql-bin-changelog.000002', position: 154 }, tablesVerified: 3, checksumsMatch: true, grantDifferences: [], steps: [],
};

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
  delete process.env.CROSSMOVE_SECRET_STORE;
});
afterAll(async () => {
  await moto?.stop();
});

describe('cleanup across accounts (moto)', () => {
  let source: SourceFixture;
  let inSource: { region: string; credentials: Awaited<ReturnType<typeof credentialsFor>> };
  let state: MigrationState;

  beforeEach(async () => {
    await moto.reset();
    inSource = { region: REGION, credentials: await credentialsFor(SOURCE_ACCOUNT) };
    source = await createSourceCluster(inSource, { name: 'orders-prod' });
    const targetSecret = await createSecret({ region: REGION }, 'orders-target-admin');
    // A cross-account clone needs the target's own key and network (preflight fails without them).
    const targetKey = (await new KMSClient({ region: REGION }).send(new CreateKeyCommand({ Description: 'crossmove target key' }))).KeyMetadata!.Arn!;
    state = await call(validateInput, {
      migrationId: 'orders-2026-12',
      source: { clusterArn: source.clusterArn, adminSecret: source.adminSecretArn, accessRoleArn: `arn:aws:iam::${SOURCE_ACCOUNT}:role/crossmove-source-access`, externalId: 'orders-2026-12-3f9c' },
      target: { adminSecret: targetSecret, kmsKeyId: targetKey, dbSubnetGroupName: 'orders-private', vpcSecurityGroupIds: ['sg-0123456789abcdef0'] },
      initialLoad: { method: 'clone' },
      cutover: auroraWriteBlock(source),
    });
    state.preflight = await call(runPreflight, state);
    // What the clone path leaves behind: the RAM share, the key statement, the replication user's secret.
    state.share = await call(shareCluster, state);
    state.keyAccess = await call(grantKeyAccess, state);
    const secretRef = await storeCredentials(state.input.names.replicationSecretName, { username: 'crossmove_repl', password: 'repl-pw-Secret-1' });
    state.replicationUser = { userName: 'crossmove_repl', secretRef, requireSsl: true };
    // ... and the target admin secret "Reset the master password" made (as it makes it).
    const admin = await ensureGeneratedCredentials(state.input.names.targetAdminSecretName, () => ({ username: 'admin', password: 'target-admin-Secret-9' }), {
      secretsManager: new SecretsManagerClient({ region: REGION }),
      description: targetAdminSecretDescription(state.input.migrationId, state.input.names.targetClusterIdentifier),
    });
    state.targetAdmin = { done: true, attempts: 1, status: 'in-effect', secretRef: admin.ref, username: 'admin', clusterIdentifier: state.input.names.targetClusterIdentifier, createdSecret: true };
    state.cutover = cutoverOk;
  });

  it('removes the share, the key statement and the secrets; a second run finds them gone; the source is kept', async () => {
    const kms = new KMSClient(inSource);
    const before = JSON.parse((await kms.send(new GetKeyPolicyCommand({ KeyId: source.keyArn!, PolicyName: 'default' }))).Policy!);

    const report = await cleanup(state);
    expect(report.complete).toBe(true);
    expect(outcomes(report)).toEqual({ 'ram-share': 'removed', 'kms-key-statement': 'removed', 'replication-secret': 'removed', 'target-admin-secret': 'removed', 'source-cluster': 'kept' });
    // The target admin's secret is only scheduled for deletion: it holds the new primary's master password.
    const adminSecret = await new SecretsManagerClient({ region: REGION }).send(new DescribeSecretCommand({ SecretId: state.targetAdmin!.secretRef }));
    expect(adminSecret.DeletedDate).toBeInstanceOf(Date);
    expect(report.items.find((i) => i.kind === 'ram-share')).toMatchObject({ id: state.share!.resourceShareArn, account: SOURCE_ACCOUNT });

    // moto ignores the resourceShareStatus filter: deleted shares stay listed as DELETED.
    const shares = await new RAMClient(inSource).send(new GetResourceSharesCommand({ resourceOwner: 'SELF' }));
    expect(shares.resourceShares!.map((s) => `${s.name}:${s.status}`)).toEqual(['crossmove-orders-2026-12:DELETED']);
    const after = JSON.parse((await kms.send(new GetKeyPolicyCommand({ KeyId: source.keyArn!, PolicyName: 'default' }))).Policy!);
    const ours = (s: { Sid?: string }) => s.Sid === 'CrossmoveTargetAccessorders202612' || s.Sid === 'CrossmoveTargetAccessorders202612Grants';
    expect(before.Statement.filter(ours)).toHaveLength(2);
    expect(after.Statement.filter(ours)).toEqual([]);
    // Only crossmove's statements went; the key's own statements are untouched.
    expect(after.Statement).toEqual(before.Statement.filter((s: { Sid?: string }) => !ours(s)));
    const secrets = await new SecretsManagerClient({ region: REGION }).send(new ListSecretsCommand({}));
    expect(secrets.SecretList!.map((s) => s.Name)).not.toContain('crossmove/orders-2026-12/replication-user');
    const cluster = (await new RDSClient(inSource).send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'orders-prod' }))).DBClusters![0]!;
    expect(cluster.Status).toBe('available');

    const again = await cleanup(state);
    expect(outcomes(again)).toEqual({ 'ram-share': 'gone', 'kms-key-statement': 'gone', 'replication-secret': 'gone', 'target-admin-secret': 'gone', 'source-cluster': 'kept' });
    expect(JSON.stringify([report, again])).not.toContain('repl-pw-Secret-1');
    expect(JSON.stringify([report, again])).not.toContain('target-admin-Secret-9');
  });

  it("deletes the migration's two lag alarms on AWS (another migration's stay), then finds them gone", async () => {
    process.env.CROSSMOVE_ALARM_PREFIX = 'crossmove-test';
    try {
      const cw = new CloudWatchClient({ region: REGION });
      setCloudWatchClient(cw);
      const alarms = (id: string) => ensureMigrationAlarms({ namespace: 'Crossmove', migrationId: id, maxLagSeconds: 5, lagAlertMinutes: 5, topicArn: null, prefix: 'crossmove-test' });
      const ours = await alarms('orders-2026-12');
      await alarms('billing-2026-12');
      const report = await cleanup(state);
      expect(report.items.filter((i) => i.kind === 'cloudwatch-alarm').map((i) => [i.id, i.outcome])).toEqual(ours.map((n) => [n, 'removed']));
      const left = (await cw.send(new DescribeAlarmsCommand({}))).MetricAlarms!.map((a) => a.AlarmName).sort();
      expect(left).toEqual(['crossmove-test-billing-2026-12-heartbeat-lag', 'crossmove-test-billing-2026-12-replication-stopped']);
      const again = await cleanup(state);
      expect(again.items.filter((i) => i.kind === 'cloudwatch-alarm').map((i) => i.outcome)).toEqual(['gone', 'gone']);
      expect(again.complete).toBe(true);
    } finally {
      delete process.env.CROSSMOVE_ALARM_PREFIX;
      setCloudWatchClient(undefined);
    }
  });

  it('stops the old source only when asked, after a successful cutover, and never before', async () => {
    const refused = await errorOf(cleanup({ ...state, cutover: undefined, cleanupOptions: { sourceCluster: 'stop' } }));
    expect(refused.name).toBe('CleanupRefusedError');
    // Refused before anything was removed.
    const shares = await new RAMClient(inSource).send(new GetResourceSharesCommand({ resourceOwner: 'SELF' }));
    expect(shares.resourceShares!.map((s) => `${s.name}:${s.status}`)).toEqual(['crossmove-orders-2026-12:ACTIVE']);

    const report = await cleanup({ ...state, cleanupOptions: { sourceCluster: 'stop' } });
    expect(report.items.find((i) => i.kind === 'source-cluster')).toMatchObject({ outcome: 'stopped', id: source.clusterArn, account: SOURCE_ACCOUNT });
    const cluster = (await new RDSClient(inSource).send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'orders-prod' }))).DBClusters![0]!;
    expect(cluster.Status).toBe('stopped');
    expect((await cleanup({ ...state, cleanupOptions: { sourceCluster: 'stop' } })).items.find((i) => i.kind === 'source-cluster')!.outcome).toBe('gone');
  });
});

describe('cleanup of the snapshot path and deletion of the source, same account (moto)', () => {
  let source: SourceFixture;
  let state: MigrationState;

  beforeEach(async () => {
    await moto.reset();
    source = await createSourceCluster({ region: REGION }, { name: 'orders-prod', instances: 2 });
    const targetSecret = await createSecret({ region: REGION }, 'orders-target-admin');
    const targetKey = (await new KMSClient({ region: REGION }).send(new CreateKeyCommand({ Description: 'target key' }))).KeyMetadata!.Arn!;
    state = await call(validateInput, {
      migrationId: 'orders-1',
      source: { clusterArn: source.clusterArn, adminSecret: source.adminSecretArn },
      target: { adminSecret: targetSecret, kmsKeyId: targetKey },
      initialLoad: { method: 'snapshot' },
      cutover: auroraWriteBlock(source),
    });
    state.preflight = await call(runPreflight, state);
    state.sourceSnapshot = { ...(await call(snapshotSource, state)), done: true };
    state.snapshotCopy = await call(copySnapshot, state);
    state.cutover = cutoverOk;
  });

  it('deletes both snapshots, then the source instances and cluster with a final snapshot', async () => {
    const rds = new RDSClient({ region: REGION });
    const report = await cleanup({ ...state, cleanupOptions: { sourceCluster: 'delete' } });
    expect(report.items.map((i) => `${i.kind}:${i.id}:${i.outcome}`)).toEqual([
      'ram-share:crossmove-orders-1:skipped',
      'kms-key-statement:CrossmoveTargetAccessorders1:skipped',
      'replication-secret:crossmove/orders-1/replication-user:gone',
      'target-admin-secret:crossmove/orders-1/target-admin:gone',
      'target-snapshot-copy:crossmove-orders-1-copy:removed',
      'source-snapshot:crossmove-orders-1-source:removed',
      'source-instance:orders-prod-1:removed',
      'source-instance:orders-prod-2:removed',
      `source-cluster:${source.clusterArn}:removed`,
    ]);
    expect(report.complete).toBe(true);
    const clusters = (await rds.send(new DescribeDBClustersCommand({}))).DBClusters ?? [];
    expect(clusters.map((c) => c.DBClusterIdentifier)).not.toContain('orders-prod');
    const instances = (await rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? [];
    expect(instances).toEqual([]);
    const manual = (await rds.send(new DescribeDBClusterSnapshotsCommand({ SnapshotType: 'manual' }))).DBClusterSnapshots!;
    expect(manual.map((s) => s.DBClusterSnapshotIdentifier)).toEqual(['crossmove-orders-1-final']);

    const again = await cleanup({ ...state, cleanupOptions: { sourceCluster: 'delete' } });
    expect(again.items.filter((i) => i.kind !== 'ram-share' && i.kind !== 'kms-key-statement').map((i) => `${i.kind}:${i.outcome}`)).toEqual([
      'replication-secret:gone', 'target-admin-secret:gone', 'target-snapshot-copy:gone', 'source-snapshot:gone', 'source-cluster:gone',
    ]);
  });
});
