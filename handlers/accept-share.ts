import { stepHandler } from '../shared/handler.js';
import { acceptShare } from '../shared/aws/share.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Accept the share', async (state: MigrationState) => acceptShare(state));
