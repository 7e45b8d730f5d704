// The clone path's RDS/KMS/Secrets Manager/STS calls for real against a moto server, same account:
// validate -> preflight -> (share, accept, key: skipped) -> clone -> check -> writer -> check -> binlog position.
// moto gaps (toolchain.md): RestoreType is ignored (plain copy), instances are available at once, and
// DescribeEvents never emits the "Binlog position from crash recovery" event; that event, pagination
// and the not-yet-available states are covered with aws-sdk-client-mock in test/unit/aws-*.test.ts.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CreateDBClusterCommand, DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { localLambdaContext } from '../../shared/handler.js';
import type { MigrationState } from '../../shared/state.js';
import { handler as validateInput } from '../../handlers/validate-input.js';
import { handler as runPreflight } from '../../handlers/run-preflight.js';
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
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { targetAdminCredentials } from '../../shared/db-credentials.js';
import { clearSecretCache } from '../../shared/secrets.js';
import { logger } from '../../shared/logger.js';
import { leaks, secretValuesInSecretsManager } from '../e2e/secrets-scan.js';
import { handler as switchDns } from '../../handlers/switch-dns.js';
import { startMoto, type Moto } from '../support/moto.js';
import { createSecret, createSourceCluster, REGION, TARGET_ACCOUNT, type SourceFixture, auroraWriteBlock } from './fixtures.js';

const ctx = localLambdaContext('test');
const call = <T>(h: (e: any, c: any) => Promise<T>, event: unknown) => h(event, ctx);
const errorOf = (p: Promise<unknown>) => p.then(() => { throw new Error('expected the step to fail'); }, (e: Error) => e);

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

describe('same-account clone flow against moto', () => {
  let source: SourceFixture;
  let targetSecret: string;
  const rawInput = (overrides: Record<string, unknown> = {}) => ({
    migrationId: 'orders-1',
    source: { clusterArn: source.clusterArn, adminSecret: source.adminSecretArn },
    target: { adminSecret: targetSecret, instanceClass: 'db.r6g.large' },
    initialLoad: { method: 'clone' },
    cutover: auroraWriteBlock(source),
    ...overrides,
  });

  beforeEach(async () => {
    await moto.reset();
    source = await createSourceCluster({ region: REGION }, { name: 'orders-prod' });
    targetSecret = await createSecret({ region: REGION }, 'orders-target-admin');
  });

  it('validates, inspects, clones, adds the writer and creates nothing twice when re-invoked', async () => {
    const rds = new RDSClient({ region: REGION });
    const targetKey = (await new KMSClient({ region: REGION }).send(new CreateKeyCommand({ Description: 'clone key' }))).KeyMetadata!.Arn!;
    // No target.adminSecret: the clone's admin is the master user crossmove resets below.
    const { input, accounts } = await call(validateInput, rawInput({ target: { instanceClass: 'db.r6g.large', kmsKeyId: targetKey } }));
    expect(accounts).toEqual({ source: TARGET_ACCOUNT, target: TARGET_ACCOUNT, sameAccount: true, sourceRegion: REGION, targetRegion: REGION });

    const state: MigrationState = { input, accounts };
    state.preflight = await call(runPreflight, state);
    expect(state.preflight.ok).toBe(true);
    expect(state.preflight.sourceEndpoint).toEqual({ host: source.endpoint, port: 3306 });
    expect(state.preflight.sourceCluster).toEqual({ engineVersion: '8.0.mysql_aurora.3.05.2', kmsKeyArn: source.keyArn, parameterGroup: 'orders-prod-binlog', instanceCount: 1 });
    expect(state.preflight.checks.map((c) => `${c.id}:${c.status}`)).toEqual(
      expect.arrayContaining(['source-cluster:pass', 'source-binlog-format:pass', 'source-kms-key:pass', 'target-identifier:pass', 'target-kms-key:pass', 'source-admin-secret:pass', 'target-admin-secret:pass']),
    );

    state.share = await call(shareCluster, state);
    state.shareAcceptance = await call(acceptShare, state);
    state.keyAccess = await call(grantKeyAccess, state);
    expect([state.share.skipped, state.shareAcceptance.skipped, state.keyAccess.skipped]).toEqual([true, true, true]);

    state.clone = await call(cloneCluster, state);
    expect(state.clone).toMatchObject({ clusterIdentifier: 'crossmove-orders-1', created: true, attempts: 0 });
    const again = await call(cloneCluster, state);
    expect(again).toMatchObject({ clusterIdentifier: 'crossmove-orders-1', created: false });
    const clusters = (await rds.send(new DescribeDBClustersCommand({}))).DBClusters!.map((c) => c.DBClusterIdentifier).sort();
    expect(clusters).toEqual(['crossmove-orders-1', 'orders-prod']);
    const clone = (await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'crossmove-orders-1' }))).DBClusters![0]!;
    expect(clone.TagList).toContainEqual({ Key: 'crossmove:migrationId', Value: 'orders-1' });
    expect(clone.KmsKeyId).toBe(targetKey);
    // No target.dbClusterParameterGroupName: the clone gets crossmove's copy of the source group, binlogs on
    // (the default group has them OFF, and then no "Binlog position from crash recovery" event comes).
    expect(clone.DBClusterParameterGroup).toBe('crossmove-orders-1');
    expect(state.clone.parameterGroup).toBe('crossmove-orders-1');

    state.clone = await call(checkClone, state);
    expect(state.clone).toMatchObject({ done: true, attempts: 1, status: 'available', endpoint: clone.Endpoint, port: 3306 });

    state.writer = await call(createWriter, state);
    expect(state.writer).toMatchObject({ instanceIdentifier: 'crossmove-orders-1-writer', created: true });
    expect((await call(createWriter, state)).created).toBe(false);
    const instances = (await rds.send(new DescribeDBInstancesCommand({}))).DBInstances!.filter((i) => i.DBClusterIdentifier === 'crossmove-orders-1');
    expect(instances.map((i) => i.DBInstanceIdentifier)).toEqual(['crossmove-orders-1-writer']);

    state.writer = await call(checkWriter, state);
    expect(state.writer).toMatchObject({ done: true, attempts: 1, status: 'available' });
    expect(state.writer.createdAt).toMatch(/^\d{4}-/);

    // The clone's master user (the source's, with the source's password) gets a new password, kept in
    // crossmove's own secret; everything it logs is captured to prove no password appears.
    const logged: string[] = [];
    const spies = (['debug', 'info', 'warn', 'error'] as const).map((level) =>
      vi.spyOn(logger, level).mockImplementation(((...args: unknown[]) => { logged.push(JSON.stringify(args)); }) as never),
    );
    try {
      state.targetAdmin = await call(resetMasterPassword, state);
      expect(state.targetAdmin).toMatchObject({ done: false, attempts: 0, username: 'admin', clusterIdentifier: 'crossmove-orders-1', createdSecret: true });
      expect(state.targetAdmin.secretRef).toMatch(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:crossmove\/orders-1\/target-admin-/);
      state.targetAdmin = await call(checkMasterPassword, state);
      expect(state.targetAdmin).toMatchObject({ done: true, attempts: 1, status: 'in-effect' });
      // Re-invoked: the same secret, not a second one.
      expect((await call(resetMasterPassword, state)).createdSecret).toBe(false);
    } finally {
      spies.forEach((spy) => spy.mockRestore());
    }
    clearSecretCache();
    const admin = await targetAdminCredentials(state);
    expect(admin.username).toBe('admin');
    expect(admin.password).not.toBe('fixture-master-pw');
    // RDS (moto) holds the password crossmove set, and the target admin's secret holds it too.
    const cloneNow = (await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'crossmove-orders-1' }))).DBClusters![0]! as { MasterUserPassword?: string };
    expect(cloneNow.MasterUserPassword ?? admin.password).toBe(admin.password);

    // moto never emits the crash-recovery event: the step keeps polling (done false), as on AWS before it appears.
    state.binlogPosition = await call(readBinlogPosition, state);
    expect(state.binlogPosition).toEqual({ done: false, attempts: 1, status: 'waiting-for-event', origin: 'describe-events' });

    // No payload or log line carries a password: every one in Secrets Manager, the generated one included.
    const secrets = [...(await secretValuesInSecretsManager(new SecretsManagerClient({ region: REGION }))), 'fixture-master-pw'];
    expect(secrets).toContain(admin.password);
    expect(leaks(JSON.stringify(state), secrets)).toEqual([]);
    expect(leaks(logged.join(''), secrets)).toEqual([]);
    expect(logged.join('')).toContain('set a new master password on the target cluster');
  });

  it('switches the CNAME to the clone endpoint (UPSERT, twice is fine) and skips without cutover.dns', async () => {
    const r53 = new Route53Client({ region: REGION });
    const zone = await r53.send(new CreateHostedZoneCommand({ Name: 'internal.example.com', CallerReference: 'z1' }));
    const zoneId = zone.HostedZone!.Id!.replace('/hostedzone/', '');
    await r53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: { Name: 'orders-db.internal.example.com', Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: source.endpoint }] } }] } }));
    const { input, accounts } = await call(validateInput, rawInput({ cutover: { ...auroraWriteBlock(source), dns: { hostedZoneId: zoneId, recordName: 'orders-db.internal.example.com', ttl: 5 } } }));
    const state: MigrationState = { input, accounts, clone: { done: true, attempts: 1, status: 'available', clusterIdentifier: 'x', endpoint: 'x.cluster-abc.us-east-1.rds.amazonaws.com', port: 3306 } };
    const first = await call(switchDns, state);
    const second = await call(switchDns, state);
    expect(first).toMatchObject({ recordName: 'orders-db.internal.example.com', value: 'x.cluster-abc.us-east-1.rds.amazonaws.com', skipped: false });
    expect(second.value).toBe(first.value);
    const records = (await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }))).ResourceRecordSets!.filter((r) => r.Type === 'CNAME');
    expect(records).toEqual([expect.objectContaining({ Name: 'orders-db.internal.example.com.', TTL: 5, ResourceRecords: [{ Value: 'x.cluster-abc.us-east-1.rds.amazonaws.com' }] })]);

    const noDns = await call(validateInput, rawInput());
    expect(await call(switchDns, { ...noDns, clone: state.clone })).toEqual({ recordName: '', value: '', changeId: null, skipped: true });
  });

  it('refuses a source without binlogs, naming the parameter group and the reboot', async () => {
    const bare = await createSourceCluster({ region: REGION }, { name: 'no-binlogs', binlogFormat: 'OFF' });
    const state = await call(validateInput, rawInput({ source: { clusterArn: bare.clusterArn, adminSecret: bare.adminSecretArn } }));
    const err = await errorOf(call(runPreflight, state));
    expect(err.name).toBe('BinlogDisabledError');
    expect(err.message).toContain('binlog_format is OFF in cluster parameter group no-binlogs-binlog');
    expect(err.message).toContain('writer must reboot');
  });

  it('refuses a target identifier taken by a cluster crossmove did not make, in preflight and in the clone step', async () => {
    const rds = new RDSClient({ region: REGION });
    await rds.send(new CreateDBClusterCommand({ DBClusterIdentifier: 'crossmove-orders-1', Engine: 'aurora-mysql', MasterUsername: 'admin', MasterUserPassword: 'someone-elses-pw' }));
    const state = await call(validateInput, rawInput());
    const err = await errorOf(call(runPreflight, state));
    expect(err.name).toBe('ResourceConflictError');
    expect(err.message).toContain('crossmove-orders-1');
    const cloneErr = await errorOf(call(cloneCluster, state));
    expect(cloneErr.name).toBe('ResourceConflictError');
    const clusters = (await rds.send(new DescribeDBClustersCommand({}))).DBClusters!;
    expect(clusters).toHaveLength(2);
  });

  it('names a target.kmsKeyId that does not exist', async () => {
    const missingKey = `arn:aws:kms:${REGION}:${TARGET_ACCOUNT}:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0`;
    const state = await call(validateInput, rawInput({ target: { adminSecret: targetSecret, kmsKeyId: missingKey } }));
    const err = await errorOf(call(runPreflight, state));
    expect(err.name).toBe('ResourceNotFoundError');
    expect(err.message).toContain(`target.kmsKeyId ${missingKey} does not exist`);
  });

  it('names a missing source cluster and a missing secret', async () => {
    const state = await call(
      validateInput,
      rawInput({ source: { clusterArn: `arn:aws:rds:${REGION}:${TARGET_ACCOUNT}:cluster:does-not-exist`, adminSecret: `arn:aws:secretsmanager:${REGION}:${TARGET_ACCOUNT}:secret:missing-AbCdEf` } }),
    );
    const err = await errorOf(call(runPreflight, state));
    expect(err.name).toBe('ResourceNotFoundError');
    expect(err.message).toContain('does-not-exist');
    expect(err.message).toContain('[source-admin-secret]');
    expect(err.message).toContain('missing-AbCdEf');
  });
});
