import { stepHandler } from '../shared/handler.js';
import { ensureShare } from '../shared/aws/share.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Share the cluster', async (state: MigrationState) => ensureShare(state));
