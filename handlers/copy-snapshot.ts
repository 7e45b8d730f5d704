import { stepHandler } from '../shared/handler.js';
import { ensureSnapshotCopy } from '../shared/aws/snapshot-copy.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Copy the snapshot', async (state: MigrationState) => ensureSnapshotCopy(state));
