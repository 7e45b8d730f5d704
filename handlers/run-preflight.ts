import { stepHandler } from '../shared/handler.js';
import { runPreflight } from '../shared/preflight/run.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Run preflight checks', async (state: MigrationState) => runPreflight(state));
