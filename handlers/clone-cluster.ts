import { stepHandler } from '../shared/handler.js';
import { ensureClone } from '../shared/aws/clone.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Clone the cluster', async (state: MigrationState) => ensureClone(state));
