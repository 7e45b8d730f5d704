// Per-migration alarms, created by the scheduled lag check the first time it sees a migration
// replicating (PutMetricAlarm is idempotent by name). Missing data counts as fine: once the migration
// is over no figures arrive and the alarms fall quiet instead of firing.
import { DeleteAlarmsCommand, DescribeAlarmsCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { awsCall } from '../aws/call.js';
import { cloudWatchClient } from '../aws/cloudwatch.js';
import { METRIC_NAMES } from './publish.js';

export interface AlarmOptions {
  namespace: string;
  migrationId: string;
  maxLagSeconds: number;
  /** Minutes the lag may stay above the limit before the alarm fires. */
  lagAlertMinutes: number;
  topicArn: string | null;
  prefix?: string;
}

export function alarmNames(prefix: string, migrationId: string) {
  return { lag: `${prefix}-${migrationId}-heartbeat-lag`, stopped: `${prefix}-${migrationId}-replication-stopped` };
}

export async function ensureMigrationAlarms(o: AlarmOptions): Promise<string[]> {
  const names = alarmNames(o.prefix ?? 'crossmove', o.migrationId);
  const actions = o.topicArn ? { AlarmActions: [o.topicArn], OKActions: [o.topicArn] } : {};
  const common = {
    Namespace: o.namespace,
    Dimensions: [{ Name: 'MigrationId', Value: o.migrationId }],
    Period: 60,
    TreatMissingData: 'notBreaching' as const,
    ...actions,
  };
  await cloudWatchClient().send(
    new PutMetricAlarmCommand({
      ...common,
      AlarmName: names.lag,
      AlarmDescription: `crossmove ${o.migrationId}: heartbeat lag above ${o.maxLagSeconds} s for ${o.lagAlertMinutes} min`,
      MetricName: METRIC_NAMES.heartbeatLag,
      Statistic: 'Maximum',
      Threshold: o.maxLagSeconds * 1000,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: Math.max(1, Math.round(o.lagAlertMinutes)),
    }),
  );
  await cloudWatchClient().send(
    new PutMetricAlarmCommand({
      ...common,
      AlarmName: names.stopped,
      AlarmDescription: `crossmove ${o.migrationId}: replication stopped (IO or SQL thread not running)`,
      MetricName: METRIC_NAMES.running,
      Statistic: 'Minimum',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 2,
    }),
  );
  return [names.lag, names.stopped];
}

/** Which of `names` exist (DescribeAlarms by name; at most 100 names per call, we pass two). */
export async function existingAlarms(names: string[]): Promise<string[]> {
  const out = await awsCall(`CloudWatch DescribeAlarms ${names.join(',')}`, () => cloudWatchClient().send(new DescribeAlarmsCommand({ AlarmNames: names })));
  return (out?.MetricAlarms ?? []).map((a) => a.AlarmName!).filter((n) => names.includes(n));
}

/** Deletes alarms that exist (DeleteAlarms fails as a whole when one name is unknown). */
export async function deleteAlarms(names: string[]): Promise<void> {
  if (!names.length) return;
  await awsCall(`CloudWatch DeleteAlarms ${names.join(',')}`, () => cloudWatchClient().send(new DeleteAlarmsCommand({ AlarmNames: names })));
}
