// "Create the replication user" on the source; the password goes to a secret, the payload gets its ref.
import { logStep } from '../../logger.js';
import type { MigrationState, ReplicationUserResult } from '../../state.js';
import { ensureReplicationUser } from '../replication-user.js';
import { withSides } from './sides.js';

export async function createReplicationUserStep(state: MigrationState): Promise<ReplicationUserResult> {
  const { input } = state;
  return withSides(state, { source: true }, async ({ source }) => {
    logStep('create or update the replication user', { user: input.replication.userName, requireSsl: input.replication.ssl, secret: input.names.replicationSecretName });
    return ensureReplicationUser(source!.conn, source!.dialect, {
      userName: input.replication.userName,
      secretName: input.names.replicationSecretName,
      requireSsl: input.replication.ssl,
    });
  });
}
