// Cross-account against moto: the source-account steps run with credentials from STS AssumeRole of
// source.accessRoleArn, and moto maps those credentials to the SOURCE account, so every resource they
// find or create is in 111111111111 while the pipeline runs in 123456789012.
// moto gaps, covered with aws-sdk-client-mock in test/unit/aws-share.test.ts and aws-clone.test.ts:
// RAM invitations (GetResourceShareInvitations/AcceptResourceShareInvitation) and AssociateResourceShare
// are not implemented, nothing is visible across accounts (so the cross-account clone itself cannot run
// here), and DescribeKey of alias/aws/rds reports a CUSTOMER key.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DescribeDBClustersCommand, RDSClient } from '@aws-sdk/client-rds';
import { CreateKeyCommand, GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetResourceSharesCommand, RAMClient } from '@aws-sdk/client-ram';
import { localLambdaContext } from '../../shared/handler.js';
import type { MigrationState } from '../../shared/state.js';
import { handler as validateInput } from '../../handlers/validate-input.js';
import { handler as runPreflight } from '../../handlers/run-preflight.js';
import { handler as shareCluster } from '../../handlers/share-cluster.js';
import { handler as grantKeyAccess } from '../../handlers/grant-key-access.js';
import { sourceAdminCredentials } from '../../shared/db-credentials.js';
import { startMoto, type Moto } from '../support/moto.js';
import { createSecret, createSourceCluster, credentialsFor, REGION, SOURCE_ACCOUNT, TARGET_ACCOUNT, type SourceFixture, auroraWriteBlock } from './fixtures.js';

const ctx = localLambdaContext('test');
const call = <T>(h: (e: any, c: any) => Promise<T>, event: unknown) => h(event, ctx);

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

describe('cross-account source steps through the assumed role (moto)', () => {
  let source: SourceFixture;
  let inSource: { region: string; credentials: Awaited<ReturnType<typeof credentialsFor>> };
  let state: MigrationState;
  let targetKeyArn: string;

  beforeEach(async () => {
    await moto.reset();
    inSource = { region: REGION, credentials: await credentialsFor(SOURCE_ACCOUNT) };
    source = await createSourceCluster(inSource, { name: 'orders-prod' });
    const targetSecret = await createSecret({ region: REGION }, 'orders-target-admin');
    // The target account's own key and network: a cross-account clone must not keep the source's.
    targetKeyArn = (await new KMSClient({ region: REGION }).send(new CreateKeyCommand({ Description: 'crossmove target key' }))).KeyMetadata!.Arn!;
    const validated = await call(validateInput, {
      migrationId: 'orders-2026-12',
      source: {
        clusterArn: source.clusterArn,
        adminSecret: source.adminSecretArn,
        accessRoleArn: `arn:aws:iam::${SOURCE_ACCOUNT}:role/crossmove-source-access`,
        externalId: 'orders-2026-12-3f9c',
      },
      target: { adminSecret: targetSecret, kmsKeyId: targetKeyArn, dbSubnetGroupName: 'orders-private', vpcSecurityGroupIds: ['sg-0123456789abcdef0'] },
      initialLoad: { method: 'clone' },
      cutover: auroraWriteBlock(source),
    });
    state = validated;
  });

  it('maps the assumed-role credentials to the source account', async () => {
    expect(source.clusterArn).toBe(`arn:aws:rds:${REGION}:${SOURCE_ACCOUNT}:cluster:orders-prod`);
    expect(state.accounts).toEqual({ source: SOURCE_ACCOUNT, target: TARGET_ACCOUNT, sameAccount: false, sourceRegion: REGION, targetRegion: REGION });
    // The pipeline's own credentials do not see the source cluster ...
    const own = await new RDSClient({ region: REGION }).send(new DescribeDBClustersCommand({})).then((o) => o.DBClusters ?? []);
    expect(own.map((c) => c.DBClusterIdentifier)).not.toContain('orders-prod');
    // ... the preflight (assumed role) does, with its key and parameter group, and reads the source-account secret.
    state.preflight = await call(runPreflight, state);
    expect(state.preflight.sourceCluster).toMatchObject({ kmsKeyArn: source.keyArn, parameterGroup: 'orders-prod-binlog', instanceCount: 1 });
    expect(source.keyArn).toContain(`:${SOURCE_ACCOUNT}:key/`);
    expect((await sourceAdminCredentials(state)).username).toBe('admin');
    expect(state.preflight.checks.find((c) => c.id === 'target-kms-key')).toMatchObject({ status: 'pass', message: `Target key ${targetKeyArn} is enabled.` });
    expect(state.preflight.checks.find((c) => c.id === 'target-network')?.status).toBe('pass');
  });

  it('fails the preflight of an encrypted cross-account clone without target.kmsKeyId, naming the fix', async () => {
    const { kmsKeyId: _key, ...target } = state.input.target;
    const err = await call(runPreflight, { ...state, input: { ...state.input, target } }).then(
      () => { throw new Error('expected the preflight to fail'); },
      (e: Error) => e,
    );
    expect(err.name).toBe('PreflightFailedError');
    expect(err.message).toContain(`would stay encrypted with the source account key ${source.keyArn}`);
    expect(err.message).toContain('Fix: Set target.kmsKeyId');
  });

  it('creates the RAM share in the source account once and reuses it on re-invocation', async () => {
    const first = await call(shareCluster, state);
    const second = await call(shareCluster, state);
    expect(first.created).toBe(true);
    expect(second).toEqual({ resourceShareArn: first.resourceShareArn, created: false });
    expect(first.resourceShareArn).toContain(`:${SOURCE_ACCOUNT}:resource-share/`);
    const shares = await new RAMClient(inSource).send(new GetResourceSharesCommand({ resourceOwner: 'SELF' }));
    expect(shares.resourceShares!.map((s) => s.name)).toEqual(['crossmove-orders-2026-12']);
    const targetSide = await new RAMClient({ region: REGION }).send(new GetResourceSharesCommand({ resourceOwner: 'SELF' }));
    expect(targetSide.resourceShares ?? []).toEqual([]);
  });

  it('adds the target account statement to the source key policy once', async () => {
    state.preflight = await call(runPreflight, state);
    const first = await call(grantKeyAccess, state);
    const second = await call(grantKeyAccess, state);
    expect(first).toEqual({ keyArn: source.keyArn, statementSid: 'CrossmoveTargetAccessorders202612', added: true });
    expect(second.added).toBe(false);
    const policy = JSON.parse((await new KMSClient(inSource).send(new GetKeyPolicyCommand({ KeyId: source.keyArn!, PolicyName: 'default' }))).Policy!);
    const ours = policy.Statement.filter((s: { Sid?: string }) => s.Sid?.startsWith('CrossmoveTargetAccessorders202612'));
    expect(ours.map((s: { Sid: string }) => s.Sid)).toEqual(['CrossmoveTargetAccessorders202612', 'CrossmoveTargetAccessorders202612Grants']);
    for (const s of ours) expect(s.Principal).toEqual({ AWS: `arn:aws:iam::${TARGET_ACCOUNT}:root` });
    expect(ours[0].Action).toContain('kms:Decrypt');
    // Grants only for AWS resources (the documented example's second statement).
    expect(ours[1]).toMatchObject({ Action: expect.arrayContaining(['kms:CreateGrant']), Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } } });
    // The key's original statements are kept.
    expect(policy.Statement.length).toBe(3);
  });
});
