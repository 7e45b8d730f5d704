// The snapshot path's AWS calls for real against a moto server.
// - Same account, cross region (us-east-1 -> eu-west-1): snapshot, copy into the target region with the
//   target key (the SDK adds the PreSignedUrl), restore, then the clone path's writer steps unchanged.
// - Cross account, same region: snapshot in the source account (assumed role), share it (restore
//   attribute), the target account sees it as shared, the key policy lets the target use the key.
// moto gaps (so covered with aws-sdk-client-mock in test/unit/aws-snapshot*.test.ts): snapshots are
// `available` at once (no creating/copying states), a snapshot shared from another account cannot be
// copied (moto looks the ARN up in the caller's own account), DescribeEvents never carries the binlog
// position, and DescribeKey of aws/rds reports a CUSTOMER key.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DescribeDBClusterSnapshotsCommand, DescribeDBClustersCommand, RDSClient } from '@aws-sdk/client-rds';
import { CreateKeyCommand, GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms';
import { localLambdaContext } from '../../shared/handler.js';
import type { MigrationState } from '../../shared/state.js';
import { targetRdsClient } from '../../shared/aws/rds.js';
import { handler as validateInput } from '../../handlers/validate-input.js';
import { handler as runPreflight } from '../../handlers/run-preflight.js';
import { handler as snapshotSource } from '../../handlers/snapshot-source.js';
import { handler as checkSourceSnapshot } from '../../handlers/check-source-snapshot.js';
import { handler as shareSnapshot } from '../../handlers/share-snapshot.js';
import { handler as grantKeyAccess } from '../../handlers/grant-key-access.js';
import { handler as copySnapshot } from '../../handlers/copy-snapshot.js';
import { handler as checkSnapshotCopy } from '../../handlers/check-snapshot-copy.js';
import { handler as restoreSnapshot } from '../../handlers/restore-snapshot.js';
import { handler as checkClone } from '../../handlers/check-clone.js';
import { handler as createWriter } from '../../handlers/create-writer.js';
import { handler as checkWriter } from '../../handlers/check-writer.js';
import { handler as readBinlogPosition } from '../../handlers/read-binlog-position.js';
import { handler as cleanupAws } from '../../handlers/cleanup-aws.js';
import { startMoto, type Moto } from '../support/moto.js';
import { createSecret, createSourceCluster, credentialsFor, REGION, SOURCE_ACCOUNT, TARGET_ACCOUNT, type SourceFixture, auroraWriteBlock } from './fixtures.js';

const ctx = localLambdaContext('test');
const call = <T>(h: (e: any, c: any) => Promise<T>, event: unknown) => h(event, ctx);
const errorOf = (p: Promise<unknown>) => p.then(() => { throw new Error('expected the step to fail'); }, (e: Error) => e);
const TARGET_REGION = 'eu-west-1';

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

describe('snapshot path, same account, into another region (moto)', () => {
  let source: SourceFixture;
  let targetKey: string;
  let state: MigrationState;

  beforeEach(async () => {
    await moto.reset();
    source = await createSourceCluster({ region: REGION }, { name: 'orders-prod' });
    // In the pipeline's region: shared/secrets.ts reads an ARN with a client of the Lambda's region.
    const targetSecret = await createSecret({ region: REGION }, 'orders-target-admin');
    targetKey = (await new KMSClient({ region: TARGET_REGION }).send(new CreateKeyCommand({ Description: 'target key' }))).KeyMetadata!.Arn!;
    state = await call(validateInput, {
      migrationId: 'orders-1',
      source: { clusterArn: source.clusterArn, adminSecret: source.adminSecretArn },
      target: { adminSecret: targetSecret, region: TARGET_REGION, kmsKeyId: targetKey, instanceClass: 'db.r6g.large' },
      initialLoad: { method: 'snapshot' },
      cutover: auroraWriteBlock(source),
    });
    state.preflight = await call(runPreflight, state);
  });

  it('snapshots, copies with the target key into the target region, restores, adds the writer; nothing twice', async () => {
    expect(state.accounts).toEqual({ source: TARGET_ACCOUNT, target: TARGET_ACCOUNT, sameAccount: true, sourceRegion: REGION, targetRegion: TARGET_REGION });
    expect(state.preflight!.ok).toBe(true);
    expect(state.preflight!.checks.find((c) => c.id === 'snapshot-path')).toMatchObject({ status: 'pass', message: expect.stringContaining('us-east-1 -> eu-west-1') });
    const sourceRds = new RDSClient({ region: REGION });
    const targetRds = new RDSClient({ region: TARGET_REGION });

    state.sourceSnapshot = await call(snapshotSource, state);
    expect(state.sourceSnapshot).toMatchObject({
      snapshotIdentifier: 'crossmove-orders-1-source', created: true, attempts: 0, account: TARGET_ACCOUNT, region: REGION, encrypted: true, kmsKeyId: source.keyArn,
    });
    expect((await call(snapshotSource, state)).created).toBe(false);
    const sourceSnaps = (await sourceRds.send(new DescribeDBClusterSnapshotsCommand({ SnapshotType: 'manual' }))).DBClusterSnapshots!;
    expect(sourceSnaps.map((s) => [s.DBClusterSnapshotIdentifier, s.DBClusterIdentifier])).toEqual([['crossmove-orders-1-source', 'orders-prod']]);

    state.sourceSnapshot = await call(checkSourceSnapshot, state);
    expect(state.sourceSnapshot).toMatchObject({ done: true, attempts: 1, status: 'available', created: true });
    expect(await call(shareSnapshot, state)).toEqual({ snapshotArn: state.sourceSnapshot!.snapshotArn, sharedWith: null, added: false, skipped: true });

    // Record what the copy really sends: across regions the SDK must add a PreSignedUrl for the source region.
    const sent: string[] = [];
    targetRdsClient(state.input).middlewareStack.add(
      (next) => async (args) => {
        const body = (args.request as { body?: unknown }).body;
        if (typeof body === 'string' && body.includes('Action=CopyDBClusterSnapshot')) sent.push(body);
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordCopyRequest' },
    );
    try {
      state.snapshotCopy = await call(copySnapshot, state);
    } finally {
      targetRdsClient(state.input).middlewareStack.remove('recordCopyRequest');
    }
    expect(sent).toHaveLength(1);
    const params = new URLSearchParams(sent[0]);
    expect(params.get('SourceDBClusterSnapshotIdentifier')).toBe(state.sourceSnapshot!.snapshotArn);
    expect(params.get('KmsKeyId')).toBe(targetKey);
    expect(params.get('PreSignedUrl')).toMatch(/^https:\/\/rds\.us-east-1\.amazonaws\.com(:\d+)?\/\?.*Action=CopyDBClusterSnapshot.*DestinationRegion=eu-west-1.*X-Amz-Signature=/);

    expect(state.snapshotCopy).toMatchObject({ snapshotIdentifier: 'crossmove-orders-1-copy', created: true, region: TARGET_REGION, kmsKeyId: targetKey });
    expect((await call(copySnapshot, state)).created).toBe(false);
    const copies = (await targetRds.send(new DescribeDBClusterSnapshotsCommand({ SnapshotType: 'manual' }))).DBClusterSnapshots!;
    expect(copies.map((s) => s.DBClusterSnapshotIdentifier)).toEqual(['crossmove-orders-1-copy']);
    expect(copies[0]!.TagList).toContainEqual({ Key: 'crossmove:migrationId', Value: 'orders-1' });
    state.snapshotCopy = await call(checkSnapshotCopy, state);
    expect(state.snapshotCopy).toMatchObject({ done: true, attempts: 1 });

    state.clone = await call(restoreSnapshot, state);
    expect(state.clone).toMatchObject({ clusterIdentifier: 'crossmove-orders-1', created: true, attempts: 0 });
    expect((await call(restoreSnapshot, state)).created).toBe(false);
    const restored = (await targetRds.send(new DescribeDBClustersCommand({}))).DBClusters!;
    expect(restored.map((c) => c.DBClusterIdentifier)).toEqual(['crossmove-orders-1']);
    expect(restored[0]).toMatchObject({ Engine: 'aurora-mysql', EngineVersion: '8.0.mysql_aurora.3.05.2', KmsKeyId: targetKey });
    expect(restored[0]!.TagList).toContainEqual({ Key: 'crossmove:migrationId', Value: 'orders-1' });

    // From here the clone path's steps run unchanged on the restored cluster.
    state.clone = await call(checkClone, state);
    expect(state.clone).toMatchObject({ done: true, attempts: 1, status: 'available', endpoint: restored[0]!.Endpoint, created: true });
    state.writer = await call(createWriter, state);
    expect(state.writer).toMatchObject({ instanceIdentifier: 'crossmove-orders-1-writer', created: true });
    state.writer = await call(checkWriter, state);
    expect(state.writer.done).toBe(true);
    state.binlogPosition = await call(readBinlogPosition, state);
    expect(state.binlogPosition).toEqual({ done: false, attempts: 1, status: 'waiting-for-event', origin: 'snapshot-events' });
    expect(JSON.stringify(state)).not.toMatch(/source-admin-pw-123|target-admin-pw-456|fixture-master-pw/);
  });

  it('refuses a source snapshot name already taken by another cluster', async () => {
    const sourceRds = new RDSClient({ region: REGION });
    await createSourceCluster({ region: REGION }, { name: 'other-db', binlogFormat: null, encrypted: false });
    const { CreateDBClusterSnapshotCommand } = await import('@aws-sdk/client-rds');
    await sourceRds.send(new CreateDBClusterSnapshotCommand({ DBClusterIdentifier: 'other-db', DBClusterSnapshotIdentifier: 'crossmove-orders-1-source' }));
    const err = await errorOf(call(snapshotSource, state));
    expect(err.name).toBe('ResourceConflictError');
    expect(err.message).toContain('belongs to cluster other-db');
  });

  it('fails before creating anything when the copy would need target.kmsKeyId', async () => {
    const { kmsKeyId: _k, ...target } = state.input.target;
    const noKey = { ...state, input: { ...state.input, target } };
    const err = await errorOf(call(snapshotSource, noKey));
    expect(err.name).toBe('PreflightFailedError');
    expect(err.message).toContain('target.kmsKeyId is required');
    const snaps = (await new RDSClient({ region: REGION }).send(new DescribeDBClusterSnapshotsCommand({ SnapshotType: 'manual' }))).DBClusterSnapshots!;
    expect(snaps).toEqual([]);
  });
});

describe('snapshot path, across accounts (moto)', () => {
  let source: SourceFixture;
  let state: MigrationState;
  let inSource: { region: string; credentials: Awaited<ReturnType<typeof credentialsFor>> };

  beforeEach(async () => {
    await moto.reset();
    inSource = { region: REGION, credentials: await credentialsFor(SOURCE_ACCOUNT) };
    source = await createSourceCluster(inSource, { name: 'orders-prod' });
    const targetSecret = await createSecret({ region: REGION }, 'orders-target-admin');
    const targetKey = (await new KMSClient({ region: REGION }).send(new CreateKeyCommand({ Description: 'target key' }))).KeyMetadata!.Arn!;
    state = await call(validateInput, {
      migrationId: 'orders-2026-12',
      source: { clusterArn: source.clusterArn, adminSecret: source.adminSecretArn, accessRoleArn: `arn:aws:iam::${SOURCE_ACCOUNT}:role/crossmove-source-access`, externalId: 'orders-2026-12-3f9c' },
      target: { adminSecret: targetSecret, kmsKeyId: targetKey },
      initialLoad: { method: 'snapshot' },
      cutover: auroraWriteBlock(source),
    });
    state.preflight = await call(runPreflight, state);
  });

  it('snapshots in the source account, shares it once with the target account, lets the target use the key', async () => {
    state.sourceSnapshot = await call(snapshotSource, state);
    expect(state.sourceSnapshot).toMatchObject({ account: SOURCE_ACCOUNT, created: true, encrypted: true });
    state.sourceSnapshot = await call(checkSourceSnapshot, state);
    // The pipeline's own account has no snapshot of its own.
    const own = await new RDSClient({ region: REGION }).send(new DescribeDBClusterSnapshotsCommand({ SnapshotType: 'manual' }));
    expect(own.DBClusterSnapshots ?? []).toEqual([]);

    state.snapshotShare = await call(shareSnapshot, state);
    expect(state.snapshotShare).toEqual({ snapshotArn: state.sourceSnapshot!.snapshotArn, sharedWith: TARGET_ACCOUNT, added: true });
    expect(await call(shareSnapshot, state)).toEqual({ snapshotArn: state.sourceSnapshot!.snapshotArn, sharedWith: TARGET_ACCOUNT, added: false });
    // The target account now sees it among the snapshots shared with it.
    const shared = await new RDSClient({ region: REGION }).send(new DescribeDBClusterSnapshotsCommand({ SnapshotType: 'shared' }));
    expect(shared.DBClusterSnapshots!.map((s) => s.DBClusterSnapshotArn)).toEqual([state.sourceSnapshot!.snapshotArn]);

    state.keyAccess = await call(grantKeyAccess, state);
    expect(state.keyAccess).toMatchObject({ keyArn: source.keyArn, added: true });
    const policy = JSON.parse((await new KMSClient(inSource).send(new GetKeyPolicyCommand({ KeyId: source.keyArn!, PolicyName: 'default' }))).Policy!);
    expect(policy.Statement.map((s: { Sid?: string }) => s.Sid)).toContain('CrossmoveTargetAccessorders202612');
  });
});

// moto leaves SourceDBClusterSnapshotArn out of a copy's description: the shareable copy is then
// recognised by its name and the source cluster (shared/aws/snapshot-source.ts isShareableCopyOf).
describe('snapshot path, across accounts into another region, through a shareable copy (moto)', () => {
  const OTHER = 'eu-west-1';

  it('copies the snapshot in the source account into the target region with source.snapshotKmsKeyId, shares that copy and opens its key; the preflight checks the key; cleanup removes the copy', async () => {
    await moto.reset();
    const inSource = { region: REGION, credentials: await credentialsFor(SOURCE_ACCOUNT) };
    const source = await createSourceCluster(inSource, { name: 'orders-prod' });
    const snapshotKey = (await new KMSClient({ ...inSource, region: OTHER }).send(new CreateKeyCommand({ Description: 'shareable copy key' }))).KeyMetadata!.Arn!;
    const targetKey = (await new KMSClient({ region: OTHER }).send(new CreateKeyCommand({ Description: 'target key' }))).KeyMetadata!.Arn!;
    const raw = {
      migrationId: 'orders-2026-12',
      source: { clusterArn: source.clusterArn, adminSecret: source.adminSecretArn, accessRoleArn: `arn:aws:iam::${SOURCE_ACCOUNT}:role/crossmove-source-access`, externalId: 'orders-2026-12-3f9c', snapshotKmsKeyId: snapshotKey },
      target: { adminSecret: await createSecret({ region: REGION }, 'orders-target-admin'), kmsKeyId: targetKey, region: OTHER },
      initialLoad: { method: 'snapshot' },
      cutover: auroraWriteBlock(source),
    };
    const state: MigrationState = await call(validateInput, raw);
    state.preflight = await call(runPreflight, state);
    expect(state.preflight.checks.find((c) => c.id === 'snapshot-path')).toMatchObject({
      status: 'pass',
      message: expect.stringContaining(`through a copy in the source account in ${OTHER} re-encrypted with source.snapshotKmsKeyId`),
    });

    // A key of the wrong region, or of the target account, is refused before anything is made.
    const wrongRegion = await call(validateInput, { ...raw, source: { ...raw.source, snapshotKmsKeyId: source.keyArn } });
    const refused = await call(runPreflight, wrongRegion).then(() => null, (e: Error) => e);
    expect(refused?.message).toContain(`[snapshot-path] source.snapshotKmsKeyId ${source.keyArn} is in account ${SOURCE_ACCOUNT}, region ${REGION}; the shareable copy is made in account ${SOURCE_ACCOUNT}, region ${OTHER}.`);

    state.sourceSnapshot = await call(snapshotSource, state);
    for (let i = 0; i < 5 && (!state.sourceSnapshot!.done || state.sourceSnapshot!.stage !== 'shareable-copy'); i++) state.sourceSnapshot = await call(checkSourceSnapshot, state);
    expect(state.sourceSnapshot).toMatchObject({ account: SOURCE_ACCOUNT, region: OTHER, snapshotIdentifier: 'crossmove-orders-2026-12-shareable', kmsKeyId: snapshotKey, encrypted: true });
    // Really there: in the source account, in the target region, encrypted with the snapshot key.
    const inSourceOther = new RDSClient({ ...inSource, region: OTHER });
    const [copy] = (await inSourceOther.send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-shareable' }))).DBClusterSnapshots!;
    expect(copy).toMatchObject({ KmsKeyId: snapshotKey, StorageEncrypted: true });

    state.snapshotShare = await call(shareSnapshot, state);
    expect(state.snapshotShare).toEqual({ snapshotArn: copy!.DBClusterSnapshotArn, sharedWith: TARGET_ACCOUNT, added: true });
    const shared = await new RDSClient({ region: OTHER }).send(new DescribeDBClusterSnapshotsCommand({ SnapshotType: 'shared' }));
    expect(shared.DBClusterSnapshots!.map((s) => s.DBClusterSnapshotArn)).toEqual([copy!.DBClusterSnapshotArn]);

    state.keyAccess = await call(grantKeyAccess, state);
    expect(state.keyAccess).toMatchObject({ keyArn: snapshotKey, added: true });
    const policy = JSON.parse((await new KMSClient({ ...inSource, region: OTHER }).send(new GetKeyPolicyCommand({ KeyId: snapshotKey, PolicyName: 'default' }))).Policy!);
    expect(policy.Statement.map((s: { Sid?: string }) => s.Sid)).toContain('CrossmoveTargetAccessorders202612');

    // Cleanup: the shareable copy and the source snapshot go, the snapshot key's statement too.
    const report = await call(cleanupAws, { ...state, cutover: undefined });
    expect(report.items.filter((i: { kind: string }) => ['source-shareable-copy', 'source-snapshot', 'kms-key-statement'].includes(i.kind)).map((i: { kind: string; outcome: string }) => [i.kind, i.outcome])).toEqual([
      ['kms-key-statement', 'removed'],
      ['source-shareable-copy', 'removed'],
      ['source-snapshot', 'removed'],
    ]);
    expect((await inSourceOther.send(new DescribeDBClusterSnapshotsCommand({ SnapshotType: 'manual' }))).DBClusterSnapshots ?? []).toEqual([]);
  });
});
