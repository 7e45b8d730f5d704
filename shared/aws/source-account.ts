// Source-account steps run with credentials from STS AssumeRole of `source.accessRoleArn` (with the
// external id), cached until shortly before they expire. Without an accessRoleArn the source is in the
// pipeline's own account and the default credentials are used.
import type { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import type { MigrationInput } from '../input/validate.js';
import { SourceAccessError } from '../errors.js';
import { awsCall, errorName } from './call.js';

export interface ClientConfig {
  region?: string;
  credentials?: AwsCredentialIdentity;
}

// Made at the first AssumeRole (STS loaded then): a step whose source is in its own account never needs it.
let sts: STSClient | undefined;
/** For tests: swap the STS client (e.g. one pointed at moto). */
export function setStsClient(client: STSClient): void {
  sts = client;
  cached.clear();
}

const cached = new Map<string, AwsCredentialIdentity>();

export function regionOfArn(arn: string | undefined): string | undefined {
  return arn?.split(':')[3] || undefined;
}
export function accountOfArn(arn: string | undefined): string | undefined {
  return arn?.split(':')[4] || undefined;
}

export async function assumeSourceRole(roleArn: string, externalId: string | undefined, migrationId: string): Promise<AwsCredentialIdentity> {
  const key = `${roleArn}|${externalId ?? ''}`;
  const hit = cached.get(key);
  if (hit && hit.expiration && hit.expiration.getTime() - Date.now() > 5 * 60_000) return hit;
  // Through awsCall: STS throttling or a dropped connection is a TransientError the state machine retries.
  const [{ AssumeRoleCommand }, { stsClient }] = await Promise.all([import('@aws-sdk/client-sts'), import('./sts.js')]);
  const client = (sts ??= stsClient());
  let out;
  try {
    out = await awsCall(`STS AssumeRole ${roleArn}`, () =>
      client.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: `crossmove-${migrationId}`.slice(0, 64),
          ExternalId: externalId,
          DurationSeconds: 3600,
        }),
      ),
    );
  } catch (err) {
    if (errorName(err) !== 'AccessDenied' && errorName(err) !== 'AccessDeniedException') throw err;
    throw new SourceAccessError(
      `Cannot assume source.accessRoleArn ${roleArn} (${errorName(err)}: ${(err as Error).message}). Check that the role exists (source-account/role.yaml), that its trust policy names this account with sts:ExternalId equal to source.externalId, and that this account may call sts:AssumeRole on it.`,
    );
  }
  const c = out.Credentials!;
  const creds: AwsCredentialIdentity = {
    accessKeyId: c.AccessKeyId!,
    secretAccessKey: c.SecretAccessKey!,
    sessionToken: c.SessionToken,
    expiration: c.Expiration,
  };
  cached.set(key, creds);
  return creds;
}

/**
 * The source's region: from its cluster ARN, else from an RDS endpoint name (`<name>.<id>.<region>.rds.amazonaws.com`,
 * an RDS for MySQL/MariaDB source has no cluster ARN), else none (the SDK's default, the function's own
 * region). Without this, the security-group write block of a source in another region than crossmove
 * would look for the group in crossmove's region.
 */
export function sourceRegion(source: Pick<MigrationInput['source'], 'clusterArn' | 'endpoint'>): string | undefined {
  return regionOfArn(source.clusterArn) ?? /\.([a-z]{2}(?:-[a-z]+)+-\d)\.rds\.amazonaws\.com(?:\.cn)?$/i.exec(source.endpoint?.host ?? '')?.[1]?.toLowerCase();
}

/** Client configuration for calls in the source account (assumed role) and the source's region. */
export async function sourceClientConfig(input: Pick<MigrationInput, 'source' | 'migrationId'>): Promise<ClientConfig> {
  const region = sourceRegion(input.source);
  if (!input.source.accessRoleArn) return { region };
  return { region, credentials: await assumeSourceRole(input.source.accessRoleArn, input.source.externalId, input.migrationId) };
}

/** Client configuration for calls in the target (pipeline) account. */
export function targetClientConfig(input: Pick<MigrationInput, 'target'>): ClientConfig {
  return { region: input.target.region ?? process.env.AWS_REGION };
}
