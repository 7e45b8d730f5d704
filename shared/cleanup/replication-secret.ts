// Cleanup: the secret holding the replication user's password (pipeline account, or the local store
// in local runs). Deleted without a recovery window so that the same migrationId can be run again
// (a secret scheduled for deletion blocks CreateSecret with its name for up to 30 days).
import { unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DeleteSecretCommand, DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { logStep } from '../logger.js';
import type { CleanupItem } from '../state.js';
import { awsCall, errorName } from '../aws/call.js';
import { secretsManagerClient } from '../aws/secrets-manager.js';
import { targetClientConfig } from '../aws/source-account.js';
import { item, type CleanupState } from './types.js';

/** Where the secret is: the reference the run stored, else where storeCredentials would have put it. */
function replicationSecretLocation(state: CleanupState): { file: string } | { secretId: string } {
  const ref = state.replicationUser?.secretRef;
  if (ref?.startsWith('file:')) return { file: ref.slice(5) };
  if (ref?.startsWith('arn:')) return { secretId: ref };
  const store = process.env.CROSSMOVE_SECRET_STORE ?? 'aws';
  const name = state.input.names.replicationSecretName;
  if (store.startsWith('local:')) return { file: resolve(join(store.slice(6), `${name}.json`)) };
  return { secretId: name };
}

export async function removeReplicationSecret(state: CleanupState, client?: SecretsManagerClient): Promise<CleanupItem> {
  const where = replicationSecretLocation(state);
  const account = state.accounts.target;
  if ('file' in where) {
    try {
      await unlink(where.file);
      return item('replication-secret', `file:${where.file}`, null, 'removed');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return item('replication-secret', `file:${where.file}`, null, 'gone');
      throw err;
    }
  }
  const sm = client ?? secretsManagerClient(targetClientConfig(state.input));
  // Look first: DeleteSecret with ForceDeleteWithoutRecovery succeeds for a secret that does not exist,
  // which would report `removed` for something already gone.
  try {
    await awsCall(`Secrets Manager DescribeSecret ${where.secretId}`, () => sm.send(new DescribeSecretCommand({ SecretId: where.secretId })));
  } catch (err) {
    if (errorName(err) === 'ResourceNotFoundException') return item('replication-secret', where.secretId, account, 'gone');
    throw err;
  }
  logStep('delete the replication user secret', { secretId: where.secretId });
  try {
    await awsCall(`Secrets Manager DeleteSecret ${where.secretId}`, () =>
      sm.send(new DeleteSecretCommand({ SecretId: where.secretId, ForceDeleteWithoutRecovery: true })),
    );
  } catch (err) {
    if (errorName(err) === 'ResourceNotFoundException') return item('replication-secret', where.secretId, account, 'gone');
    // Already being deleted (an earlier run): nothing left to do.
    if (errorName(err) === 'InvalidRequestException' && /marked (for )?delet/i.test((err as Error).message)) return item('replication-secret', where.secretId, account, 'gone');
    throw err;
  }
  return item('replication-secret', where.secretId, account, 'removed');
}
