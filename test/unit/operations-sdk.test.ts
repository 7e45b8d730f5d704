// Exact parameters of the operations' AWS calls (aws-sdk-client-mock, responses shaped like the API
// reference), and the cases moto cannot show: the next run's name, a racing start, SendTaskFailure's
// cause, a throttled answer, the lag from a running child execution.
import { CloudWatchClient, PutMetricAlarmCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  TaskTimedOut,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureMigrationAlarms } from '../../shared/metrics/alarms.js';
import { setCloudWatchClient } from '../../shared/aws/cloudwatch.js';
import { publishLagMetrics } from '../../shared/metrics/publish.js';
import { answerApproval } from '../../shared/approval/answer.js';
import { ApprovalTable } from '../../shared/approval/table.js';
import { setDynamoClient } from '../../shared/aws/dynamodb.js';
import { setSfnClient } from '../../shared/aws/sfn.js';
import { startMigration } from '../../shared/operations/start.js';
import { migrationStatus } from '../../shared/operations/status.js';

const SM = 'arn:aws:states:us-east-1:222222222222:stateMachine:crossmove-migration-dev';
const exec = (name: string) => `arn:aws:states:us-east-1:222222222222:execution:crossmove-migration-dev:${name}`;
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAe0token';
const TABLE = 'crossmove-approvals-dev';

const sfn = mockClient(SFNClient);
const ddb = mockClient(DynamoDBClient);
const cw = mockClient(CloudWatchClient);
setSfnClient(new SFNClient({}));
setDynamoClient(new DynamoDBClient({}));
setCloudWatchClient(new CloudWatchClient({}));

afterAll(() => {
  setSfnClient(undefined);
  setDynamoClient(undefined);
  setCloudWatchClient(undefined);
  sfn.restore();
  ddb.restore();
  cw.restore();
});

beforeEach(() => {
  sfn.reset();
  ddb.reset();
  cw.reset();
});

const rawInput = {
  migrationId: 'orders-2',
  source: { endpoint: { host: '10.0.0.5' }, adminSecret: 'env:SRC' },
  target: { endpoint: { host: '10.0.1.9' }, adminSecret: 'env:TGT' },
};

const pending = (o: Record<string, string> = {}) => ({
  Item: {
    migrationId: { S: 'orders-2' },
    taskToken: { S: TOKEN },
    executionName: { S: 'orders-2' },
    requestedAt: { S: '2026-11-24T09:00:00.000Z' },
    expiresAt: { S: '2026-11-27T09:00:00.000Z' },
    details: { S: JSON.stringify({ plan: ['Block writes'], commands: { approve: 'crossmove approve orders-2', reject: 'crossmove reject orders-2 --reason "<why>"' } }) },
    status: { S: 'pending' },
    ...Object.fromEntries(Object.entries(o).map(([k, v]) => [k, { S: v }])),
  },
});
const at = () => new Date('2026-11-24T10:00:00.000Z');

describe('start', () => {
  it('starts the next run as <id>--r2 with the raw input, after reading every page of executions', async () => {
    sfn
      .on(ListExecutionsCommand, { stateMachineArn: SM, nextToken: undefined })
      .resolves({ executions: [{ executionArn: exec('other'), stateMachineArn: SM, name: 'other', status: 'RUNNING', startDate: new Date() }], nextToken: 'p2' })
      .on(ListExecutionsCommand, { stateMachineArn: SM, nextToken: 'p2' })
      .resolves({ executions: [{ executionArn: exec('orders-2'), stateMachineArn: SM, name: 'orders-2', status: 'FAILED', startDate: new Date('2026-11-20') }] })
      .on(StartExecutionCommand)
      .resolves({ executionArn: exec('orders-2--r2'), startDate: new Date('2026-11-24T10:00:00Z') });
    const out = await startMigration(rawInput, SM);
    expect(out).toEqual({ migrationId: 'orders-2', executionName: 'orders-2--r2', executionArn: exec('orders-2--r2'), run: 2, startedAt: '2026-11-24T10:00:00.000Z' });
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input).toEqual({ stateMachineArn: SM, name: 'orders-2--r2', input: JSON.stringify(rawInput) });
  });

  it('answers a start that lost a race (ExecutionAlreadyExists) as "already running"', async () => {
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    await expect(startMigration(rawInput, SM)).rejects.toMatchObject({ name: 'MigrationAlreadyRunningError', message: expect.stringContaining('orders-2 is already running') });
  });

  it('never calls Step Functions for an invalid input', async () => {
    await expect(startMigration({ migrationId: 'x' }, SM)).rejects.toMatchObject({ name: 'InputValidationError' });
    expect(sfn.calls()).toHaveLength(0);
  });
});

describe('approval table and answers', () => {
  it('put stores the token apart from the details and resets the answer; the watch memory is untouched', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    await new ApprovalTable(TABLE).put({
      migrationId: 'orders-2',
      executionName: 'orders-2',
      taskToken: TOKEN,
      requestedAt: '2026-11-24T09:00:00.000Z',
      expiresAt: '2026-11-27T09:00:00.000Z',
      lag: null,
      plan: ['Block writes'],
      commands: { approve: 'a', reject: 'r' },
    });
    const input = ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      TableName: TABLE,
      Key: { migrationId: { S: 'orders-2' } },
      UpdateExpression: expect.stringContaining('REMOVE answeredBy, answeredAt, reason'),
    });
    expect(input.UpdateExpression).not.toContain('watch');
    expect(input.ExpressionAttributeValues![':details']!.S).not.toContain(TOKEN);
    expect(input.ExpressionAttributeValues![':token']).toEqual({ S: TOKEN });
  });

  it('reject: claims the answer conditionally, then SendTaskFailure(ApprovalRejected, "Rejected by <who>: <reason>")', async () => {
    ddb.on(GetItemCommand).resolves(pending()).on(UpdateItemCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});
    const out = await answerApproval(
      { migrationId: 'orders-2', decision: 'rejected', by: 'arn:aws:iam::222222222222:user/bob', reason: 'month-end batch' },
      { table: new ApprovalTable(TABLE), stateMachineArn: SM, now: at },
    );
    expect(out).toEqual({ migrationId: 'orders-2', executionName: 'orders-2', decision: 'rejected', by: 'arn:aws:iam::222222222222:user/bob', at: '2026-11-24T10:00:00.000Z', reason: 'month-end batch' });
    expect(ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input).toMatchObject({
      ConditionExpression: '#s = :pending AND taskToken = :token',
      ExpressionAttributeValues: expect.objectContaining({ ':status': { S: 'rejected' }, ':reason': { S: 'month-end batch' }, ':token': { S: TOKEN } }),
    });
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]!.args[0].input).toEqual({
      taskToken: TOKEN,
      error: 'ApprovalRejected',
      cause: 'Rejected by arn:aws:iam::222222222222:user/bob: month-end batch',
    });
  });

  it('approve: SendTaskSuccess with the ApprovalResult the state machine stores at $.approval', async () => {
    ddb.on(GetItemCommand).resolves(pending()).on(UpdateItemCommand).resolves({});
    sfn.on(SendTaskSuccessCommand).resolves({});
    await answerApproval({ migrationId: 'orders-2', decision: 'approved', by: 'alice' }, { table: new ApprovalTable(TABLE), stateMachineArn: SM, now: at });
    expect(JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input.output!)).toEqual({ approved: true, by: 'alice', at: '2026-11-24T10:00:00.000Z' });
  });

  it('two people at once: the conditional update lets one win, the other gets 409 naming the winner', async () => {
    ddb
      .on(GetItemCommand)
      .resolvesOnce(pending())
      .resolves(pending({ status: 'approved', answeredBy: 'alice', answeredAt: '2026-11-24T09:59:59.000Z' }));
    ddb.on(UpdateItemCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    await expect(
      answerApproval({ migrationId: 'orders-2', decision: 'approved', by: 'bob' }, { table: new ApprovalTable(TABLE), stateMachineArn: SM, now: at }),
    ).rejects.toMatchObject({ name: 'ApprovalAlreadyAnsweredError', message: expect.stringContaining('already approved by alice at 2026-11-24T09:59:59.000Z') });
    expect(sfn.calls()).toHaveLength(0);
  });

  it('TaskTimedOut from Step Functions: 410 and the record marked expired', async () => {
    ddb.on(GetItemCommand).resolves(pending()).on(UpdateItemCommand).resolves({});
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    await expect(
      answerApproval({ migrationId: 'orders-2', decision: 'approved', by: 'alice' }, { table: new ApprovalTable(TABLE), stateMachineArn: SM, now: at }),
    ).rejects.toMatchObject({ name: 'ApprovalExpiredError', message: expect.stringContaining('(TaskTimedOut)') });
    const last = ddb.commandCalls(UpdateItemCommand).at(-1)!.args[0].input;
    expect(last.ExpressionAttributeValues![':status']).toEqual({ S: 'expired' });
  });

  it('a throttled SendTaskSuccess reopens the request so it can be answered again', async () => {
    ddb.on(GetItemCommand).resolves(pending()).on(UpdateItemCommand).resolves({});
    sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(
      answerApproval({ migrationId: 'orders-2', decision: 'approved', by: 'alice' }, { table: new ApprovalTable(TABLE), stateMachineArn: SM, now: at }),
    ).rejects.toMatchObject({ name: 'ThrottlingException' });
    const last = ddb.commandCalls(UpdateItemCommand).at(-1)!.args[0].input;
    expect(last.ExpressionAttributeValues![':status']).toEqual({ S: 'pending' });
    expect(last.UpdateExpression).toContain('REMOVE answeredBy');
  });
});

describe('metrics and alarms', () => {
  it('PutMetricData: each measurable figure per migration and stack-wide; unmeasurable ones left out', async () => {
    cw.on(PutMetricDataCommand).resolves({});
    const when = new Date('2026-11-24T10:00:00.000Z');
    const n = await publishLagMetrics('Crossmove', 'orders-2', { heartbeatLagMs: 350, byteLag: null, ioRunning: true, sqlRunning: true }, when);
    expect(n).toBe(4);
    expect(cw.commandCalls(PutMetricDataCommand)[0]!.args[0].input).toEqual({
      Namespace: 'Crossmove',
      MetricData: [
        { MetricName: 'HeartbeatLagMs', Value: 350, Unit: 'Milliseconds', Timestamp: when, Dimensions: [{ Name: 'MigrationId', Value: 'orders-2' }] },
        { MetricName: 'HeartbeatLagMs', Value: 350, Unit: 'Milliseconds', Timestamp: when },
        { MetricName: 'ReplicationRunning', Value: 1, Unit: 'Count', Timestamp: when, Dimensions: [{ Name: 'MigrationId', Value: 'orders-2' }] },
        { MetricName: 'ReplicationRunning', Value: 1, Unit: 'Count', Timestamp: when },
      ],
    });
  });

  it('PutMetricAlarm: lag above maxLagSeconds for N minutes, replication stopped; actions to the topic', async () => {
    cw.on(PutMetricAlarmCommand).resolves({});
    await ensureMigrationAlarms({ namespace: 'Crossmove', migrationId: 'orders-2', maxLagSeconds: 1.5, lagAlertMinutes: 5, topicArn: 'arn:aws:sns:us-east-1:222222222222:t', prefix: 'crossmove-dev' });
    const [lag, stopped] = cw.commandCalls(PutMetricAlarmCommand).map((c) => c.args[0].input);
    expect(lag).toMatchObject({ AlarmName: 'crossmove-dev-orders-2-heartbeat-lag', Threshold: 1500, EvaluationPeriods: 5, Statistic: 'Maximum', Period: 60, AlarmActions: ['arn:aws:sns:us-east-1:222222222222:t'], TreatMissingData: 'notBreaching' });
    expect(stopped).toMatchObject({ AlarmName: 'crossmove-dev-orders-2-replication-stopped', MetricName: 'ReplicationRunning', Threshold: 1, ComparisonOperator: 'LessThanThreshold' });
  });
});

describe('status while a monitoring window runs', () => {
  it('takes the lag from the child execution the parent started', async () => {
    const child = 'arn:aws:states:us-east-1:222222222222:execution:crossmove-lag-monitor-dev:8f1c';
    const t = (s: number) => new Date(Date.UTC(2026, 10, 24, 9, 0, s));
    const state = { input: { migrationId: 'orders-2', names: { executionName: 'orders-2' } }, lag: { heartbeatLagMs: 9000, ioRunning: true, sqlRunning: true } };
    const parent: HistoryEvent[] = [
      { id: 1, timestamp: t(0), type: 'ExecutionStarted', executionStartedEventDetails: { input: '{}' } },
      { id: 2, timestamp: t(1), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Start replication on the target', input: JSON.stringify(state) } },
      { id: 3, timestamp: t(2), type: 'TaskStateExited', stateExitedEventDetails: { name: 'Start replication on the target', output: JSON.stringify(state) } },
      { id: 4, timestamp: t(3), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Watch replication for one window', input: JSON.stringify(state) } },
      { id: 5, timestamp: t(3), type: 'TaskScheduled', taskScheduledEventDetails: { resourceType: 'states', resource: 'startExecution.sync:2', region: 'us-east-1', parameters: '{}' } },
      { id: 6, timestamp: t(3), type: 'TaskStarted', taskStartedEventDetails: { resourceType: 'states', resource: 'startExecution.sync:2' } },
      { id: 7, timestamp: t(4), type: 'TaskSubmitted', taskSubmittedEventDetails: { resourceType: 'states', resource: 'startExecution.sync:2', output: JSON.stringify({ ExecutionArn: child, StartDate: 1 }) } },
    ];
    const childEvents: HistoryEvent[] = [
      { id: 12, timestamp: t(50), type: 'TaskStateExited', stateExitedEventDetails: { name: 'Check replication', output: JSON.stringify({ lag: { heartbeatLagMs: 420, byteLag: 1024, secondsBehind: 0, ioRunning: true, sqlRunning: true, checkedAt: 'T2', caughtUp: false, underLimit: true } }) } },
      { id: 2, timestamp: t(10), type: 'TaskStateExited', stateExitedEventDetails: { name: 'Check replication', output: JSON.stringify({ lag: { heartbeatLagMs: 800, ioRunning: true, sqlRunning: true, checkedAt: 'T1' } }) } },
    ];
    sfn
      .on(ListExecutionsCommand)
      .resolves({ executions: [{ executionArn: exec('orders-2'), stateMachineArn: SM, name: 'orders-2', status: 'RUNNING', startDate: t(0) }] })
      .on(DescribeExecutionCommand)
      .resolves({ executionArn: exec('orders-2'), stateMachineArn: SM, status: 'RUNNING', startDate: t(0) })
      .on(GetExecutionHistoryCommand, { executionArn: exec('orders-2') })
      .resolves({ events: parent })
      .on(GetExecutionHistoryCommand, { executionArn: child })
      .resolves({ events: childEvents });
    ddb.on(GetItemCommand).resolves({});
    const st = await migrationStatus('orders-2', SM, new ApprovalTable(TABLE));
    expect(st).toMatchObject({
      phase: 'replicating',
      currentState: 'Watch replication for one window',
      lag: { heartbeatLagMs: 420, byteLag: 1024, checkedAt: 'T2' },
      replication: { health: 'running' },
      approval: null,
    });
    expect(sfn.commandCalls(GetExecutionHistoryCommand).find((c) => c.args[0].input.executionArn === child)!.args[0].input).toMatchObject({ reverseOrder: true, includeExecutionData: true });
  });
});
