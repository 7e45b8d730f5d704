import { stepHandler } from '../shared/handler.js';
import { ensureSnapshotShared } from '../shared/aws/snapshot-source.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Share the snapshot', async (state: MigrationState) => ensureSnapshotShared(state));
