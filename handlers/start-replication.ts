import { stepHandler } from '../shared/handler.js';
import { startReplicationStep } from '../shared/mysql/steps/start-replication.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Start replication on the target', async (state: MigrationState) => startReplicationStep(state));
