import { TransientError } from '../shared/errors.js';
import { stepHandler } from '../shared/handler.js';
import { checkReplicationStep } from '../shared/mysql/steps/check-replication.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Check replication', async (state: MigrationState) => {
  const check = await checkReplicationStep(state);
  // The lag loop treats healthy=false as broken; a reconnect after a source restart is not, so it is
  // retried (Retry on TransientError) instead of ending the migration.
  if (check.reconnecting) {
    throw new TransientError('Replication IO thread is reconnecting to the source (source restarting or unreachable); checking again');
  }
  return check;
});
