// Admin credentials for each side. A source secret that lives in the source account is read with the
// assumed source-account role; everything else with the pipeline's own credentials.
import { readCredentials, type DbCredentials } from './secrets.js';
import { secretsManagerClient } from './aws/secrets-manager.js';
import { accountOfArn, sourceClientConfig } from './aws/source-account.js';
import type { MigrationState } from './state.js';
import { SecretError, SourceAccessError } from './errors.js';

export async function sourceAdminCredentials(state: Pick<MigrationState, 'input' | 'accounts'>): Promise<DbCredentials> {
  const ref = state.input.source.adminSecret;
  const inSourceAccount =
    ref.startsWith('arn:') && state.input.source.accessRoleArn && accountOfArn(ref) === accountOfArn(state.input.source.accessRoleArn);
  if (!inSourceAccount) return readCredentials(ref);
  let config;
  try {
    config = await sourceClientConfig(state.input);
  } catch (err) {
    // The secret cannot be read when its account cannot be entered: a secret problem for the checks that read it.
    if (err instanceof SourceAccessError) throw new SecretError(`source.adminSecret ${ref} cannot be read: ${err.message}`);
    throw err;
  }
  // The secret's own region (from its ARN), not the cluster's: a secret may be kept in another region.
  return readCredentials(ref, { secretsManager: secretsManagerClient({ ...config, region: accountRegion(ref) ?? config.region }), cacheKey: 'source' });
}

/**
 * The target admin: on the clone and snapshot paths, once "Reset the master password" ran, the secret
 * crossmove made for the new cluster's master user (shared/aws/master-password.ts); otherwise
 * target.adminSecret (a logical copy's existing target).
 */
function targetAdminSecretRef(state: Pick<MigrationState, 'input'> & Partial<Pick<MigrationState, 'targetAdmin'>>): string {
  const ref = state.targetAdmin?.secretRef ?? state.input.target.adminSecret;
  if (ref) return ref;
  const method = state.input.initialLoad.method;
  throw new SecretError(
    method === 'logical'
      ? 'target.adminSecret is required for a logical copy (the admin of the existing target)'
      : `The target admin is not known yet: "Reset the master password" sets it on the new cluster (secret ${state.input.names.targetAdminSecretName}) before any step connects to the target`,
  );
}

export async function targetAdminCredentials(state: Pick<MigrationState, 'input'> & Partial<Pick<MigrationState, 'targetAdmin'>>): Promise<DbCredentials> {
  return readCredentials(targetAdminSecretRef(state));
}

function accountRegion(arn: string): string | undefined {
  return arn.split(':')[3] || undefined;
}
