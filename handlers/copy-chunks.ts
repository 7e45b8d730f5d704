// "Copy chunks until the time budget": one worker slot of the copy's Map; it stops taking work two
// minutes before its Lambda would time out.
import { stepHandler } from '../shared/handler.js';
import { lambdaBudget } from '../shared/chunks/budget.js';
import { copyChunksStep, type CopyWorkerEvent } from '../shared/initial-load/steps/copy-chunks.js';

export const WORKER_MARGIN_MS = 120_000;

export const handler = stepHandler('Copy chunks until the time budget', (event: CopyWorkerEvent, ctx) => copyChunksStep(event, lambdaBudget(ctx.lambda, WORKER_MARGIN_MS)));
