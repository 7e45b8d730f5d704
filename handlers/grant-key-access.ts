import { stepHandler } from '../shared/handler.js';
import { ensureKeyAccess } from '../shared/aws/key-access.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Let the target use the KMS key', async (state: MigrationState) => ensureKeyAccess(state));
