// "Check the comparison": progress and the (capped) report of the comparison job -> $.diff.
import { stepHandler } from '../shared/handler.js';
import { logStep } from '../shared/logger.js';
import { checkDiffStep, type DiffState } from '../shared/verify/steps.js';

export const handler = stepHandler('Check the comparison', async (state: DiffState) => {
  const diff = await checkDiffStep(state);
  logStep('Check the comparison', { job: diff.job, done: diff.done, verdict: diff.verdict, rows: diff.rowsCompared, differences: diff.differences });
  return diff;
});
