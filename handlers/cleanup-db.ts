import { stepHandler } from '../shared/handler.js';
import { cleanupDatabases, type DbCleanupState } from '../shared/cleanup/db.js';

export const handler = stepHandler('Clean up (databases)', async (state: DbCleanupState) => cleanupDatabases(state));
