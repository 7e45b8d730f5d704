// The snapshot path with exact RDS/KMS parameters (aws-sdk-client-mock, responses shaped like the RDS
// API reference). moto cannot show: snapshots in `creating`/`copying`, failed snapshots, a copy of a
// snapshot shared from another account, the AWS-managed aws/rds key, or the binlog-position event.
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CopyDBClusterSnapshotCommand, CreateDBClusterSnapshotCommand, DescribeDBClusterSnapshotAttributesCommand, DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand, DescribeEventsCommand, ModifyDBClusterSnapshotAttributeCommand, RDSClient, RestoreDBClusterFromSnapshotCommand,
  type DBClusterSnapshot,
} from '@aws-sdk/client-rds';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { localLambdaContext } from '../../shared/handler.js';
import type { MigrationState, SnapshotPoll } from '../../shared/state.js';
import { handler as snapshotSource } from '../../handlers/snapshot-source.js';
import { handler as checkSourceSnapshot } from '../../handlers/check-source-snapshot.js';
import { handler as shareSnapshot } from '../../handlers/share-snapshot.js';
import { handler as copySnapshot } from '../../handlers/copy-snapshot.js';
import { handler as checkSnapshotCopy } from '../../handlers/check-snapshot-copy.js';
import { handler as restoreSnapshot } from '../../handlers/restore-snapshot.js';
import { handler as readBinlogPosition } from '../../handlers/read-binlog-position.js';
import { snapshotPathChecks } from '../../shared/preflight/snapshot-checks.js';
import { ASSUMED_KEY_ID, REGION, SOURCE_KEY, SRC, TGT, assumeRoleResponse, crossAccountState, crossAccounts, resetCaches, targetCluster, mockTargetParameterGroup } from '../aws/mock-fixtures.js';

const rds = mockClient(RDSClient);
const kms = mockClient(KMSClient);
const sts = mockClient(STSClient);
const ctx = localLambdaContext('test');
const errorOf = (p: Promise<unknown>) => p.then(() => { throw new Error('expected the step to fail'); }, (e: Error) => e);
const inputsOf = (cmd: unknown) => rds.commandCalls(cmd as never).map((c) => c.args[0].input);
const fault = (name: string, message = name) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });

const TARGET_KEY = `arn:aws:kms:${REGION}:${TGT}:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0`;
const SOURCE_SNAPSHOT_ARN = `arn:aws:rds:${REGION}:${SRC}:cluster-snapshot:crossmove-orders-2026-12-source`;
const COPY_ARN = `arn:aws:rds:${REGION}:${TGT}:cluster-snapshot:crossmove-orders-2026-12-copy`;

function snapshot(status: string, overrides: Partial<DBClusterSnapshot> = {}): DBClusterSnapshot {
  return {
    DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-source',
    DBClusterSnapshotArn: SOURCE_SNAPSHOT_ARN,
    DBClusterIdentifier: 'orders-prod',
    SnapshotCreateTime: new Date('2026-11-24T08:00:00Z'),
    Engine: 'aurora-mysql',
    EngineVersion: '8.0.mysql_aurora.3.05.2',
    EngineMode: 'provisioned',
    Status: status,
    PercentProgress: status === 'available' ? 100 : 40,
    Port: 3306,
    StorageEncrypted: true,
    KmsKeyId: SOURCE_KEY,
    SnapshotType: 'manual',
    TagList: [],
    ...overrides,
  };
}
const copySnapshotShape = (status: string, overrides: Partial<DBClusterSnapshot> = {}) =>
  snapshot(status, {
    DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-copy',
    DBClusterSnapshotArn: COPY_ARN,
    KmsKeyId: TARGET_KEY,
    SourceDBClusterSnapshotArn: SOURCE_SNAPSHOT_ARN,
    TagList: [{ Key: 'crossmove:migrationId', Value: 'orders-2026-12' }],
    ...overrides,
  });
const sourcePoll = (done = true, overrides: Partial<SnapshotPoll> = {}): SnapshotPoll => ({
  done, attempts: 2, status: done ? 'available' : 'creating', snapshotIdentifier: 'crossmove-orders-2026-12-source', snapshotArn: SOURCE_SNAPSHOT_ARN,
  account: SRC, region: REGION, encrypted: true, kmsKeyId: SOURCE_KEY, engineVersion: '8.0.mysql_aurora.3.05.2', ...overrides,
});
const copyPoll = (done = true): SnapshotPoll => ({
  done, attempts: 3, status: done ? 'available' : 'copying', snapshotIdentifier: 'crossmove-orders-2026-12-copy', snapshotArn: COPY_ARN,
  account: TGT, region: REGION, encrypted: true, kmsKeyId: TARGET_KEY,
});
const preflight = (kmsKeyArn: string | null = SOURCE_KEY) => ({
  ok: true, checks: [], sourceCluster: { engineVersion: '8.0.mysql_aurora.3.05.2', kmsKeyArn, parameterGroup: 'orders-binlog', instanceCount: 1 },
});
const snapshotState = (overrides: Record<string, any> = {}, extra: Partial<MigrationState> = {}): MigrationState => ({
  ...crossAccountState({ initialLoad: { method: 'snapshot' }, ...overrides }),
  preflight: preflight(),
  ...extra,
});
const keyIs = (KeyManager: 'AWS' | 'CUSTOMER') =>
  kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab', Arn: SOURCE_KEY, KeyManager, KeyState: 'Enabled', AWSAccountId: SRC } });

beforeEach(() => {
  rds.reset();
  kms.reset();
  sts.reset();
  resetCaches();
  sts.on(AssumeRoleCommand).resolves(assumeRoleResponse());
  // The input's target.dbClusterParameterGroupName (orders-binlog-on), binlogs on.
  mockTargetParameterGroup(rds);
});

describe('Snapshot the source', () => {
  it('creates the snapshot of the source cluster in the source account with exact parameters', async () => {
    keyIs('CUSTOMER');
    rds.on(DescribeDBClusterSnapshotsCommand).rejects(fault('DBClusterSnapshotNotFoundFault'));
    rds.on(CreateDBClusterSnapshotCommand).resolves({ DBClusterSnapshot: snapshot('creating') });
    const out = await snapshotSource(snapshotState(), ctx);
    expect(inputsOf(DescribeDBClusterSnapshotsCommand)).toEqual([{ DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-source' }]);
    expect(inputsOf(CreateDBClusterSnapshotCommand)).toEqual([{ DBClusterIdentifier: 'orders-prod', DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-source' }]);
    // Made with the assumed source-account role.
    const client = rds.commandCalls(CreateDBClusterSnapshotCommand)[0]!.thisValue as RDSClient;
    expect((await client.config.credentials()).accessKeyId).toBe(ASSUMED_KEY_ID);
    expect(await client.config.region()).toBe(REGION);
    expect(out).toEqual({
      done: false, attempts: 0, status: 'creating', snapshotIdentifier: 'crossmove-orders-2026-12-source', snapshotArn: SOURCE_SNAPSHOT_ARN,
      account: SRC, region: REGION, encrypted: true, kmsKeyId: SOURCE_KEY, engineVersion: '8.0.mysql_aurora.3.05.2', percentProgress: 40, created: true,
    });
  });

  it('reuses its snapshot on re-invocation and after a concurrent create', async () => {
    keyIs('CUSTOMER');
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [snapshot('creating')] });
    expect(await snapshotSource(snapshotState(), ctx)).toMatchObject({ created: false, done: false });
    expect(rds.commandCalls(CreateDBClusterSnapshotCommand)).toHaveLength(0);

    rds.reset();
    rds.on(DescribeDBClusterSnapshotsCommand).rejectsOnce(fault('DBClusterSnapshotNotFoundFault')).resolves({ DBClusterSnapshots: [snapshot('creating')] });
    rds.on(CreateDBClusterSnapshotCommand).rejects(fault('DBClusterSnapshotAlreadyExistsFault'));
    expect(await snapshotSource(snapshotState(), ctx)).toMatchObject({ created: false, snapshotIdentifier: 'crossmove-orders-2026-12-source' });
  });

  it('refuses a source encrypted with aws/rds across accounts without source.snapshotKmsKeyId, naming the fix, before creating anything', async () => {
    keyIs('AWS');
    const err = await errorOf(snapshotSource(snapshotState(), ctx));
    expect(err.name).toBe('DefaultKmsKeyError');
    expect(err.message).toMatch(/^source\.snapshotKmsKeyId is required: .*aws\/rds .*cannot be shared with account 222222222222.*Fix: set source\.snapshotKmsKeyId to the ARN of an enabled customer managed key of account 111111111111 in us-east-1/);
    expect(rds.calls()).toHaveLength(0);
  });

  it('allows aws/rds within one account (the copy re-encrypts with target.kmsKeyId)', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand).rejects(fault('DBClusterSnapshotNotFoundFault'));
    rds.on(CreateDBClusterSnapshotCommand).resolves({ DBClusterSnapshot: snapshot('creating') });
    const state = { ...snapshotState(), accounts: { ...crossAccounts, source: TGT, sameAccount: true, targetRegion: 'eu-west-1' } };
    await snapshotSource(state, ctx);
    expect(kms.calls()).toHaveLength(0);
    expect(rds.commandCalls(CreateDBClusterSnapshotCommand)).toHaveLength(1);
  });

  it('refuses an encrypted cross-account, cross-region path without source.snapshotKmsKeyId and a missing target.kmsKeyId', async () => {
    keyIs('CUSTOMER');
    const crossRegion = { ...snapshotState(), accounts: { ...crossAccounts, targetRegion: 'eu-west-1' } };
    const err = await errorOf(snapshotSource(crossRegion, ctx));
    expect(err.name).toBe('PreflightFailedError');
    expect(err.message).toContain('source.snapshotKmsKeyId is required: an encrypted snapshot shared from another account can only be copied within its own region (source us-east-1, target eu-west-1)');
    const noKey = await errorOf(snapshotSource(snapshotState({ target: { kmsKeyId: undefined } }), ctx));
    expect(noKey.message).toContain('target.kmsKeyId is required');
    expect(rds.commandCalls(CreateDBClusterSnapshotCommand)).toHaveLength(0);
  });

  it('refuses a snapshot of that name made from another cluster', async () => {
    keyIs('CUSTOMER');
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [snapshot('available', { DBClusterIdentifier: 'billing' })] });
    const err = await errorOf(snapshotSource(snapshotState(), ctx));
    expect(err.name).toBe('ResourceConflictError');
    expect(err.message).toContain('belongs to cluster billing, not orders-prod');
  });

  it('turns a busy source cluster into a retryable TransientError', async () => {
    keyIs('CUSTOMER');
    rds.on(DescribeDBClusterSnapshotsCommand).rejects(fault('DBClusterSnapshotNotFoundFault'));
    rds.on(CreateDBClusterSnapshotCommand).rejects(fault('InvalidDBClusterStateFault', 'Cannot create a snapshot because the DB cluster is in backing-up state'));
    expect((await errorOf(snapshotSource(snapshotState(), ctx))).name).toBe('TransientError');
  });

  it('needs the preflight result', async () => {
    const { preflight: _p, ...state } = snapshotState();
    expect((await errorOf(snapshotSource(state as MigrationState, ctx))).message).toContain('"Run preflight checks" must run before "Snapshot the source"');
  });
});

describe('Check the source snapshot / Check the snapshot copy', () => {
  it('counts attempts, reports progress, done only when available', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand).resolvesOnce({ DBClusterSnapshots: [snapshot('creating')] }).resolves({ DBClusterSnapshots: [snapshot('available')] });
    const state = snapshotState({}, { sourceSnapshot: sourcePoll(false, { attempts: 0, created: true }) });
    const first = await checkSourceSnapshot(state, ctx);
    expect(first).toMatchObject({ done: false, attempts: 1, status: 'creating', percentProgress: 40, created: true });
    const second = await checkSourceSnapshot({ ...state, sourceSnapshot: first }, ctx);
    expect(second).toMatchObject({ done: true, attempts: 2, status: 'available' });
  });

  it.each(['failed', 'error'])('throws ResourceFailedError for a %s snapshot', async (status) => {
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [copySnapshotShape(status)] });
    const err = await errorOf(checkSnapshotCopy(snapshotState(), ctx));
    expect(err.name).toBe('ResourceFailedError');
    expect(err.message).toContain(`crossmove-orders-2026-12-copy is ${status}`);
  });

  it('throws ResourceNotFoundError when the snapshot vanished', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand).rejects(fault('DBClusterSnapshotNotFoundFault'));
    expect((await errorOf(checkSourceSnapshot(snapshotState(), ctx))).name).toBe('ResourceNotFoundError');
  });
});

describe('Share the snapshot', () => {
  it('adds the target account to the restore attribute once', async () => {
    rds.on(DescribeDBClusterSnapshotAttributesCommand)
      .resolvesOnce({ DBClusterSnapshotAttributesResult: { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-source', DBClusterSnapshotAttributes: [{ AttributeName: 'restore', AttributeValues: [] }] } })
      .resolves({ DBClusterSnapshotAttributesResult: { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-source', DBClusterSnapshotAttributes: [{ AttributeName: 'restore', AttributeValues: [TGT] }] } });
    rds.on(ModifyDBClusterSnapshotAttributeCommand).resolves({});
    const state = snapshotState({}, { sourceSnapshot: sourcePoll() });
    expect(await shareSnapshot(state, ctx)).toEqual({ snapshotArn: SOURCE_SNAPSHOT_ARN, sharedWith: TGT, added: true });
    expect(await shareSnapshot(state, ctx)).toEqual({ snapshotArn: SOURCE_SNAPSHOT_ARN, sharedWith: TGT, added: false });
    expect(inputsOf(ModifyDBClusterSnapshotAttributeCommand)).toEqual([
      { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-source', AttributeName: 'restore', ValuesToAdd: [TGT] },
    ]);
    expect(inputsOf(DescribeDBClusterSnapshotAttributesCommand)).toEqual([
      { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-source' },
      { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-source' },
    ]);
  });

  it('refuses to share a snapshot that is not available yet', async () => {
    const err = await errorOf(shareSnapshot(snapshotState({}, { sourceSnapshot: sourcePoll(false) }), ctx));
    expect(err.message).toContain('"Snapshot the source" must finish before "Share the snapshot"');
    expect(rds.calls()).toHaveLength(0);
  });
});

describe('Copy the snapshot', () => {
  it('copies the shared snapshot by ARN, re-encrypted with target.kmsKeyId and tagged', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand).rejects(fault('DBClusterSnapshotNotFoundFault'));
    rds.on(CopyDBClusterSnapshotCommand).resolves({ DBClusterSnapshot: copySnapshotShape('copying') });
    const out = await copySnapshot(snapshotState({}, { sourceSnapshot: sourcePoll() }), ctx);
    expect(inputsOf(CopyDBClusterSnapshotCommand)).toEqual([
      {
        SourceDBClusterSnapshotIdentifier: SOURCE_SNAPSHOT_ARN,
        TargetDBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-copy',
        KmsKeyId: TARGET_KEY,
        Tags: [{ Key: 'crossmove:migrationId', Value: 'orders-2026-12' }],
      },
    ]);
    // In the target (pipeline) account: no assumed role.
    const client = rds.commandCalls(CopyDBClusterSnapshotCommand)[0]!.thisValue as RDSClient;
    expect((await client.config.credentials()).accessKeyId).not.toBe(ASSUMED_KEY_ID);
    expect(out).toMatchObject({ done: false, status: 'copying', snapshotIdentifier: 'crossmove-orders-2026-12-copy', account: TGT, kmsKeyId: TARGET_KEY, created: true });
  });

  it('sends no KmsKeyId for an unencrypted snapshot (RDS rejects it)', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand).rejects(fault('DBClusterSnapshotNotFoundFault'));
    rds.on(CopyDBClusterSnapshotCommand).resolves({ DBClusterSnapshot: copySnapshotShape('copying', { StorageEncrypted: false, KmsKeyId: undefined }) });
    await copySnapshot(snapshotState({}, { sourceSnapshot: sourcePoll(true, { encrypted: false, kmsKeyId: null }) }), ctx);
    expect(inputsOf(CopyDBClusterSnapshotCommand)[0]).not.toHaveProperty('KmsKeyId');
  });

  it('reuses its own copy and refuses one without its tag', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [copySnapshotShape('copying')] });
    const state = snapshotState({}, { sourceSnapshot: sourcePoll() });
    expect(await copySnapshot(state, ctx)).toMatchObject({ created: false });
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [copySnapshotShape('available', { TagList: [] })] });
    expect((await errorOf(copySnapshot(state, ctx))).name).toBe('ResourceConflictError');
    expect(rds.commandCalls(CopyDBClusterSnapshotCommand)).toHaveLength(0);
  });

  it('explains a snapshot that is not shared and a key that is not usable', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand).rejects(fault('DBClusterSnapshotNotFoundFault'));
    const state = snapshotState({}, { sourceSnapshot: sourcePoll() });
    rds.on(CopyDBClusterSnapshotCommand).rejectsOnce(fault('DBClusterSnapshotNotFoundFault')).rejectsOnce(fault('KMSKeyNotAccessibleFault'));
    const notShared = await errorOf(copySnapshot(state, ctx));
    expect(notShared.name).toBe('ResourceNotFoundError');
    expect(notShared.message).toContain('"Share the snapshot"');
    const key = await errorOf(copySnapshot(state, ctx));
    expect(key.message).toContain('"Let the target use the KMS key"');
    expect(key.message).toContain(TARGET_KEY);
  });
});

describe('Restore the snapshot', () => {
  it('restores the copy with the source engine version, target key, network and tag, as a ClusterPoll', async () => {
    rds.on(DescribeDBClustersCommand).rejects(fault('DBClusterNotFoundFault'));
    rds.on(RestoreDBClusterFromSnapshotCommand).resolves({ DBCluster: targetCluster('creating') });
    const out = await restoreSnapshot(snapshotState({}, { snapshotCopy: copyPoll() }), ctx);
    expect(inputsOf(RestoreDBClusterFromSnapshotCommand)).toEqual([
      {
        DBClusterIdentifier: 'orders-prod-moved',
        SnapshotIdentifier: 'crossmove-orders-2026-12-copy',
        Engine: 'aurora-mysql',
        EngineVersion: '8.0.mysql_aurora.3.05.2',
        KmsKeyId: TARGET_KEY,
        DBClusterParameterGroupName: 'orders-binlog-on',
        VpcSecurityGroupIds: ['sg-0123456789abcdef0'],
        DBSubnetGroupName: 'orders-private',
        Tags: [{ Key: 'crossmove:migrationId', Value: 'orders-2026-12' }],
      },
    ]);
    expect(out).toEqual({
      done: false, attempts: 0, status: 'creating', clusterIdentifier: 'orders-prod-moved',
      clusterArn: `arn:aws:rds:us-east-1:${TGT}:cluster:orders-prod-moved`,
      endpoint: 'orders-prod-moved.cluster-f9e8d7c6b5a4.us-east-1.rds.amazonaws.com', port: 3306, created: true, createdAt: '2026-11-24T08:00:00.000Z',
    });
  });

  it('reuses its restored cluster and refuses a cluster it did not make', async () => {
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [targetCluster('creating')] });
    const state = snapshotState({}, { snapshotCopy: copyPoll() });
    expect(await restoreSnapshot(state, ctx)).toMatchObject({ created: false });
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [targetCluster('available', { TagList: [] })] });
    expect((await errorOf(restoreSnapshot(state, ctx))).name).toBe('ResourceConflictError');
    expect(rds.commandCalls(RestoreDBClusterFromSnapshotCommand)).toHaveLength(0);
  });

  it('waits for the copy before restoring', async () => {
    rds.on(DescribeDBClustersCommand).rejects(fault('DBClusterNotFoundFault'));
    const err = await errorOf(restoreSnapshot(snapshotState({}, { snapshotCopy: copyPoll(false) }), ctx));
    expect(err.message).toContain('"Copy the snapshot" must finish before "Restore the snapshot"');
  });
});

describe("Read the clone's binlog position after a snapshot restore", () => {
  const restoredState = () =>
    snapshotState({}, {
      clone: { done: true, attempts: 3, status: 'available', clusterIdentifier: 'orders-prod-moved', createdAt: '2026-11-24T08:00:00.000Z' },
      writer: { done: true, attempts: 5, status: 'available', instanceIdentifier: 'orders-prod-moved-writer', createdAt: '2026-11-24T08:20:00.000Z' },
    });

  it('reads the writer events first, marked snapshot-events', async () => {
    rds.on(DescribeEventsCommand, { SourceType: 'db-instance' }).resolves({ Events: [{ SourceIdentifier: 'orders-prod-moved-writer', SourceType: 'db-instance', Message: 'Binlog position from crash recovery is mysql-bin-changelog.000004 1542', Date: new Date('2026-11-24T08:25:00Z') }] });
    expect(await readBinlogPosition(restoredState(), ctx)).toEqual({ done: true, attempts: 1, status: 'found', position: { file: 'mysql-bin-changelog.000004', position: 1542 }, origin: 'snapshot-events' });
    expect(rds.commandCalls(DescribeEventsCommand).map((c) => c.args[0].input.SourceType)).toEqual(['db-instance']);
  });

  it('falls back to the restored cluster events', async () => {
    rds.on(DescribeEventsCommand, { SourceType: 'db-instance' }).resolves({ Events: [] });
    rds.on(DescribeEventsCommand, { SourceType: 'db-cluster' }).resolves({ Events: [{ SourceIdentifier: 'orders-prod-moved', SourceType: 'db-cluster', Message: 'Binlog position from crash recovery is mysql-bin-changelog.000004 1542', Date: new Date('2026-11-24T08:10:00Z') }] });
    const out = await readBinlogPosition(restoredState(), ctx);
    expect(out).toMatchObject({ done: true, position: { file: 'mysql-bin-changelog.000004', position: 1542 }, origin: 'snapshot-events' });
    expect(rds.commandCalls(DescribeEventsCommand).map((c) => c.args[0].input)).toEqual([
      { SourceIdentifier: 'orders-prod-moved-writer', SourceType: 'db-instance', StartTime: new Date('2026-11-24T07:00:00Z'), Marker: undefined },
      { SourceIdentifier: 'orders-prod-moved', SourceType: 'db-cluster', StartTime: new Date('2026-11-24T07:00:00Z'), Marker: undefined },
    ]);
  });

  it('keeps polling (done false) while neither has the event', async () => {
    rds.on(DescribeEventsCommand).resolves({ Events: [] });
    expect(await readBinlogPosition(restoredState(), ctx)).toEqual({ done: false, attempts: 1, status: 'waiting-for-event', origin: 'snapshot-events' });
  });
});

describe('preflight for the snapshot path', () => {
  // Runs in "Run preflight checks", before "Keep binlogs long enough" changes anything.

  it('fails for aws/rds across accounts with the typed error and the fix, read-only', async () => {
    keyIs('AWS');
    const state = snapshotState();
    const checks = await snapshotPathChecks(state.input, state.accounts, SOURCE_KEY);
    expect(checks).toEqual([
      expect.objectContaining({ id: 'snapshot-path', status: 'fail', error: 'DefaultKmsKeyError', fix: expect.stringContaining('customer managed key') }),
    ]);
    expect(kms.commandCalls(DescribeKeyCommand).map((c) => c.args[0].input)).toEqual([{ KeyId: SOURCE_KEY }]);
    expect(rds.calls()).toHaveLength(0);
  });

  it('fails without target.kmsKeyId for an encrypted cross-account copy, passes with it, is silent for other methods', async () => {
    keyIs('CUSTOMER');
    const noKey = snapshotState({ target: { kmsKeyId: undefined } });
    expect((await snapshotPathChecks(noKey.input, noKey.accounts, SOURCE_KEY))[0]).toMatchObject({ status: 'fail', fix: expect.stringContaining('set target.kmsKeyId') });
    const ok = snapshotState();
    expect((await snapshotPathChecks(ok.input, ok.accounts, SOURCE_KEY))[0]).toMatchObject({ status: 'pass', message: expect.stringContaining(`account ${SRC} -> ${TGT}, region us-east-1`) });
    const clone = crossAccountState();
    expect(await snapshotPathChecks(clone.input, clone.accounts, SOURCE_KEY)).toEqual([]);
  });
});
