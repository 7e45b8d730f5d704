// The AWS-step handlers never let a password out: not in a result, a log line (at DEBUG) or an error.
// Every test runs in a FRESH module context (vi.resetModules + dynamic imports), as each Lambda is its own
// process: nothing registered by an earlier test or step can mask a leak.
// 1. With redaction switched off entirely, the password appears nowhere: the handlers never put it
//    anywhere in the first place (redaction is only the second line of defence).
// 2. An AWS error that echoes a password the SAME invocation read is masked by that invocation.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeDBClusterParametersCommand, DescribeDBClustersCommand, RDSClient, RestoreDBClusterToPointInTimeCommand } from '@aws-sdk/client-rds';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

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
    // The password really was read by this invocation (both admin secrets), so its absence below means something.
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    rds.on(RestoreDBClusterToPointInTimeCommand).resolves({ DBCluster: { DBClusterIdentifier: 'orders-prod-moved', Status: 'creating' } });
    const clone = await p.cloneCluster(p.fixtures.crossAccountState(), p.ctx);
    expect(captured).toContain('step: clone the source cluster (copy-on-write)');
    expect(JSON.stringify([result, clone])).not.toContain(PASSWORD);
    expect(captured).not.toContain(PASSWORD);
  });

  it('is masked in an error whose AWS message echoes a password the same invocation read', async () => {
    const p = await freshProcess();
    expect(p.knownSecretCount()).toBe(0); // a fresh process: nothing registered by another test
    const { TARGET_SECRET } = p.fixtures;
    // The source secret is read first, then reading the target secret fails with a message echoing it.
    sm.on(GetSecretValueCommand, { SecretId: TARGET_SECRET }).rejects(
      Object.assign(new Error(`Malformed request near "${PASSWORD}"`), { name: 'InvalidRequestException', $metadata: { httpStatusCode: 400 } }),
    );
    const err = (await p.runPreflight(p.fixtures.crossAccountState(), p.ctx).catch((e: Error) => e)) as Error;
    expect(err.name).toBe('InvalidRequestException');
    expect(err.message).toContain('Malformed request near');
    expect(err.message).not.toContain(PASSWORD);
    expect(captured).toContain('step failed: Run preflight checks');
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
