import { stepHandler } from '../shared/handler.js';
import { runDatabaseChecks } from '../shared/preflight/db-run.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Check the databases', async (state: MigrationState) => runDatabaseChecks(state));
