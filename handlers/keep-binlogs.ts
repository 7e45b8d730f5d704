import { stepHandler } from '../shared/handler.js';
import { keepBinlogsStep } from '../shared/mysql/steps/keep-binlogs.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Keep binlogs long enough', async (state: MigrationState) => keepBinlogsStep(state));
