import { stepHandler } from '../shared/handler.js';
import { cutOverStep } from '../shared/mysql/steps/cut-over.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Cut over', async (state: MigrationState) => cutOverStep(state));
