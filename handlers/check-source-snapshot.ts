import { stepHandler } from '../shared/handler.js';
import { checkSourceSnapshot } from '../shared/aws/snapshot-source.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Check the source snapshot', async (state: MigrationState) => checkSourceSnapshot(state));
