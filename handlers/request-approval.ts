// "Ask for cutover approval" (lambda:invoke.waitForTaskToken): keeps the task token where approve/reject
// find it by migrationId, and tells the people on the topic what the cutover will do. Its return value
// is ignored by Step Functions; the task ends when someone answers (or at the timeout).
import { stepHandler } from '../shared/handler.js';
import { logger, logStep } from '../shared/logger.js';
import { InputValidationError } from '../shared/errors.js';
import { buildApprovalRequest, type ApprovalTaskEvent } from '../shared/approval/request.js';
import { approvalStore } from '../shared/approval/current.js';
import { approvalNeeded, notificationTopics, publishNotification } from '../shared/notify/index.js';

export const handler = stepHandler('Ask for cutover approval', async (event: ApprovalTaskEvent) => {
  if (!event?.taskToken || !event.state?.input) {
    throw new InputValidationError([{ field: 'taskToken/state', message: 'the approval task needs {taskToken, state} (Payload of the waitForTaskToken task)' }]);
  }
  const request = buildApprovalRequest(event.state, event.taskToken, new Date());
  logger.appendKeys({ migrationId: request.migrationId, executionName: request.executionName });
  logStep('Ask for cutover approval', { expiresAt: request.expiresAt, lag: request.lag, plan: request.plan });
  await approvalStore().put(request);
  const { published } = await publishNotification(notificationTopics(event.state.input.notify?.topicArn), approvalNeeded(request));
  return { requested: true, migrationId: request.migrationId, expiresAt: request.expiresAt, notified: published };
});
