import { stepHandler } from '../shared/handler.js';
import { readCutoverRecordStep } from '../shared/mysql/steps/read-cutover-record.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Read the cutover record on the target', async (state: MigrationState) => readCutoverRecordStep(state));
