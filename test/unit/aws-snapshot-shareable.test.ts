// The snapshot path across accounts through a shareable copy (snapshot-plan.ts needsShareableCopy): the
// source snapshot is copied in the SOURCE account into the target region, re-encrypted with
// source.snapshotKmsKeyId, and that copy is what is shared, opened to the target by its key, and copied
// by the target. Exact parameters, accounts (credentials) and regions of every call, against responses
// shaped like the RDS and KMS API references.
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CopyDBClusterSnapshotCommand, CreateDBClusterSnapshotCommand, DescribeDBClusterSnapshotAttributesCommand, DescribeDBClusterSnapshotsCommand,
  ModifyDBClusterSnapshotAttributeCommand, RDSClient, type DBClusterSnapshot,
} from '@aws-sdk/client-rds';
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { localLambdaContext } from '../../shared/handler.js';
import type { MigrationState, SnapshotPoll } from '../../shared/state.js';
import { handler as snapshotSource } from '../../handlers/snapshot-source.js';
import { handler as checkSourceSnapshot } from '../../handlers/check-source-snapshot.js';
import { handler as shareSnapshot } from '../../handlers/share-snapshot.js';
import { handler as grantKeyAccess } from '../../handlers/grant-key-access.js';
import { handler as copySnapshot } from '../../handlers/copy-snapshot.js';
import { ASSUMED_KEY_ID, REGION, SOURCE_KEY, SRC, TGT, assumeRoleResponse, crossAccountState, crossAccounts, resetCaches } from '../aws/mock-fixtures.js';

const rds = mockClient(RDSClient);
const kms = mockClient(KMSClient);
const sts = mockClient(STSClient);
const ctx = localLambdaContext('test');
const errorOf = (p: Promise<unknown>) => p.then(() => { throw new Error('expected the step to fail'); }, (e: Error) => e);
const fault = (name: string) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: 404 } });

const TARGET_REGION = 'eu-west-1';
const SNAPSHOT_KEY = `arn:aws:kms:${TARGET_REGION}:${SRC}:key/5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b`;
const TARGET_KEY = `arn:aws:kms:${TARGET_REGION}:${TGT}:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0`;
const SOURCE_SNAPSHOT_ARN = `arn:aws:rds:${REGION}:${SRC}:cluster-snapshot:crossmove-orders-2026-12-source`;
const SHAREABLE_ARN = `arn:aws:rds:${TARGET_REGION}:${SRC}:cluster-snapshot:crossmove-orders-2026-12-shareable`;
const OURS = [{ Key: 'crossmove:migrationId', Value: 'orders-2026-12' }];

const snap = (id: string, arn: string, status: string, overrides: Partial<DBClusterSnapshot> = {}): DBClusterSnapshot => ({
  DBClusterSnapshotIdentifier: id, DBClusterSnapshotArn: arn, DBClusterIdentifier: 'orders-prod', Engine: 'aurora-mysql', EngineVersion: '8.0.mysql_aurora.3.05.2',
  Status: status, StorageEncrypted: true, KmsKeyId: SOURCE_KEY, SnapshotType: 'manual', TagList: [], ...overrides,
});
const sourceSnap = (status: string) => snap('crossmove-orders-2026-12-source', SOURCE_SNAPSHOT_ARN, status);
const shareable = (status: string, overrides: Partial<DBClusterSnapshot> = {}) =>
  snap('crossmove-orders-2026-12-shareable', SHAREABLE_ARN, status, { KmsKeyId: SNAPSHOT_KEY, SourceDBClusterSnapshotArn: SOURCE_SNAPSHOT_ARN, ...overrides });

/** Cross-account into another region, the cluster encrypted with a customer key. */
const state = (extra: Partial<MigrationState> = {}, overrides: Record<string, any> = {}): MigrationState => ({
  ...crossAccountState({ initialLoad: { method: 'snapshot' }, source: { snapshotKmsKeyId: SNAPSHOT_KEY }, target: { kmsKeyId: TARGET_KEY, region: TARGET_REGION }, ...overrides }),
  accounts: { ...crossAccounts, targetRegion: TARGET_REGION },
  preflight: { ok: true, checks: [], sourceCluster: { engineVersion: '8.0.mysql_aurora.3.05.2', kmsKeyArn: SOURCE_KEY, parameterGroup: 'orders-binlog', instanceCount: 1 } },
  ...extra,
});
/** Region and access key of the client that sent a call. */
async function where(call: { thisValue: unknown }): Promise<[string, string]> {
  const c = call.thisValue as RDSClient | KMSClient;
  return [await c.config.region(), (await c.config.credentials()).accessKeyId];
}

beforeEach(() => {
  rds.reset();
  kms.reset();
  sts.reset();
  resetCaches();
  sts.on(AssumeRoleCommand).resolves(assumeRoleResponse());
  kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', Arn: SOURCE_KEY, KeyManager: 'CUSTOMER', KeyState: 'Enabled' } });
});

describe('snapshot path through a shareable copy in the source account', () => {
  it('snapshots the source, then copies it into the target region with source.snapshotKmsKeyId, and polls that copy', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-source' }).rejectsOnce(fault('DBClusterSnapshotNotFoundFault')).resolves({ DBClusterSnapshots: [sourceSnap('available')] });
    rds.on(CreateDBClusterSnapshotCommand).resolves({ DBClusterSnapshot: sourceSnap('creating') });
    const first = await snapshotSource(state(), ctx);
    expect(first).toMatchObject({ done: false, stage: 'source', viaShareableCopy: true, snapshotIdentifier: 'crossmove-orders-2026-12-source' });

    rds.on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-shareable' }).rejectsOnce(fault('DBClusterSnapshotNotFoundFault')).resolves({ DBClusterSnapshots: [shareable('copying')] });
    rds.on(CopyDBClusterSnapshotCommand).resolves({ DBClusterSnapshot: shareable('creating') });
    const second = await checkSourceSnapshot(state({ sourceSnapshot: first }), ctx);
    expect(second).toMatchObject({ done: false, stage: 'shareable-copy', snapshotArn: SHAREABLE_ARN, region: TARGET_REGION, account: SRC, kmsKeyId: SNAPSHOT_KEY, attempts: 1 });
    const copy = rds.commandCalls(CopyDBClusterSnapshotCommand);
    expect(copy.map((c) => c.args[0].input)).toEqual([
      // Untagged: tag-on-create would need rds:AddTagsToResource in the source role.
      { SourceDBClusterSnapshotIdentifier: SOURCE_SNAPSHOT_ARN, TargetDBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-shareable', KmsKeyId: SNAPSHOT_KEY },
    ]);
    // In the source account (assumed role), in the target region.
    expect(await where(copy[0]!)).toEqual([TARGET_REGION, ASSUMED_KEY_ID]);

    rds.on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-shareable' }).resolves({ DBClusterSnapshots: [shareable('available')] });
    const third = await checkSourceSnapshot(state({ sourceSnapshot: second }), ctx);
    expect(third).toMatchObject({ done: true, stage: 'shareable-copy', snapshotArn: SHAREABLE_ARN, attempts: 2 });
    expect(rds.commandCalls(CopyDBClusterSnapshotCommand)).toHaveLength(1);
  });

  it('shares the shareable copy (its region), opens its key to the target, and the target copies it in that region with target.kmsKeyId', async () => {
    const polled = { done: true, attempts: 4, status: 'available', snapshotIdentifier: 'crossmove-orders-2026-12-shareable', snapshotArn: SHAREABLE_ARN, account: SRC, region: TARGET_REGION, encrypted: true, kmsKeyId: SNAPSHOT_KEY, viaShareableCopy: true, stage: 'shareable-copy' as const } satisfies SnapshotPoll;
    rds.on(DescribeDBClusterSnapshotAttributesCommand).resolves({ DBClusterSnapshotAttributesResult: { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-shareable', DBClusterSnapshotAttributes: [{ AttributeName: 'restore', AttributeValues: [] }] } });
    rds.on(ModifyDBClusterSnapshotAttributeCommand).resolves({});
    await shareSnapshot(state({ sourceSnapshot: polled }), ctx);
    const modify = rds.commandCalls(ModifyDBClusterSnapshotAttributeCommand);
    expect(modify.map((c) => c.args[0].input)).toEqual([{ DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-shareable', AttributeName: 'restore', ValuesToAdd: [TGT] }]);
    expect(await where(modify[0]!)).toEqual([TARGET_REGION, ASSUMED_KEY_ID]);

    kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify({ Version: '2012-10-17', Statement: [] }), PolicyName: 'default' });
    kms.on(PutKeyPolicyCommand).resolves({});
    const access = await grantKeyAccess(state({ sourceSnapshot: polled }), ctx);
    expect(access).toMatchObject({ keyArn: SNAPSHOT_KEY, added: true });
    const put = kms.commandCalls(PutKeyPolicyCommand);
    expect(put.map((c) => c.args[0].input.KeyId)).toEqual([SNAPSHOT_KEY]);
    expect(await where(put[0]!)).toEqual([TARGET_REGION, ASSUMED_KEY_ID]);

    rds.on(DescribeDBClusterSnapshotsCommand).rejects(fault('DBClusterSnapshotNotFoundFault'));
    rds.on(CopyDBClusterSnapshotCommand).resolves({ DBClusterSnapshot: snap('crossmove-orders-2026-12-copy', `arn:aws:rds:${TARGET_REGION}:${TGT}:cluster-snapshot:crossmove-orders-2026-12-copy`, 'creating', { KmsKeyId: TARGET_KEY, TagList: OURS }) });
    await copySnapshot(state({ sourceSnapshot: polled }), ctx);
    const copy = rds.commandCalls(CopyDBClusterSnapshotCommand);
    expect(copy.map((c) => c.args[0].input)).toEqual([
      { SourceDBClusterSnapshotIdentifier: SHAREABLE_ARN, TargetDBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-copy', KmsKeyId: TARGET_KEY, Tags: OURS },
    ]);
    expect(await where(copy[0]!)).toEqual([TARGET_REGION, 'testing']);
  });

  it('an aws/rds-encrypted source in the same region goes through a shareable copy too', async () => {
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'aws/rds', Arn: SOURCE_KEY, KeyManager: 'AWS', KeyState: 'Enabled' } });
    const sameRegionKey = `arn:aws:kms:${REGION}:${SRC}:key/6f7a8b9c-0d1e-4f2a-9b3c-4d5e6f7a8b9c`;
    const sameRegion = { ...state({}, { source: { snapshotKmsKeyId: sameRegionKey }, target: { kmsKeyId: `arn:aws:kms:${REGION}:${TGT}:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0`, region: REGION } }), accounts: crossAccounts };
    rds.on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-source' }).resolves({ DBClusterSnapshots: [sourceSnap('available')] });
    rds.on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-shareable' }).rejects(fault('DBClusterSnapshotNotFoundFault'));
    rds.on(CopyDBClusterSnapshotCommand).resolves({ DBClusterSnapshot: shareable('creating', { DBClusterSnapshotArn: SHAREABLE_ARN.replace(TARGET_REGION, REGION), KmsKeyId: sameRegionKey }) });
    // The source snapshot exists and is available already: straight on to the shareable copy.
    const out = await snapshotSource(sameRegion, ctx);
    expect(out).toMatchObject({ stage: 'shareable-copy', done: false, kmsKeyId: sameRegionKey });
    expect(rds.commandCalls(CopyDBClusterSnapshotCommand).map((c) => c.args[0].input.KmsKeyId)).toEqual([sameRegionKey]);
    expect(await where(rds.commandCalls(CopyDBClusterSnapshotCommand)[0]!)).toEqual([REGION, ASSUMED_KEY_ID]);
  });

  it('an unencrypted source into another region goes through an unencrypted shareable copy (no key asked for)', async () => {
    const plain = { ...state({}, { source: { snapshotKmsKeyId: undefined } }), preflight: { ok: true, checks: [], sourceCluster: { engineVersion: '8.0.mysql_aurora.3.05.2', kmsKeyArn: null, parameterGroup: 'orders-binlog', instanceCount: 1 } } };
    rds.on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-source' }).resolves({ DBClusterSnapshots: [{ ...sourceSnap('available'), StorageEncrypted: false, KmsKeyId: undefined }] });
    rds.on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-shareable' }).rejects(fault('DBClusterSnapshotNotFoundFault'));
    rds.on(CopyDBClusterSnapshotCommand).resolves({ DBClusterSnapshot: shareable('creating', { StorageEncrypted: false, KmsKeyId: undefined }) });
    expect(await snapshotSource(plain, ctx)).toMatchObject({ stage: 'shareable-copy', encrypted: false });
    expect(rds.commandCalls(CopyDBClusterSnapshotCommand).map((c) => c.args[0].input)).toEqual([
      { SourceDBClusterSnapshotIdentifier: SOURCE_SNAPSHOT_ARN, TargetDBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-shareable' },
    ]);
    expect(kms.calls()).toHaveLength(0);
  });

  it('reuses its own shareable copy, refuses one it did not make, and names a key it cannot use', async () => {
    const first = { done: true, attempts: 3, status: 'available', snapshotIdentifier: 'crossmove-orders-2026-12-source', snapshotArn: SOURCE_SNAPSHOT_ARN, account: SRC, region: REGION, encrypted: true, kmsKeyId: SOURCE_KEY, viaShareableCopy: true, stage: 'source' as const } satisfies SnapshotPoll;
    rds.on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-source' }).resolves({ DBClusterSnapshots: [sourceSnap('available')] });
    rds.on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-shareable' }).resolves({ DBClusterSnapshots: [shareable('available')] });
    expect(await checkSourceSnapshot(state({ sourceSnapshot: first }), ctx)).toMatchObject({ done: true, stage: 'shareable-copy' });
    expect(rds.commandCalls(CopyDBClusterSnapshotCommand)).toHaveLength(0);

    rds.on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-shareable' }).resolves({
      DBClusterSnapshots: [shareable('available', { SourceDBClusterSnapshotArn: `arn:aws:rds:${REGION}:${SRC}:cluster-snapshot:someone-elses` })],
    });
    const foreign = await errorOf(checkSourceSnapshot(state({ sourceSnapshot: first }), ctx));
    expect(foreign).toMatchObject({ name: 'ResourceConflictError', message: expect.stringContaining(`Snapshot crossmove-orders-2026-12-shareable in account ${SRC} (${TARGET_REGION}) is not crossmove's copy of crossmove-orders-2026-12-source`) });

    rds.on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-shareable' }).rejects(fault('DBClusterSnapshotNotFoundFault'));
    rds.on(CopyDBClusterSnapshotCommand).rejects(Object.assign(new Error('The source KMS key is not accessible'), { name: 'KMSKeyNotAccessibleFault', $metadata: { httpStatusCode: 400 } }));
    const noKey = await errorOf(checkSourceSnapshot(state({ sourceSnapshot: first }), ctx));
    expect(noKey.name).toBe('ResourceNotFoundError');
    expect(noKey.message).toContain(`source.snapshotKmsKeyId (${SNAPSHOT_KEY}) must be an enabled key of account ${SRC} in ${TARGET_REGION}`);
  });
});
