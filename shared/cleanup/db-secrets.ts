// Cleanup, database half: the secrets of the two replication users, removed the way cleanup-aws
// removes the forward one (replication-secret.ts: local file or Secrets Manager, `gone` when absent).
// The reverse user's secret is named <replicationSecretName>-reverse (shared/mysql/reverse.ts).
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CleanupItem, MigrationState } from '../state.js';
import { removeReplicationSecret } from './replication-secret.js';
import type { CleanupState } from './types.js';

export async function removeReplicationSecrets(state: CleanupState & Partial<Pick<MigrationState, 'reverse'>>, sm?: SecretsManagerClient): Promise<CleanupItem[]> {
  const forward = await removeReplicationSecret(state, sm);
  const reverseRef = state.reverse?.userSecretRef;
  const reverseState: CleanupState = {
    ...state,
    input: { ...state.input, names: { ...state.input.names, replicationSecretName: `${state.input.names.replicationSecretName}-reverse` } },
    replicationUser: reverseRef ? { userName: '', secretRef: reverseRef, requireSsl: false } : undefined,
  };
  const reverse = await removeReplicationSecret(reverseState, sm);
  return [forward, { ...reverse, kind: 'reverse-replication-secret' }];
}
