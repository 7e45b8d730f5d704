// "Report the failure" / "Report that approval was not given": names the error cleanly for the Fail
// state that follows and tells the people on the topic what happened and what was already done.
import { stepHandler } from '../shared/handler.js';
import { logStep } from '../shared/logger.js';
import type { FailureInfo, MigrationState } from '../shared/state.js';
import { describeFailure, failed, notificationTopics, publishNotification, type FailureReport } from '../shared/notify/index.js';

type FailedState = Partial<MigrationState> & { approvalFailure?: FailureInfo };

export const handler = stepHandler('Report the failure', async (state: FailedState): Promise<FailureReport> => {
  const report = describeFailure(state);
  logStep('Report the failure', { outcome: report.outcome, error: report.error, lastCompletedStep: report.lastCompletedStep });
  // Before validation the state is the raw input: its topic is unchecked, so only a validated one is used.
  const { published } = await publishNotification(notificationTopics(state.input?.notify?.topicArn), failed(report));
  return { ...report, notified: published };
});
