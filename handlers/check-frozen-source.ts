// "Check the frozen source": polls the read replica or clone until it is stopped at a known position.
import { stepHandler } from '../shared/handler.js';
import { checkFrozenSourceStep } from '../shared/initial-load/steps/prepare-frozen-source.js';
import type { FrozenSourceState, MigrationState } from '../shared/state.js';

export const handler = stepHandler('Check the frozen source', (state: MigrationState & { frozenSource: FrozenSourceState }): Promise<FrozenSourceState> => checkFrozenSourceStep(state));
