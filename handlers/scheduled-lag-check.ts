// EventBridge schedule (rate(1 minute)): checks replication of every running migration that is
// replicating or waiting for approval; publishes metrics, notifies, creates the per-migration alarms.
// The reader uses the MySQL side's inspection (same dialects, same heartbeat as "Check replication").
import { stepHandler } from '../shared/handler.js';
import { ApprovalTable } from '../shared/approval/table.js';
import { operationsConfig } from '../shared/operations/config.js';
import { runLagWatch } from '../shared/operations/lag-watch.js';
import { readReplicationSample } from '../shared/operations/replication-reader.js';

export const handler = stepHandler('Scheduled lag check', async () => {
  const outcomes = await runLagWatch({
    stateMachineArn: operationsConfig.stateMachineArn(),
    table: new ApprovalTable(),
    reader: readReplicationSample,
    namespace: operationsConfig.metricsNamespace(),
    topicArn: operationsConfig.topicArn(),
    lagAlertMinutes: operationsConfig.lagAlertMinutes(),
    createAlarms: true,
    alarmPrefix: process.env.CROSSMOVE_ALARM_PREFIX || 'crossmove',
  });
  return { checked: outcomes.filter((o) => o.checked).length, outcomes };
});
