// The scheduled lag check against moto: a running execution replicating (state machine really
// running), the reader injected (the MySQL side's own check is tested with MariaDB by its owner),
// metrics in CloudWatch, per-migration alarms, the table's memory, SNS notifications delivered to an
// SQS queue subscribed to the topic: once per episode, no secret in them.
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricStatisticsCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { validateMigrationInput } from '../../shared/input/validate.js';
import { setCloudWatchClient } from '../../shared/aws/cloudwatch.js';
import { setSnsClient } from '../../shared/aws/sns.js';
import { ApprovalTable } from '../../shared/approval/table.js';
import { setDynamoClient } from '../../shared/aws/dynamodb.js';
import type { ReplicationSample } from '../../shared/operations/lag-rules.js';
import { runLagWatch, type LagWatchDeps } from '../../shared/operations/lag-watch.js';
import { setSfnClient } from '../../shared/aws/sfn.js';
import { migrationStatus } from '../../shared/operations/status.js';
import { registerSecretValue } from '../../shared/redact.js';
import type { MigrationState } from '../../shared/state.js';
import { motoSqs, snsMessages, startMoto, type MotoServer } from '../support/moto-ops.js';

const TABLE = 'crossmove-approvals-test';
let moto: MotoServer;
let sfn: SFNClient;
let cw: CloudWatchClient;
let topicArn: string;
let queueUrl: string;
let stateMachineArn: string;

const sqs = (action: string, payload: object) => motoSqs(moto, action, payload);
const received = () => snsMessages(moto, queueUrl);

function replicatingState(migrationId: string): MigrationState {
  const input = validateMigrationInput({
    migrationId,
    source: { endpoint: { host: '10.0.0.5', port: 3306 }, adminSecret: 'env:SOURCE_ADMIN' },
    target: { endpoint: { host: '10.0.1.9', port: 3306 }, adminSecret: 'env:TARGET_ADMIN' },
    initialLoad: { method: 'logical' },
    replication: { ssl: false, maxLagSeconds: 1 },
    notify: { topicArn: 'arn:aws:sns:us-east-1:123456789012:crossmove-test-notifications' },
  });
  return {
    input,
    accounts: { source: null, target: null, sameAccount: true, sourceRegion: null, targetRegion: null },
    replication: { sourceHost: '10.0.0.5', sourcePort: 3306, startedAt: '2026-11-24T08:00:00.000Z', from: { file: 'mysql-bin.000003', position: 4 }, targetEngine: 'mariadb' },
  };
}

const sample = (o: Partial<ReplicationSample> = {}): ReplicationSample => ({
  heartbeatLagMs: 200,
  byteLag: 0,
  secondsBehind: 0,
  ioRunning: true,
  sqlRunning: true,
  ...o,
});

beforeAll(async () => {
  moto = await startMoto({ executeStateMachines: true });
  sfn = new SFNClient(moto.clientConfig());
  cw = new CloudWatchClient(moto.clientConfig());
  setSfnClient(sfn);
  setDynamoClient(new DynamoDBClient(moto.clientConfig()));
  setCloudWatchClient(cw);
  setSnsClient(new SNSClient(moto.clientConfig()));
});

afterAll(async () => {
  setSfnClient(undefined);
  setDynamoClient(undefined);
  setCloudWatchClient(undefined);
  setSnsClient(undefined);
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  await new DynamoDBClient(moto.clientConfig()).send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'migrationId', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'migrationId', AttributeType: 'S' }],
    }),
  );
  const sns = new SNSClient(moto.clientConfig());
  topicArn = (await sns.send(new CreateTopicCommand({ Name: 'crossmove-test-notifications' }))).TopicArn!;
  queueUrl = (await sqs('CreateQueue', { QueueName: 'ops-inbox' })).QueueUrl;
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: 'arn:aws:sqs:us-east-1:123456789012:ops-inbox' }));
  stateMachineArn = (
    await sfn.send(
      new CreateStateMachineCommand({
        name: 'crossmove-migration-test',
        // Stands still in the lag loop's state, like a migration between two checks.
        definition: JSON.stringify({ StartAt: 'Watch replication for one window', States: { 'Watch replication for one window': { Type: 'Wait', Seconds: 600, End: true } } }),
        roleArn: 'arn:aws:iam::123456789012:role/sfn',
      }),
    )
  ).stateMachineArn!;
});

describe('scheduled lag check', () => {
  it('publishes metrics, creates the alarms once, and notifies once per episode (lag above N minutes, broken)', async () => {
    await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'orders-9', input: JSON.stringify(replicatingState('orders-9')) }));
    const table = new ApprovalTable(TABLE);
    let now = new Date('2026-11-24T09:00:00.000Z');
    let next = sample();
    const seen: MigrationState[] = [];
    const deps: LagWatchDeps = {
      stateMachineArn,
      table,
      reader: async (state) => {
        seen.push(state);
        return next;
      },
      namespace: 'Crossmove',
      topicArn,
      lagAlertMinutes: 5,
      createAlarms: true,
      alarmPrefix: 'crossmove-test',
      now: () => now,
    };
    const minutes = (m: number) => (now = new Date(now.getTime() + m * 60_000));

    // 1. Healthy: metrics (3 figures x 2 series), alarms, no notification.
    const [first] = await runLagWatch(deps);
    expect(first).toMatchObject({ migrationId: 'orders-9', executionName: 'orders-9', checked: true, metrics: 6, notifications: [] });
    expect(seen[0]!.input.names.executionName).toBe('orders-9');
    const alarms = (await cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'crossmove-test-orders-9' }))).MetricAlarms!;
    expect(alarms.map((a) => [a.AlarmName, a.MetricName, a.Threshold, a.ComparisonOperator])).toEqual(
      expect.arrayContaining([
        ['crossmove-test-orders-9-heartbeat-lag', 'HeartbeatLagMs', 1000, 'GreaterThanThreshold'],
        ['crossmove-test-orders-9-replication-stopped', 'ReplicationRunning', 1, 'LessThanThreshold'],
      ]),
    );

    // 2. Above the limit: remembered, not yet notified.
    minutes(1);
    next = sample({ heartbeatLagMs: 5000, byteLag: 123456 });
    expect((await runLagWatch(deps))[0]!.notifications).toEqual([]);
    expect(await table.watch('orders-9')).toMatchObject({ aboveSince: '2026-11-24T09:01:00.000Z', lagNotified: false });

    // 3. Still above 5 minutes later: one notification; 4. a minute later: no second one.
    minutes(5);
    next = sample({ heartbeatLagMs: 6000, byteLag: 234567 });
    expect((await runLagWatch(deps))[0]!.notifications).toEqual(['lag-above-limit']);
    minutes(1);
    expect((await runLagWatch(deps))[0]!.notifications).toEqual([]);

    // 5. Broken, with a secret in the server's error text: one notification, secret masked; 6. no repeat.
    registerSecretValue('Repl-Pa55-word-9');
    minutes(1);
    next = sample({ ioRunning: false, heartbeatLagMs: null, byteLag: null, lastError: "error connecting to master 'crossmove_repl@10.0.0.5:3306' (using password Repl-Pa55-word-9)" });
    expect((await runLagWatch(deps))[0]!.notifications).toEqual(['replication-broken']);
    minutes(1);
    expect((await runLagWatch(deps))[0]!.notifications).toEqual([]);

    // The stack's topic and the input's notify.topicArn are the same here: each message once.
    const messages = await received();
    expect(messages.map((m) => m.Subject)).toEqual(['crossmove orders-9: lag above 1 s for 5 min', 'crossmove orders-9: replication is broken']);
    expect(messages[0]!.Message).toContain('Heartbeat lag: 6000 ms; byte lag: 234567 bytes.');
    expect(messages[1]!.Message).toContain('IO thread running: false; SQL thread running: true.');
    expect(messages[1]!.Message).toContain('crossmove status orders-9');
    expect(JSON.stringify(messages)).not.toContain('Repl-Pa55-word-9');
    expect(messages[0]!.MessageAttributes.kind!.Value).toBe('lag-above-limit');

    // Metrics per migration and stack-wide.
    const listed = (await cw.send(new ListMetricsCommand({ Namespace: 'Crossmove' }))).Metrics!;
    const perMigration = listed.filter((m) => m.Dimensions?.some((d) => d.Name === 'MigrationId' && d.Value === 'orders-9')).map((m) => m.MetricName);
    expect(new Set(perMigration)).toEqual(new Set(['HeartbeatLagMs', 'ByteLag', 'ReplicationRunning']));
    const running = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'Crossmove',
        MetricName: 'ReplicationRunning',
        Dimensions: [{ Name: 'MigrationId', Value: 'orders-9' }],
        StartTime: new Date('2026-11-24T08:00:00.000Z'),
        EndTime: new Date('2026-11-24T10:00:00.000Z'),
        Period: 3600,
        Statistics: ['Minimum', 'Maximum', 'SampleCount'],
      }),
    );
    expect(running.Datapoints).toEqual([expect.objectContaining({ Minimum: 0, Maximum: 1, SampleCount: 6 })]);

    // Status shows the lag check's newest reading (fresher than the execution's own last check).
    expect(await migrationStatus('orders-9', stateMachineArn, table)).toMatchObject({
      phase: 'replicating',
      currentState: 'Watch replication for one window',
      lag: { heartbeatLagMs: null, checkedAt: now.toISOString() },
      replication: { health: 'broken', ioRunning: false, sqlRunning: true },
    });
  });

  it('keeps its memory when the target cannot be read this minute (no false "broken")', async () => {
    await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'orders-10', input: JSON.stringify(replicatingState('orders-10')) }));
    const [outcome] = await runLagWatch({
      stateMachineArn,
      table: new ApprovalTable(TABLE),
      reader: async () => {
        throw Object.assign(new Error('connect ETIMEDOUT 10.0.1.9:3306'), { name: 'TransientError' });
      },
      namespace: 'Crossmove',
      topicArn,
      lagAlertMinutes: 5,
    });
    expect(outcome).toMatchObject({ checked: false, error: 'TransientError: connect ETIMEDOUT 10.0.1.9:3306' });
    expect(await new ApprovalTable(TABLE).watch('orders-10')).toBeNull();
    expect(await received()).toEqual([]);
  });
});
