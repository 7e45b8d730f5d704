import { stepHandler } from '../shared/handler.js';
import { ensureWriter } from '../shared/aws/writer.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Create the writer', async (state: MigrationState) => ensureWriter(state));
