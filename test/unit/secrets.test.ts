import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SecretError } from '../../shared/errors.js';
import { redact } from '../../shared/redact.js';
import { clearSecretCache, readCredentials, storeCredentials } from '../../shared/secrets.js';

const sm = mockClient(SecretsManagerClient);
const ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:orders-admin-AbCdEf';

describe('secret references', () => {
  beforeEach(() => {
    sm.reset();
    clearSecretCache();
    delete process.env.CROSSMOVE_SECRET_STORE;
  });

  it('reads env: references and registers the password for redaction', async () => {
    process.env.TEST_DB_SECRET = JSON.stringify({ username: 'admin', password: 'env-pass-9d8c' });
    const creds = await readCredentials('env:TEST_DB_SECRET');
    expect(creds).toEqual({ username: 'admin', password: 'env-pass-9d8c' });
    expect(redact('Access denied for admin using env-pass-9d8c')).toBe('Access denied for admin using ********');
  });

  it('reads file: references', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'cm-')), 's.json');
    writeFileSync(path, JSON.stringify({ username: 'u', password: 'file-pass-1234' }));
    expect((await readCredentials(`file:${path}`)).username).toBe('u');
  });

  it('reads Secrets Manager ARNs once per container (cached)', async () => {
    // Prepare: GetSecretValue response shaped like the API reference.
    sm.on(GetSecretValueCommand, { SecretId: ARN }).resolves({
      ARN,
      Name: 'orders-admin',
      VersionId: 'EXAMPLE1-90ab-cdef-fedc-ba987SECRET1',
      SecretString: JSON.stringify({ username: 'admin', password: 'sm-pass-5678' }),
      VersionStages: ['AWSCURRENT'],
      CreatedDate: new Date(),
    });
    const client = new SecretsManagerClient({});
    // Act
    await readCredentials(ARN, { secretsManager: client });
    const again = await readCredentials(ARN, { secretsManager: client });
    // Assess
    expect(again.password).toBe('sm-pass-5678');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('explains a missing secret, a missing variable and a malformed secret without echoing it', async () => {
    sm.on(GetSecretValueCommand).rejects(Object.assign(new Error("Secrets Manager can't find the specified secret."), { name: 'ResourceNotFoundException' }));
    await expect(readCredentials(ARN, { secretsManager: new SecretsManagerClient({}) })).rejects.toThrow(/does not exist or is not visible/);
    await expect(readCredentials('env:NOPE_NOT_SET')).rejects.toThrow(SecretError);
    process.env.TEST_BAD_SECRET = 'hunter2-not-json';
    const err = await readCredentials('env:TEST_BAD_SECRET').catch((e: Error) => e);
    expect(err).toBeInstanceOf(SecretError);
    expect((err as Error).message).not.toContain('hunter2');
    await expect(readCredentials('plain-password')).rejects.toThrow(/must start with arn:, env: or file:/);
  });

  it('an ARN read without AWS credentials says how to give them (a local run), other AWS errors pass unchanged', async () => {
    // The SDK's own error when no provider in the chain has credentials.
    sm.on(GetSecretValueCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const err = (await readCredentials(ARN, { secretsManager: new SecretsManagerClient({}) }).catch((e: Error) => e)) as Error;
    expect(err).toBeInstanceOf(SecretError);
    expect(err.message).toContain(ARN);
    expect(err.message).toMatch(/give this process AWS credentials .* or in a local run use env:NAME or file:PATH/);

    sm.reset();
    sm.on(GetSecretValueCommand).rejects(Object.assign(new Error('You provided a parameter value that is not valid'), { name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } }));
    const other = (await readCredentials(ARN, { secretsManager: new SecretsManagerClient({}) }).catch((e: Error) => e)) as Error;
    expect(other.name).toBe('InvalidParameterException');
  });

  it('stores generated credentials in Secrets Manager, updating the secret when it already exists', async () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:222222222222:secret:crossmove/m1/replication-user-AbCdEf';
    sm.on(CreateSecretCommand).rejectsOnce(new ResourceExistsException({ message: 'exists', $metadata: {} }));
    sm.on(PutSecretValueCommand).resolves({ ARN: arn, Name: 'crossmove/m1/replication-user', VersionId: 'v2', VersionStages: ['AWSCURRENT'] });
    const ref = await storeCredentials('crossmove/m1/replication-user', { username: 'repl', password: 'gen-pass-abcdef' }, { secretsManager: new SecretsManagerClient({}) });
    expect(ref).toBe(arn);
    expect(sm.commandCalls(PutSecretValueCommand)[0].args[0].input).toEqual({
      SecretId: 'crossmove/m1/replication-user',
      SecretString: JSON.stringify({ username: 'repl', password: 'gen-pass-abcdef' }),
    });
  });

  it('stores generated credentials in a private local file for local runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cm-store-'));
    process.env.CROSSMOVE_SECRET_STORE = `local:${dir}`;
    const ref = await storeCredentials('crossmove/m1/replication-user', { username: 'repl', password: 'local-pass-xyz1' });
    expect(ref).toBe(`file:${join(dir, 'crossmove/m1/replication-user.json')}`);
    expect(statSync(ref.slice(5)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(ref.slice(5), 'utf8')).password).toBe('local-pass-xyz1');
    expect((await readCredentials(ref)).password).toBe('local-pass-xyz1');
  });

  it('keeps local secrets in folders only the owner can open, tightening ones an older crossmove left open', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'cm-store-'));
    const root = join(parent, 'secrets');
    process.env.CROSSMOVE_SECRET_STORE = `local:${root}`;
    const ref = await storeCredentials('crossmove/m1/replication-user', { username: 'repl', password: 'local-pass-xyz2' });
    const mode = (path: string) => statSync(path).mode & 0o777;
    for (const d of [root, join(root, 'crossmove'), join(root, 'crossmove/m1')]) expect(mode(d)).toBe(0o700);

    // As an older version left them: folders 0755, the file 0644. Storing again tightens all of it,
    // never the folder above the store.
    for (const d of [parent, root, join(root, 'crossmove'), join(root, 'crossmove/m1')]) chmodSync(d, 0o755);
    chmodSync(ref.slice(5), 0o644);
    await storeCredentials('crossmove/m1/replication-user', { username: 'repl', password: 'local-pass-xyz3' });
    for (const d of [root, join(root, 'crossmove'), join(root, 'crossmove/m1')]) expect(mode(d)).toBe(0o700);
    expect(mode(ref.slice(5))).toBe(0o600);
    expect(mode(parent)).toBe(0o755);
  });
});
