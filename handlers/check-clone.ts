import { stepHandler } from '../shared/handler.js';
import { checkClone } from '../shared/aws/clone.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Check the clone', async (state: MigrationState) => checkClone(state));
