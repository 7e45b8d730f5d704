// STS in the pipeline's own (target) account: which account are we? (AssumeRole for the source account
// lives in source-account.ts.)
import { GetCallerIdentityCommand, STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
import type { ClientConfig } from './source-account.js';
import { awsCall } from './call.js';

export function stsClient(config: STSClientConfig = {}): STSClient {
  return new STSClient({ ...config });
}

export async function callerAccount(config: ClientConfig): Promise<string> {
  const out = await awsCall('STS GetCallerIdentity', () => stsClient(config).send(new GetCallerIdentityCommand({})));
  return out.Account!;
}
