import { stepHandler } from '../shared/handler.js';
import { checkWriter } from '../shared/aws/writer.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Check the writer', async (state: MigrationState) => checkWriter(state));
