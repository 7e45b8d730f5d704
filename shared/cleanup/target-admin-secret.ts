// Cleanup: the secret crossmove made for the clone's (or restored cluster's) master user,
// crossmove/<migrationId>/target-admin (shared/aws/master-password.ts). It holds the only copy of the
// master password of what is now the primary, so it is deleted with Secrets Manager's recovery window
// (30 days, restorable) rather than at once, and the report says how to keep it or to set a password of
// the operator's own. A secret of that name crossmove did not make (its description says whose it is)
// is kept.
import { DeleteSecretCommand, DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsCall, errorName } from '../aws/call.js';
import { secretsManagerClient } from '../aws/secrets-manager.js';
import { targetClientConfig } from '../aws/source-account.js';
import { logStep } from '../logger.js';
import type { CleanupItem } from '../state.js';
import { item, type CleanupState } from './types.js';

const TARGET_ADMIN_RECOVERY_DAYS = 30;

export async function removeTargetAdminSecret(state: CleanupState, client?: SecretsManagerClient): Promise<CleanupItem> {
  const { input, accounts } = state;
  const name = input.names.targetAdminSecretName;
  if (!input.source.clusterArn || input.initialLoad.method === 'logical') return item('target-admin-secret', name, null, 'skipped', 'a logical copy uses target.adminSecret: crossmove made no target admin secret');
  const secretId = state.targetAdmin?.secretRef ?? name;
  const account = accounts.target;
  const sm = client ?? secretsManagerClient(targetClientConfig(input));
  let described;
  try {
    described = await awsCall(`Secrets Manager DescribeSecret ${secretId}`, () => sm.send(new DescribeSecretCommand({ SecretId: secretId })));
  } catch (err) {
    if (errorName(err) === 'ResourceNotFoundException') return item('target-admin-secret', secretId, account, 'gone');
    throw err;
  }
  if (described.DeletedDate) return item('target-admin-secret', secretId, account, 'gone', `already scheduled for deletion on ${new Date(described.DeletedDate).toISOString()}`);
  if (!(described.Description ?? '').startsWith(`crossmove ${input.migrationId}: `)) {
    return item('target-admin-secret', secretId, account, 'kept', 'not made by crossmove for this migration');
  }
  const cluster = state.targetAdmin?.clusterIdentifier ?? input.names.targetClusterIdentifier;
  logStep('schedule the target admin secret for deletion', { secretId, recoveryWindowInDays: TARGET_ADMIN_RECOVERY_DAYS });
  try {
    await awsCall(`Secrets Manager DeleteSecret ${secretId}`, () => sm.send(new DeleteSecretCommand({ SecretId: secretId, RecoveryWindowInDays: TARGET_ADMIN_RECOVERY_DAYS })));
  } catch (err) {
    if (errorName(err) === 'ResourceNotFoundException') return item('target-admin-secret', secretId, account, 'gone');
    // Scheduled for deletion meanwhile (a concurrent cleanup): nothing left to do.
    if (errorName(err) === 'InvalidRequestException' && /marked (for )?delet/i.test((err as Error).message)) return item('target-admin-secret', secretId, account, 'gone', 'already scheduled for deletion');
    throw err;
  }
  return item(
    'target-admin-secret',
    secretId,
    account,
    'removed',
    `scheduled for deletion in ${TARGET_ADMIN_RECOVERY_DAYS} days; it holds the master password of cluster ${cluster}: keep it with aws secretsmanager restore-secret --secret-id ${secretId}, or set a password of your own before then (aws rds modify-db-cluster --db-cluster-identifier ${cluster} --master-user-password ...)`,
  );
}
