// "Check the copy": the copy job's progress in the cursor store after a round of workers.
import { stepHandler } from '../shared/handler.js';
import { checkCopyStep } from '../shared/initial-load/steps/check-copy.js';
import type { CopyProgressState, MigrationState } from '../shared/state.js';

export const handler = stepHandler('Check the copy', (state: MigrationState): Promise<CopyProgressState> => checkCopyStep(state));
