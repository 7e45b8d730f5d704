// "Finish the copy": triggers, events and secondary keys once every range is done, then the copy's
// result; it waits for the keys until two minutes before its Lambda would time out.
import { stepHandler } from '../shared/handler.js';
import { lambdaBudget } from '../shared/chunks/budget.js';
import { finishCopyStep } from '../shared/initial-load/steps/finish-copy.js';
import type { CopyFinishResult, FrozenSourceState, MigrationState } from '../shared/state.js';

export const handler = stepHandler('Finish the copy', (state: MigrationState & { frozenSource: FrozenSourceState }, ctx): Promise<CopyFinishResult> => finishCopyStep(state, lambdaBudget(ctx.lambda, 120_000)));
