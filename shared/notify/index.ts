export { notificationTopics, publishNotification, toSubject } from './publish.js';
export { approvalNeeded, failed, succeeded, summarizeSuccess, type SuccessSummary } from './messages.js';
export { describeFailure, unwrapFailure, type FailureReport } from './failure.js';
export { setSnsClient } from '../aws/sns.js';
