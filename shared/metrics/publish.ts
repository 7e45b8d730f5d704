// CloudWatch metrics of one replication check. Each figure goes out twice: with the MigrationId
// dimension (per-migration graphs and alarms) and without any (the stack's static alarms watch the
// worst migration, since CloudFormation cannot know migration ids in advance).
import { PutMetricDataCommand, type MetricDatum, type StandardUnit } from '@aws-sdk/client-cloudwatch';
import { cloudWatchClient } from '../aws/cloudwatch.js';

export const METRIC_NAMES = { heartbeatLag: 'HeartbeatLagMs', byteLag: 'ByteLag', running: 'ReplicationRunning' } as const;

export interface LagSample {
  heartbeatLagMs: number | null;
  byteLag: number | null;
  ioRunning: boolean;
  sqlRunning: boolean;
}

function lagMetricData(migrationId: string, sample: LagSample, at: Date): MetricDatum[] {
  const figures: [string, number | null, StandardUnit][] = [
    [METRIC_NAMES.heartbeatLag, sample.heartbeatLagMs, 'Milliseconds'],
    [METRIC_NAMES.byteLag, sample.byteLag, 'Bytes'],
    [METRIC_NAMES.running, sample.ioRunning && sample.sqlRunning ? 1 : 0, 'Count'],
  ];
  const data: MetricDatum[] = [];
  for (const [MetricName, value, Unit] of figures) {
    // A figure that could not be measured is left out rather than sent as 0 (0 would look healthy).
    if (value === null || !Number.isFinite(value)) continue;
    data.push({ MetricName, Value: value, Unit, Timestamp: at, Dimensions: [{ Name: 'MigrationId', Value: migrationId }] });
    data.push({ MetricName, Value: value, Unit, Timestamp: at });
  }
  return data;
}

export async function publishLagMetrics(namespace: string, migrationId: string, sample: LagSample, at: Date): Promise<number> {
  const data = lagMetricData(migrationId, sample, at);
  if (data.length) await cloudWatchClient().send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data }));
  return data.length;
}
