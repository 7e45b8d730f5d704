// "Plan the comparison": the tables and key ranges of the data comparison, stored in the target's
// cursor store; the state gets only the job's name, the endpoints and counts ($.diffPlan).
import { stepHandler } from '../shared/handler.js';
import { logStep } from '../shared/logger.js';
import { planDiffStep, type DiffState } from '../shared/verify/steps.js';

export const handler = stepHandler('Plan the comparison', async (state: DiffState) => {
  const plan = await planDiffStep(state);
  logStep('Plan the comparison', { job: plan.job, tables: plan.tables, ranges: plan.ranges, mode: plan.mode, resumed: plan.resumed });
  return plan;
});
