import { stepHandler } from '../shared/handler.js';
import { ensureRestoredCluster } from '../shared/aws/snapshot-restore.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Restore the snapshot', async (state: MigrationState) => ensureRestoredCluster(state));
