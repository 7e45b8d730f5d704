// STS in the pipeline's own (target) account: which account are we? (AssumeRole for the source account
// lives in source-account.ts.)
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { ClientConfig } from './source-account.js';
import { awsCall } from './call.js';

export async function callerAccount(config: ClientConfig): Promise<string> {
  const out = await awsCall('STS GetCallerIdentity', () => new STSClient(config).send(new GetCallerIdentityCommand({})));
  return out.Account!;
}
