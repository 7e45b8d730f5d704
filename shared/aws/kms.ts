// KMS: in the source account (assumed role) describe the cluster's key and read/write its policy; in the
// target account check that target.kmsKeyId exists.
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient, PutKeyPolicyCommand, type KeyMetadata } from '@aws-sdk/client-kms';
import type { MigrationInput } from '../input/validate.js';
import { awsCall, errorName } from './call.js';
import { sourceClientConfig, targetClientConfig } from './source-account.js';

/** KMS in the source account; in the source cluster's region unless `region` says otherwise (a key's own region). */
export async function sourceKmsClient(input: Pick<MigrationInput, 'source' | 'migrationId'>, region?: string | null): Promise<KMSClient> {
  const config = await sourceClientConfig(input);
  return new KMSClient({ ...config, ...(region ? { region } : {}) });
}

export function targetKmsClient(input: Pick<MigrationInput, 'target'>): KMSClient {
  return new KMSClient(targetClientConfig(input));
}

/** The key's metadata, or null when it does not exist / is not visible to the caller. */
export async function findKey(client: KMSClient, keyId: string): Promise<KeyMetadata | null> {
  try {
    return await describeKey(client, keyId);
  } catch (err) {
    if (errorName(err) === 'NotFoundException') return null;
    throw err;
  }
}

export async function describeKey(client: KMSClient, keyId: string): Promise<KeyMetadata> {
  const out = await awsCall(`KMS DescribeKey ${keyId}`, () => client.send(new DescribeKeyCommand({ KeyId: keyId })));
  return out.KeyMetadata!;
}

export async function getKeyPolicy(client: KMSClient, keyId: string): Promise<string> {
  const out = await awsCall(`KMS GetKeyPolicy ${keyId}`, () => client.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })));
  return out.Policy!;
}

export async function putKeyPolicy(client: KMSClient, keyId: string, policy: string): Promise<void> {
  await awsCall(`KMS PutKeyPolicy ${keyId}`, () => client.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: policy })));
}
