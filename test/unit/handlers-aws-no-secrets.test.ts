// The AWS-step handlers never let a password out: not in a result, a log line (at DEBUG) or an error.
// Every test runs in a FRESH module context (vi.resetModules + dynamic imports), as each Lambda is its own
// process: nothing registered by an earlier test or step can mask a leak.
// 1. With redaction switched off entirely, the password appears nowhere: the handlers never put it
//    anywhere in the first place (redaction is only the second line of defence).
// 2. An AWS error that echoes a password the SAME invocation read is masked by that invocation.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeDBClusterParametersCommand, DescribeDBClustersCommand, ModifyDBClusterCommand, RDSClient, RestoreDBClusterToPointInTimeCommand } from '@aws-sdk/client-rds';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

const PASSWORD = 'Sup3r-Secret-Admin-Pw!';
const rds = mockClient(RDSClient);
const kms = mockClient(KMSClient);
const sts = mockClient(STSClient);
const sm = mockClient(SecretsManagerClient);
const ec2 = mockClient(EC2Client);
let captured = '';
const originals = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };

/** The modules a Lambda process would load, imported fresh (new secret cache, redaction registry, logger). */
async function freshProcess() {
  const { logger } = await import('../../shared/logger.js');
  logger.setLogLevel('DEBUG');
  const fixtures = await import('../aws/mock-fixtures.js');
  fixtures.resetCaches();
  const { localLambdaContext } = await import('../../shared/handler.js');
  const { knownSecretCount } = await import('../../shared/redact.js');
  return {
    fixtures,
    ctx: localLambdaContext('test'),
    knownSecretCount,
    runPreflight: (await import('../../handlers/run-preflight.js')).handler,
    cloneCluster: (await import('../../handlers/clone-cluster.js')).handler,
    resetMasterPassword: (await import('../../handlers/reset-master-password.js')).handler,
  };
}

beforeEach(async () => {
  vi.resetModules();
  [rds, kms, sts, sm, ec2].forEach((m) => m.reset());
  ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-0a1b2c3d4e5f60718', IpPermissions: [] }] });
  captured = '';
  process.stdout.write = ((chunk: string) => ((captured += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => ((captured += String(chunk)), true)) as typeof process.stderr.write;
  // Powertools writes through console in dev mode (vitest intercepts console before stdout).
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      captured += `${args.map(String).join(' ')}\n`;
    });
  }
  const { SOURCE_ARN, SOURCE_KEY, assumeRoleResponse, sourceCluster, mockTargetParameterGroup } = await import('../aws/mock-fixtures.js');
  mockTargetParameterGroup(rds);
  sts.on(AssumeRoleCommand).resolves(assumeRoleResponse());
  sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'admin', password: PASSWORD }) });
  rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: SOURCE_ARN }).resolves({ DBClusters: [sourceCluster()] });
  rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders-prod-moved' }).rejects(Object.assign(new Error('not found'), { name: 'DBClusterNotFoundFault' }));
  rds.on(DescribeDBClusterParametersCommand).resolves({ Parameters: [{ ParameterName: 'binlog_format', ParameterValue: 'ROW' }] });
  kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', Arn: SOURCE_KEY, KeyManager: 'CUSTOMER', KeyState: 'Enabled' } });
});
afterEach(() => {
  process.stdout.write = originals.out;
  process.stderr.write = originals.err;
  vi.doUnmock('../../shared/redact.js');
  vi.restoreAllMocks();
});

describe('no password leaves the AWS steps', () => {
  it('never reaches a result or a log line, even with redaction switched off', async () => {
    vi.doMock('../../shared/redact.js', () => ({
      registerSecretValue: () => {},
      redact: (text: string) => text,
      redactDeep: <T>(value: T) => value,
      knownSecretCount: () => 0,
    }));
    const p = await freshProcess();
    const result = await p.runPreflight(p.fixtures.crossAccountState(), p.ctx);
    expect(result.ok).toBe(true);
    // The password really was read by this invocation (the source admin secret; a clone needs no target
    // admin secret), so its absence below means something.
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    rds.on(RestoreDBClusterToPointInTimeCommand).resolves({ DBCluster: { DBClusterIdentifier: 'orders-prod-moved', Status: 'creating' } });
    const clone = await p.cloneCluster(p.fixtures.crossAccountState(), p.ctx);
    expect(captured).toContain('step: clone the source cluster (copy-on-write)');
    expect(JSON.stringify([result, clone])).not.toContain(PASSWORD);
    expect(captured).not.toContain(PASSWORD);
  });

  it('never lets the master password it generates for the clone reach a result or a log line, even with redaction switched off', async () => {
    vi.doMock('../../shared/redact.js', () => ({
      registerSecretValue: () => {},
      redact: (text: string) => text,
      redactDeep: <T>(value: T) => value,
      knownSecretCount: () => 0,
    }));
    const p = await freshProcess();
    const { targetCluster, TGT, REGION } = p.fixtures;
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders-prod-moved' }).resolves({ DBClusters: [targetCluster('available', { MasterUsername: 'admin' })] });
    sm.on(GetSecretValueCommand, { SecretId: 'crossmove/orders-2026-12/target-admin' }).rejects(Object.assign(new Error("Secrets Manager can't find the specified secret."), { name: 'ResourceNotFoundException' }));
    sm.on(CreateSecretCommand).resolves({ ARN: `arn:aws:secretsmanager:${REGION}:${TGT}:secret:crossmove/orders-2026-12/target-admin-AbCdEf` });
    rds.on(ModifyDBClusterCommand).resolves({ DBCluster: targetCluster('resetting-master-credentials') });
    const clone = { done: true, attempts: 2, status: 'available', clusterIdentifier: 'orders-prod-moved' };
    const result = await p.resetMasterPassword({ ...p.fixtures.crossAccountState(), clone }, p.ctx);
    const generated = JSON.parse(sm.commandCalls(CreateSecretCommand)[0]!.args[0].input.SecretString!).password as string;
    expect(rds.commandCalls(ModifyDBClusterCommand)[0]!.args[0].input.MasterUserPassword).toBe(generated);
    expect(captured).toContain('step: set a new master password on the target cluster');
    expect(JSON.stringify(result)).not.toContain(generated);
    expect(captured).not.toContain(generated);
  });

  it('is masked in an error whose AWS message echoes a password the same invocation read', async () => {
    const p = await freshProcess();
    expect(p.knownSecretCount()).toBe(0); // a fresh process: nothing registered by another test
    const { targetCluster } = p.fixtures;
    // The target admin secret is read (a retry: it exists), then ModifyDBCluster fails with a message echoing it.
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders-prod-moved' }).resolves({ DBClusters: [targetCluster('available', { MasterUsername: 'admin' })] });
    rds.on(ModifyDBClusterCommand).rejects(
      Object.assign(new Error(`Invalid master password "${PASSWORD}"`), { name: 'InvalidParameterValue', $metadata: { httpStatusCode: 400 } }),
    );
    const clone = { done: true, attempts: 2, status: 'available', clusterIdentifier: 'orders-prod-moved' };
    const err = (await p.resetMasterPassword({ ...p.fixtures.crossAccountState(), clone }, p.ctx).catch((e: Error) => e)) as Error;
    expect(err.name).toBe('InvalidParameterValue');
    expect(err.message).toContain('Invalid master password');
    expect(err.message).not.toContain(PASSWORD);
    expect(captured).toContain('step failed: Reset the master password');
    expect(captured).not.toContain(PASSWORD);
  });

  it('a step that never read the password has nothing registered (each Lambda is its own process)', async () => {
    const p = await freshProcess();
    rds.on(RestoreDBClusterToPointInTimeCommand).resolves({ DBCluster: { DBClusterIdentifier: 'orders-prod-moved', Status: 'creating' } });
    await p.cloneCluster(p.fixtures.crossAccountState(), p.ctx);
    expect(p.knownSecretCount()).toBe(0);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });
});
