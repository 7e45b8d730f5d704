import { stepHandler } from '../shared/handler.js';
import { createReplicationUserStep } from '../shared/mysql/steps/create-replication-user.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Create the replication user', async (state: MigrationState) => createReplicationUserStep(state));
