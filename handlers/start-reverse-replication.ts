import { stepHandler } from '../shared/handler.js';
import { startReverseReplicationStep } from '../shared/mysql/steps/start-reverse-replication.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Start reverse replication', async (state: MigrationState) => startReverseReplicationStep(state));
