// "Plan the copy": the target's tables, and the copy job's ranges in the target's cursor store.
import { stepHandler } from '../shared/handler.js';
import { planCopyStep } from '../shared/initial-load/steps/plan-copy.js';
import type { CopyPlanResult, FrozenSourceState, MigrationState } from '../shared/state.js';

export const handler = stepHandler('Plan the copy', (state: MigrationState & { frozenSource: FrozenSourceState }): Promise<CopyPlanResult> => planCopyStep(state));
