export { notificationTopics, publishNotification, toSubject, type PublishResult } from './publish.js';
export { approvalNeeded, failed, succeeded, summarizeSuccess, type SuccessSummary } from './messages.js';
export { describeFailure, unwrapFailure, lastCompletedStep, type FailureReport } from './failure.js';
export { setSnsClient } from '../aws/sns.js';
export type { Notification, NotificationKind } from './types.js';
