// The usual AWS options of the operations commands (--profile, --region) turned into SDK client
// configuration and credentials. Credentials come from the SDK's own chain for that profile (SSO,
// assumed roles, env), read through a client so no credential-provider package is imported directly.
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { stsClient } from '../../shared/aws/sts.js';
import type { AwsCredentialIdentity } from '@aws-sdk/types';

export interface AwsOptions {
  profile?: string;
  region?: string;
  /** Tests: an endpoint (moto) for every client. */
  endpoint?: string;
}

export function clientConfig(o: AwsOptions): { profile?: string; region?: string; endpoint?: string } {
  return {
    ...(o.profile ? { profile: o.profile } : {}),
    ...(o.region ? { region: o.region } : {}),
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
  };
}

export async function resolveAws(o: AwsOptions): Promise<{ credentials: AwsCredentialIdentity; region: string }> {
  const sts = stsClient(clientConfig(o));
  const credentials = await sts.config.credentials();
  const region = await sts.config.region();
  if (!region) throw new Error('No AWS region: pass --region or set AWS_REGION (or a region in the profile)');
  return { credentials, region };
}

export async function callerIdentity(o: AwsOptions): Promise<{ account: string; arn: string }> {
  const out = await stsClient(clientConfig(o)).send(new GetCallerIdentityCommand({}));
  return { account: out.Account!, arn: out.Arn! };
}
