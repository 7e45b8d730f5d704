// "Validate the input" and "Run preflight checks" with aws-sdk-client-mock: exact parameters of every
// call, responses shaped like the AWS API reference, and the bad-input cases of issue 2.
import { beforeEach, describe, expect, it } from 'vitest';
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockSourceSecurityGroup } from '../aws/network-fixtures.js';
import { rdsAccessDenied } from '../aws/rds-access-denied.js';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeDBClusterParametersCommand, DescribeDBClustersCommand, RDSClient } from '@aws-sdk/client-rds';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { localLambdaContext } from '../../shared/handler.js';
import { handler as validateInput } from '../../handlers/validate-input.js';
import { handler as runPreflight } from '../../handlers/run-preflight.js';
import { validateMigrationInput } from '../../shared/input/validate.js';
import {
  ASSUMED_KEY_ID, REGION, ROLE_ARN, SOURCE_ARN, SOURCE_KEY, SOURCE_SECRET, SRC, TGT, TARGET_SECRET,
  assumeRoleResponse, crossAccountState, rawCrossAccountInput, resetCaches, sameAccounts, sourceCluster, targetCluster, mockTargetParameterGroup } from '../aws/mock-fixtures.js';

const rds = mockClient(RDSClient);
const kms = mockClient(KMSClient);
const sts = mockClient(STSClient);
const sm = mockClient(SecretsManagerClient);
// The write block's security group (read-only check of what the block would remove).
const ec2 = mockClient(EC2Client);
const ctx = localLambdaContext('test');
const errorOf = (p: Promise<unknown>) => p.then(() => { throw new Error('expected the step to fail'); }, (e: Error) => e);
const inputsOf = (mock: { commandCalls: (c: any) => any[] }, cmd: unknown) => mock.commandCalls(cmd).map((c) => c.args[0].input);

const customerKey = { KeyMetadata: { AWSAccountId: SRC, KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab', Arn: SOURCE_KEY, KeyManager: 'CUSTOMER', KeyState: 'Enabled', Enabled: true } } as const;
const TARGET_KEY = `arn:aws:kms:us-east-1:${TGT}:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0`;
const awsManagedKey = { KeyMetadata: { ...customerKey.KeyMetadata, KeyManager: 'AWS', Description: 'Default key that protects my RDS database volumes when no other key is defined' } } as const;

function happySource() {
  sts.on(AssumeRoleCommand).resolves(assumeRoleResponse());
  rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: SOURCE_ARN }).resolves({ DBClusters: [sourceCluster()] });
  rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders-prod-moved' }).rejects(Object.assign(new Error('DBCluster orders-prod-moved not found.'), { name: 'DBClusterNotFoundFault' }));
  // Two pages: the parameter is on the second one.
  rds.on(DescribeDBClusterParametersCommand, { DBClusterParameterGroupName: 'orders-binlog', Marker: undefined }).resolves({
    Parameters: [{ ParameterName: 'autocommit', ParameterValue: '1', Source: 'engine-default' }],
    Marker: 'page-2',
  });
  rds.on(DescribeDBClusterParametersCommand, { DBClusterParameterGroupName: 'orders-binlog', Marker: 'page-2' }).resolves({
    Parameters: [{ ParameterName: 'binlog_format', ParameterValue: 'ROW', Source: 'user', ApplyType: 'static', IsModifiable: true }],
  });
  kms.on(DescribeKeyCommand).resolves(customerKey);
  sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'admin', password: 'unit-admin-pw-1' }) });
}

beforeEach(() => {
  rds.reset();
  kms.reset();
  sts.reset();
  sm.reset();
  ec2.reset();
  mockSourceSecurityGroup(ec2);
  mockTargetParameterGroup(rds);
  resetCaches();
});

describe('Validate the input', () => {
  it('derives the accounts: source from the ARN, target from STS GetCallerIdentity', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: TGT, Arn: `arn:aws:sts::${TGT}:assumed-role/crossmove-validateInput/x`, UserId: 'AROAEXAMPLE:x' });
    const out = await validateInput(rawCrossAccountInput(), ctx);
    expect(out.accounts).toEqual({ source: SRC, target: TGT, sameAccount: false, sourceRegion: REGION, targetRegion: REGION });
    expect(out.input.names.targetClusterIdentifier).toBe('orders-prod-moved');
    expect(inputsOf(sts, GetCallerIdentityCommand)).toEqual([{}]);
  });

  it('makes no AWS call for an endpoint-only source', async () => {
    const out = await validateInput(
      { migrationId: 'local-1', source: { endpoint: { host: '127.0.0.1', port: 3306 }, adminSecret: 'env:SRC' }, target: { endpoint: { host: '127.0.0.1', port: 3307 }, adminSecret: 'env:TGT' } },
      ctx,
    );
    expect(out.accounts).toEqual({ source: null, target: null, sameAccount: true, sourceRegion: null, targetRegion: null });
    expect(sts.calls()).toHaveLength(0);
  });

  it('names every malformed field at once (ARNs, migrationId, engine, secret) before any AWS call', async () => {
    const err = await errorOf(
      validateInput(
        {
          migrationId: 'Orders_2026!',
          source: { clusterArn: 'arn:aws:rds:us-east-1:1111:cluster:orders', adminSecret: 'password123', accessRoleArn: 'arn:aws:iam::111111111111:user/bob', engine: 'oracle' },
          target: { adminSecret: TARGET_SECRET },
        },
        ctx,
      ),
    );
    expect(err.name).toBe('InputValidationError');
    for (const field of ['migrationId', 'source.clusterArn', 'source.adminSecret', 'source.accessRoleArn', 'source.engine']) expect(err.message).toContain(`${field}:`);
    expect(sts.calls()).toHaveLength(0);
  });

  it('requires the source role (and its external id) when the source is in another account', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: TGT });
    const err = await errorOf(validateInput(rawCrossAccountInput({ source: { accessRoleArn: undefined, externalId: undefined } }), ctx));
    expect(err.name).toBe('InputValidationError');
    expect(err.message).toContain(`source.accessRoleArn: required: the source cluster is in account ${SRC}, the pipeline runs in ${TGT}`);
    const noExternalId = await errorOf(validateInput(rawCrossAccountInput({ source: { externalId: undefined } }), ctx));
    expect(noExternalId.message).toContain('source.externalId: required with source.accessRoleArn');
    const wrongAccount = await errorOf(validateInput(rawCrossAccountInput({ source: { accessRoleArn: `arn:aws:iam::${TGT}:role/x` } }), ctx));
    expect(wrongAccount.message).toContain(`source.accessRoleArn: must be a role in the source account ${SRC}`);
  });

  it('refuses a cross-region clone and points to the snapshot path', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: TGT });
    const err = await errorOf(validateInput(rawCrossAccountInput({ target: { region: 'eu-west-1' } }), ctx));
    expect(err.message).toContain('initialLoad.method: clone works only within one region (source us-east-1, target eu-west-1); use snapshot');
    expect(inputsOf(sts, GetCallerIdentityCommand)).toHaveLength(1);
  });
});

describe('Run preflight checks', () => {
  it('reads the source through the assumed role with exact parameters and records endpoint and cluster', async () => {
    happySource();
    const result = await runPreflight(crossAccountState(), ctx);
    expect(result.ok).toBe(true);
    expect(result.sourceEndpoint).toEqual({ host: 'orders-prod.cluster-c1a2b3c4d5e6.us-east-1.rds.amazonaws.com', port: 3306 });
    expect(result.sourceCluster).toEqual({ engineVersion: '8.0.mysql_aurora.3.05.2', kmsKeyArn: SOURCE_KEY, parameterGroup: 'orders-binlog', instanceCount: 1 });
    expect(inputsOf(sts, AssumeRoleCommand)).toEqual([
      { RoleArn: ROLE_ARN, RoleSessionName: 'crossmove-orders-2026-12', ExternalId: 'orders-2026-12-3f9c', DurationSeconds: 3600 },
    ]);
    expect(inputsOf(rds, DescribeDBClustersCommand)).toEqual([{ DBClusterIdentifier: SOURCE_ARN }, { DBClusterIdentifier: 'orders-prod-moved' }]);
    expect(inputsOf(rds, DescribeDBClusterParametersCommand)).toEqual([
      { DBClusterParameterGroupName: 'orders-binlog', Marker: undefined },
      { DBClusterParameterGroupName: 'orders-binlog', Marker: 'page-2' },
      // The target's parameter group (binlog_format for reverse replication), with the pipeline's credentials.
      { DBClusterParameterGroupName: 'orders-binlog-on', Marker: undefined },
    ]);
    expect(result.checks.find((c) => c.id === 'target-parameter-group')).toMatchObject({ status: 'pass', message: expect.stringContaining('orders-binlog-on (aurora-mysql8.0) exists with binlog_format ROW') });
    expect(inputsOf(kms, DescribeKeyCommand)).toEqual([{ KeyId: SOURCE_KEY }, { KeyId: TARGET_KEY }]);
    const kmsCreds = await Promise.all(kms.calls().map(async (c) => (await (c.thisValue as KMSClient).config.credentials()).accessKeyId));
    expect(kmsCreds).toEqual([ASSUMED_KEY_ID, 'testing']);
    // A clone needs no target admin secret: crossmove resets the clone's master password into its own.
    expect(inputsOf(sm, GetSecretValueCommand)).toEqual([{ SecretId: SOURCE_SECRET }]);
    expect(result.checks.find((c) => c.id === 'target-admin-secret')).toMatchObject({ status: 'warn', message: expect.stringContaining(`target.adminSecret ${TARGET_SECRET} is not used`) });
    // Source-account calls used the assumed role's credentials; the target-identifier check the pipeline's own.
    const creds = await Promise.all(rds.calls().map(async (c) => (await (c.thisValue as RDSClient).config.credentials()).accessKeyId));
    expect(creds).toEqual([ASSUMED_KEY_ID, ASSUMED_KEY_ID, ASSUMED_KEY_ID, 'testing', 'testing', 'testing']);
    expect(JSON.stringify(result)).not.toContain('unit-admin-pw-1');
  });

  it('refuses an aws/rds-encrypted source for a cross-account clone, pointing to the snapshot path', async () => {
    happySource();
    kms.on(DescribeKeyCommand).resolves(awsManagedKey);
    const err = await errorOf(runPreflight(crossAccountState(), ctx));
    expect(err.name).toBe('DefaultKmsKeyError');
    expect(err.message).toContain('AWS-managed key aws/rds');
    expect(err.message).toContain('initialLoad.method snapshot');
  });

  it('fails a cross-account clone of an encrypted cluster without target.kmsKeyId (the clone would depend on the source key)', async () => {
    happySource();
    const err = await errorOf(runPreflight(crossAccountState({ target: { kmsKeyId: undefined } }), ctx));
    expect(err.name).toBe('PreflightFailedError');
    expect(err.message).toContain('[target-kms-key] target.kmsKeyId is not set');
    expect(err.message).toContain(`stay encrypted with the source account key ${SOURCE_KEY}`);
    expect(err.message).toContain('Fix: Set target.kmsKeyId to an enabled customer managed key in the target account');
  });

  it.each([
    ['dbSubnetGroupName', { dbSubnetGroupName: undefined }, 'target.dbSubnetGroupName is not set'],
    ['vpcSecurityGroupIds', { vpcSecurityGroupIds: undefined }, 'target.vpcSecurityGroupIds is not set'],
    ['both', { dbSubnetGroupName: undefined, vpcSecurityGroupIds: undefined }, 'target.dbSubnetGroupName and target.vpcSecurityGroupIds are not set'],
  ])('fails a cross-account clone without the target network (%s)', async (_label, target, text) => {
    happySource();
    const err = await errorOf(runPreflight(crossAccountState({ target }), ctx));
    expect(err.name).toBe('PreflightFailedError');
    expect(err.message).toContain(`[target-network] ${text}`);
    expect(err.message).toContain(`do not exist in account ${TGT}`);
  });

  it('needs no target network for a same-account clone', async () => {
    happySource();
    const state = crossAccountState({ source: { accessRoleArn: undefined, externalId: undefined, clusterArn: SOURCE_ARN }, target: { dbSubnetGroupName: undefined, vpcSecurityGroupIds: undefined } });
    const result = await runPreflight({ ...state, accounts: sameAccounts }, ctx);
    expect(result.ok).toBe(true);
    expect(result.checks.find((c) => c.id === 'target-network')).toBeUndefined();
  });

  it('accepts an aws/rds-encrypted source in the same account', async () => {
    happySource();
    kms.on(DescribeKeyCommand).resolves(awsManagedKey);
    const state = crossAccountState({ source: { accessRoleArn: undefined, externalId: undefined, clusterArn: SOURCE_ARN } });
    const result = await runPreflight({ ...state, accounts: sameAccounts }, ctx);
    expect(result.checks.find((c) => c.id === 'source-kms-key')).toMatchObject({ status: 'pass' });
  });

  it('refuses a source without binlogs (parameter not set = engine default OFF), naming the group', async () => {
    happySource();
    rds.on(DescribeDBClusterParametersCommand, { DBClusterParameterGroupName: 'orders-binlog', Marker: 'page-2' }).resolves({ Parameters: [] });
    const err = await errorOf(runPreflight(crossAccountState(), ctx));
    expect(err.name).toBe('BinlogDisabledError');
    expect(err.message).toContain('binlog_format is OFF in cluster parameter group orders-binlog');
    expect(err.message).toContain('the writer must reboot');
  });

  // Aurora User Guide, "Setting up enhanced binlog for Aurora MySQL": enhanced binlog files are not on a
  // clone nor in a backup, so the new cluster could not report the source's position.
  it.each(['clone', 'snapshot'])('refuses a source with enhanced binlog for %s, naming the parameters to turn it off', async (method) => {
    happySource();
    rds.on(DescribeDBClusterParametersCommand, { DBClusterParameterGroupName: 'orders-binlog', Marker: 'page-2' }).resolves({
      Parameters: [
        { ParameterName: 'binlog_format', ParameterValue: 'ROW', Source: 'user', ApplyType: 'static', IsModifiable: true },
        { ParameterName: 'aurora_enhanced_binlog', ParameterValue: '1', Source: 'user', ApplyType: 'static', IsModifiable: true },
        { ParameterName: 'binlog_backup', ParameterValue: '0', Source: 'user', ApplyType: 'static', IsModifiable: true },
        { ParameterName: 'binlog_replication_globaldb', ParameterValue: '0', Source: 'user', ApplyType: 'static', IsModifiable: true },
      ],
    });
    const err = await errorOf(runPreflight(crossAccountState({ initialLoad: { method } }), ctx));
    expect(err.name).toBe('BinlogDisabledError');
    expect(err.message).toContain('[source-enhanced-binlog] The source uses enhanced binlog (aurora_enhanced_binlog = 1 in orders-binlog)');
    expect(err.message).toContain('aurora_enhanced_binlog = 0, binlog_backup = 1, binlog_replication_globaldb = 1 in orders-binlog, then reboot the writer');
  });

  it('passes the enhanced-binlog check when it is off', async () => {
    happySource();
    const result = await runPreflight(crossAccountState(), ctx);
    expect(result.checks.find((c) => c.id === 'source-enhanced-binlog')).toMatchObject({ status: 'pass' });
  });

  it('refuses a target identifier used by a cluster without our tag, and reuses one with it', async () => {
    happySource();
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders-prod-moved' }).resolves({ DBClusters: [targetCluster('available', { TagList: [{ Key: 'team', Value: 'x' }] })] });
    const err = await errorOf(runPreflight(crossAccountState(), ctx));
    expect(err.name).toBe('ResourceConflictError');
    expect(err.message).toContain('Target cluster identifier orders-prod-moved is already used');

    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders-prod-moved' }).resolves({ DBClusters: [targetCluster('available')] });
    const ok = await runPreflight(crossAccountState(), ctx);
    expect(ok.checks.find((c) => c.id === 'target-identifier')?.message).toContain('will be reused');
  });

  it.each([
    ['Serverless v1', { EngineMode: 'serverless' }, 'Aurora Serverless v1'],
    ['no instance', { DBClusterMembers: [] }, 'has no instance'],
    ['not available', { Status: 'backing-up' }, 'is backing-up, not available'],
    ['another engine', { Engine: 'aurora-postgresql' }, 'runs engine aurora-postgresql'],
  ])('fails a source that is %s', async (_label, overrides, text) => {
    happySource();
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: SOURCE_ARN }).resolves({ DBClusters: [sourceCluster(overrides as never)] });
    const err = await errorOf(runPreflight(crossAccountState(), ctx));
    expect(err.name).toBe('PreflightFailedError');
    expect(err.message).toContain(text);
  });

  it('fails when source.engine contradicts the cluster version', async () => {
    happySource();
    const err = await errorOf(runPreflight(crossAccountState({ source: { engine: 'aurora-mysql-2' } }), ctx));
    expect(err.message).toContain('source.engine is aurora-mysql-2 but cluster orders-prod runs 8.0.mysql_aurora.3.05.2 (aurora-mysql-3)');
  });

  it('names a target.kmsKeyId that does not exist in the target account', async () => {
    happySource();
    kms.on(DescribeKeyCommand, { KeyId: TARGET_KEY }).rejects(Object.assign(new Error(`Key '${TARGET_KEY}' does not exist`), { name: 'NotFoundException' }));
    const err = await errorOf(runPreflight(crossAccountState(), ctx));
    expect(err.name).toBe('ResourceNotFoundError');
    expect(err.message).toContain(`[target-kms-key] target.kmsKeyId ${TARGET_KEY} does not exist`);
  });

  it('names a missing secret as SecretError', async () => {
    happySource();
    sm.on(GetSecretValueCommand, { SecretId: SOURCE_SECRET }).rejects(Object.assign(new Error("Secrets Manager can't find the specified secret."), { name: 'ResourceNotFoundException' }));
    const err = await errorOf(runPreflight(crossAccountState(), ctx));
    expect(err.name).toBe('SecretError');
    expect(err.message).toContain(`source.adminSecret: Secret ${SOURCE_SECRET} does not exist`);
  });

  it('says what becomes of the target admin on a clone without target.adminSecret', async () => {
    happySource();
    const result = await runPreflight(crossAccountState({ target: { adminSecret: undefined } }), ctx);
    expect(result.checks.find((c) => c.id === 'target-admin-secret')).toMatchObject({
      status: 'pass',
      message: expect.stringContaining('crossmove sets a new password for its master user (the source\'s, which the clone inherits) and keeps it in secret crossmove/orders-2026-12/target-admin'),
    });
  });

  it('turns an AccessDenied read into a failed check naming the refused action and the role, and still runs the other checks', async () => {
    happySource();
    const principal = `arn:aws:sts::${SRC}:assumed-role/crossmove-source-access/crossmove-orders-2026-12`;
    const groupArn = `arn:aws:rds:us-east-1:${SRC}:cluster-pg:orders-binlog`;
    // As the SDK parses RDS's XML 403 (the source role deployed without this read).
    rds.on(DescribeDBClusterParametersCommand, { DBClusterParameterGroupName: 'orders-binlog' }).rejects(await rdsAccessDenied(new DescribeDBClusterParametersCommand({ DBClusterParameterGroupName: 'orders-binlog' }), principal, groupArn));
    // KMS's JSON protocol names it AccessDeniedException.
    kms.on(DescribeKeyCommand, { KeyId: TARGET_KEY }).rejects(
      Object.assign(new Error(`User: arn:aws:sts::${TGT}:assumed-role/crossmove-dev-RunPreflight/x is not authorized to perform: kms:DescribeKey on resource: ${TARGET_KEY}`), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }),
    );
    const { inspectPreflight } = await import('../../shared/preflight/run.js');
    const outcomes = (await inspectPreflight(crossAccountState())).outcomes;
    expect(outcomes.find((c) => c.id === 'source-binlog-format')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining(`is not authorized to perform: rds:DescribeDBClusterParameters on resource: ${groupArn}`),
      fix: expect.stringContaining(`the source-account role ${ROLE_ARN} (source-account/role.yaml`),
    });
    expect(outcomes.find((c) => c.id === 'target-kms-key')).toMatchObject({ status: 'fail', message: expect.stringContaining('kms:DescribeKey'), fix: expect.stringContaining("the preflight function's role") });
    // The checks that could read what they need still ran, and none read unread parameters as defaults.
    expect(outcomes.find((c) => c.id === 'source-kms-key')).toMatchObject({ status: 'pass' });
    expect(outcomes.find((c) => c.id === 'target-identifier')).toMatchObject({ status: 'pass' });
    expect(outcomes.filter((c) => c.id === 'source-binlog-format')).toHaveLength(1);
    const err = await errorOf(runPreflight(crossAccountState(), ctx));
    expect(err.name).toBe('PreflightFailedError');
    expect(err.message).toContain('[source-binlog-format] AWS refused a read this check needs');
    expect(err.message).toContain('[target-kms-key] AWS refused a read this check needs');
  });

  it('turns throttling into TransientError (retried by the state machine)', async () => {
    happySource();
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: SOURCE_ARN }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }));
    const err = await errorOf(runPreflight(crossAccountState(), ctx));
    expect(err.name).toBe('TransientError');
    expect(err.message).toContain(`RDS DescribeDBClusters ${SOURCE_ARN} failed temporarily (Throttling: Rate exceeded)`);
  });

  it('makes no AWS call for an endpoint-only source', async () => {
    process.env.UNIT_SRC = JSON.stringify({ username: 'a', password: 'local-pw-1' });
    const input = validateMigrationInput({ migrationId: 'local-1', source: { endpoint: { host: '127.0.0.1' }, adminSecret: 'env:UNIT_SRC' }, target: { endpoint: { host: '127.0.0.1', port: 3307 }, adminSecret: 'env:UNIT_SRC' } });
    const result = await runPreflight({ input, accounts: { source: null, target: null, sameAccount: true, sourceRegion: null, targetRegion: null } }, ctx);
    expect(result.ok).toBe(true);
    expect([...rds.calls(), ...kms.calls(), ...sts.calls(), ...sm.calls()]).toHaveLength(0);
  });
});

describe('write-block check against EC2 errors', () => {
  it('warns when the source role may not read the group (an older role stack), and fails a group that is gone', async () => {
    happySource();
    ec2.on(DescribeSecurityGroupsCommand).rejects(Object.assign(new Error('You are not authorized to perform this operation.'), { name: 'UnauthorizedOperation', $metadata: { httpStatusCode: 403 } }));
    const { inspectPreflight } = await import('../../shared/preflight/run.js');
    const warned = (await inspectPreflight(crossAccountState())).outcomes.find((c) => c.id === 'write-block');
    expect(warned).toMatchObject({ status: 'warn', message: expect.stringContaining('Could not read security group sg-0a1b2c3d4e5f60718'), fix: expect.stringContaining('ec2:DescribeSecurityGroups') });
    ec2.on(DescribeSecurityGroupsCommand).rejects(Object.assign(new Error("The security group 'sg-0a1b2c3d4e5f60718' does not exist"), { name: 'InvalidGroup.NotFound', $metadata: { httpStatusCode: 400 } }));
    const failed = (await inspectPreflight(crossAccountState())).outcomes.find((c) => c.id === 'write-block');
    expect(failed).toMatchObject({ status: 'fail', error: 'ResourceNotFoundError' });
  });
});
