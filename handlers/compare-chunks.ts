// "Compare chunks until the time budget" (one Map iteration of statemachine/verify.asl.yaml): one
// comparison worker claims ranges and compares them until its Lambda time is nearly up.
import { stepHandler } from '../shared/handler.js';
import { logger } from '../shared/logger.js';
import { lambdaBudget } from '../shared/chunks/budget.js';
import { compareChunksStep, type CompareChunksEvent } from '../shared/verify/steps.js';

export const handler = stepHandler('Compare chunks until the time budget', async (event: CompareChunksEvent, { lambda }) => {
  const result = await compareChunksStep(event, lambdaBudget(lambda));
  logger.info('comparison worker finished', { ...result });
  return result;
});
