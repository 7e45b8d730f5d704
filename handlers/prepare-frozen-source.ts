// "Prepare the frozen source": what the logical copy reads, and the source binlog position of its data.
import { stepHandler } from '../shared/handler.js';
import { prepareFrozenSourceStep } from '../shared/initial-load/steps/prepare-frozen-source.js';
import type { FrozenSourceState, MigrationState } from '../shared/state.js';

export const handler = stepHandler('Prepare the frozen source', (state: MigrationState): Promise<FrozenSourceState> => prepareFrozenSourceStep(state));
