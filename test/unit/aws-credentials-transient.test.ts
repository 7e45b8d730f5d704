// Credentials for the source account and the admin secrets: a source-account secret is read in the region
// of its own ARN (not the cluster's), and STS AssumeRole / Secrets Manager GetSecretValue failures that
// are temporary (throttling, 5xx, dropped connections) surface as TransientError, which the state
// machine retries, while real faults keep a clear typed error.
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { sourceAdminCredentials } from '../../shared/db-credentials.js';
import { readCredentials } from '../../shared/secrets.js';
import { ASSUMED_KEY_ID, SRC, assumeRoleResponse, crossAccountState, resetCaches } from '../aws/mock-fixtures.js';

const sm = mockClient(SecretsManagerClient);
const sts = mockClient(STSClient);
const errorOf = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: Error) => e);
const sdkError = (name: string, status: number, message = name) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
const EU_SECRET = `arn:aws:secretsmanager:eu-central-1:${SRC}:secret:orders-admin-AbCdEf`;

beforeEach(() => {
  sm.reset();
  sts.reset();
  resetCaches();
});

describe('source admin secret region', () => {
  it("reads a source-account secret in its ARN's region with the assumed role, even when the cluster is elsewhere", async () => {
    sts.on(AssumeRoleCommand).resolves(assumeRoleResponse());
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'admin', password: 'region-test-pw-1' }) });
    const state = crossAccountState({ source: { adminSecret: EU_SECRET } }); // cluster in us-east-1
    expect((await sourceAdminCredentials(state)).username).toBe('admin');
    const client = sm.commandCalls(GetSecretValueCommand)[0]!.thisValue as SecretsManagerClient;
    expect(await client.config.region()).toBe('eu-central-1');
    expect((await client.config.credentials()).accessKeyId).toBe(ASSUMED_KEY_ID);
  });
});

describe('transient failures become TransientError', () => {
  it.each([
    ['throttling', sdkError('ThrottlingException', 400, 'Rate exceeded')],
    ['a 5xx answer', sdkError('InternalFailure', 500)],
    ['a dropped connection', Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' })],
  ])('STS AssumeRole: %s', async (_label, err) => {
    sts.on(AssumeRoleCommand).rejects(err);
    const e = await errorOf(sourceAdminCredentials(crossAccountState()));
    expect(e.name).toBe('TransientError');
    expect(e.message).toContain('STS AssumeRole arn:aws:iam::111111111111:role/crossmove-source-access failed temporarily');
  });

  it('STS AssumeRole: access denied stays a permanent error (a typed one, see below), never TransientError', async () => {
    sts.on(AssumeRoleCommand).rejects(sdkError('AccessDenied', 403, 'not authorized to perform sts:AssumeRole'));
    const e = await errorOf(sourceAdminCredentials(crossAccountState()));
    expect(e.name).toBe('SecretError');
  });

  it.each([
    ['throttling', sdkError('ThrottlingException', 400, 'Rate exceeded')],
    ['a 5xx answer', sdkError('InternalServiceError', 500)],
    ['a dropped connection', Object.assign(new Error('read ECONNRESET'), { name: 'Error', code: 'ECONNRESET' })],
  ])('Secrets Manager GetSecretValue: %s', async (_label, err) => {
    sm.on(GetSecretValueCommand).rejects(err);
    const e = await errorOf(readCredentials(EU_SECRET, { secretsManager: new SecretsManagerClient({ region: 'eu-central-1' }) }));
    expect(e.name).toBe('TransientError');
    expect(e.message).toContain(`Secrets Manager GetSecretValue ${EU_SECRET} failed temporarily`);
  });

  it('Secrets Manager GetSecretValue: a missing secret stays SecretError', async () => {
    sm.on(GetSecretValueCommand).rejects(sdkError('ResourceNotFoundException', 400, "Secrets Manager can't find the specified secret."));
    const e = await errorOf(readCredentials(EU_SECRET, { secretsManager: new SecretsManagerClient({ region: 'eu-central-1' }) }));
    expect(e.name).toBe('SecretError');
  });
});

describe('a source role that refuses us', () => {
  it('is a SourceAccessError naming the role and the trust policy, and a SecretError for the source secret', async () => {
    sts.on(AssumeRoleCommand).rejects(sdkError('AccessDenied', 403, 'User: arn:aws:sts::222222222222:assumed-role/x/y is not authorized to perform: sts:AssumeRole'));
    const { assumeSourceRole } = await import('../../shared/aws/source-account.js');
    const direct = await errorOf(assumeSourceRole(`arn:aws:iam::${SRC}:role/crossmove-source-access`, 'ext-1', 'orders-1'));
    expect(direct.name).toBe('SourceAccessError');
    expect(direct.message).toContain(`Cannot assume source.accessRoleArn arn:aws:iam::${SRC}:role/crossmove-source-access (AccessDenied:`);
    expect(direct.message).toContain('sts:ExternalId equal to source.externalId');
    const secret = await errorOf(sourceAdminCredentials(crossAccountState()));
    expect(secret.name).toBe('SecretError');
    expect(secret.message).toMatch(/^source\.adminSecret arn:aws:secretsmanager:.* cannot be read: Cannot assume source\.accessRoleArn/);
    // Not retried as transient: the state machine reports it at once.
    expect(sts.commandCalls(AssumeRoleCommand).length).toBe(2);
  });
});
