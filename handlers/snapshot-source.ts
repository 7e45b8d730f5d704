import { stepHandler } from '../shared/handler.js';
import { ensureSourceSnapshot } from '../shared/aws/snapshot-source.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Snapshot the source', async (state: MigrationState) => ensureSourceSnapshot(state));
