// "Report success": the migration's summary for the execution output and the topic.
import { stepHandler } from '../shared/handler.js';
import { logStep } from '../shared/logger.js';
import type { MigrationState } from '../shared/state.js';
import { notificationTopics, publishNotification, succeeded, summarizeSuccess, type SuccessSummary } from '../shared/notify/index.js';

export const handler = stepHandler('Report success', async (state: MigrationState): Promise<SuccessSummary> => {
  const summary = summarizeSuccess(state);
  logStep('Report success', summary);
  const { published } = await publishNotification(notificationTopics(state.input.notify?.topicArn), succeeded(summary));
  return { ...summary, notified: published };
});
