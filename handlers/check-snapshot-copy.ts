import { stepHandler } from '../shared/handler.js';
import { checkSnapshotCopy } from '../shared/aws/snapshot-copy.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Check the snapshot copy', async (state: MigrationState) => checkSnapshotCopy(state));
