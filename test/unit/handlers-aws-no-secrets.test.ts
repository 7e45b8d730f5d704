// The AWS-step handlers never let a password out: not in a result, a log line (at DEBUG) or an error,
// even when an AWS error message happens to echo one.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeDBClusterParametersCommand, DescribeDBClustersCommand, RDSClient, RestoreDBClusterToPointInTimeCommand } from '@aws-sdk/client-rds';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { localLambdaContext } from '../../shared/handler.js';
import { logger } from '../../shared/logger.js';
import { handler as runPreflight } from '../../handlers/run-preflight.js';
import { handler as cloneCluster } from '../../handlers/clone-cluster.js';
import { SOURCE_ARN, SOURCE_KEY, assumeRoleResponse, crossAccountState, resetCaches, sourceCluster } from '../aws/mock-fixtures.js';

const PASSWORD = 'Sup3r-Secret-Admin-Pw!';
const rds = mockClient(RDSClient);
const kms = mockClient(KMSClient);
const sts = mockClient(STSClient);
const sm = mockClient(SecretsManagerClient);
const ctx = localLambdaContext('test');
let captured = '';
const originals = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };

beforeEach(() => {
  [rds, kms, sts, sm].forEach((m) => m.reset());
  resetCaches();
  captured = '';
  process.stdout.write = ((chunk: string) => ((captured += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => ((captured += String(chunk)), true)) as typeof process.stderr.write;
  // Powertools writes through console in dev mode (vitest intercepts console before stdout).
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      captured += `${args.map(String).join(' ')}\n`;
    });
  }
  logger.setLogLevel('DEBUG');
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
  logger.setLogLevel('WARN');
  vi.restoreAllMocks();
});

describe('no password leaves the AWS steps', () => {
  it('not in the preflight result, the clone result or their logs', async () => {
    const result = await runPreflight(crossAccountState(), ctx);
    expect(result.ok).toBe(true);
    rds.on(RestoreDBClusterToPointInTimeCommand).resolves({ DBCluster: { DBClusterIdentifier: 'orders-prod-moved', Status: 'creating' } });
    const clone = await cloneCluster(crossAccountState(), ctx);
    expect(JSON.stringify([result, clone])).not.toContain(PASSWORD);
    expect(captured).toContain('step: clone the source cluster (copy-on-write)');
    expect(captured).not.toContain(PASSWORD);
  });

  it('not in an error whose AWS message echoes it', async () => {
    await runPreflight(crossAccountState(), ctx); // reads (and registers) the password
    rds.on(RestoreDBClusterToPointInTimeCommand).rejects(Object.assign(new Error(`Invalid MasterUserPassword ${PASSWORD}`), { name: 'InvalidParameterValue' }));
    const err = (await cloneCluster(crossAccountState(), ctx).catch((e: Error) => e)) as Error;
    expect(err.name).toBe('InvalidParameterValue');
    expect(err.message).toContain('Invalid MasterUserPassword');
    expect(err.message).not.toContain(PASSWORD);
    expect(captured).toContain('step failed: Clone the cluster');
    expect(captured).not.toContain(PASSWORD);
  });
});
