// The scheduled lag check handler end to end: two real MariaDB servers replicating, a running
// execution in moto whose state points at them, and moto's CloudWatch, DynamoDB and SNS (-> SQS).
// A healthy replica gives a real heartbeat lag; a stopped SQL thread gives the "broken" notification.
import { CloudWatchClient, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as scheduledLagCheck } from '../../handlers/scheduled-lag-check.js';
import { ADMIN_PASSWORD, ADMIN_USER, type MariaDbServer } from '../../local/mariadb.js';
import { localLambdaContext } from '../../shared/handler.js';
import { setCloudWatchClient } from '../../shared/aws/cloudwatch.js';
import { setSnsClient } from '../../shared/aws/sns.js';
import { ensureHeartbeatTable } from '../../shared/mysql/heartbeat.js';
import { setDynamoClient } from '../../shared/aws/dynamodb.js';
import { setSfnClient } from '../../shared/aws/sfn.js';
import type { WatchOutcome } from '../../shared/operations/lag-watch.js';
import { startServers, stateFor, until, useLocalSecrets } from '../db/fixtures.js';
import { motoSqs, snsMessages, startMoto, type MotoServer } from '../support/moto-ops.js';
import { TABLE } from '../support/ops-fixtures.js';
import { SendRecorder } from '../support/iam/send-recorder.js';
import { packagedRoles, stackSimulation, type PackagedRoles } from '../support/iam/roles.js';
import { allowedMutants, deniedCalls } from '../support/iam/simulate.js';
import { unintended } from '../support/iam/breadth.js';

let moto: MotoServer;
let source: MariaDbServer;
let target: MariaDbServer;
let queueUrl: string;

async function sql(server: MariaDbServer, statement: string): Promise<any[]> {
  const c = await server.connect();
  try {
    const [rows] = await c.query(statement);
    return rows as any[];
  } finally {
    await c.end();
  }
}

// Its AWS calls are recorded (against moto) for the simulation of its packaged role at the end.
const recorder = new SendRecorder({ states: SFNClient, dynamodb: DynamoDBClient, cloudwatch: CloudWatchClient, sns: SNSClient }, () => '123456789012');
let packaged: PackagedRoles;
const check = async () =>
  (await recorder.as('scheduledLagCheck', () => scheduledLagCheck({ 'detail-type': 'Scheduled Event', source: 'aws.events' } as never, localLambdaContext('scheduledLagCheck')))) as {
    checked: number;
    outcomes: WatchOutcome[];
  };

beforeAll(async () => {
  useLocalSecrets();
  [moto, [source, target], packaged] = await Promise.all([startMoto({ executeStateMachines: true }), startServers(2, 41), packagedRoles('123456789012')]);
  recorder.install();

  // Replication source -> target from the source's current position, with the heartbeat table.
  const [pos] = await sql(source, 'SHOW MASTER STATUS');
  await sql(
    target,
    `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${source.port}, MASTER_USER='${ADMIN_USER}', MASTER_PASSWORD='${ADMIN_PASSWORD}', MASTER_LOG_FILE='${pos.File}', MASTER_LOG_POS=${pos.Position}`,
  );
  await sql(target, 'START SLAVE');
  const state = stateFor(source, target, { migrationId: 'orders-40' });
  const c = await source.connect();
  await ensureHeartbeatTable(c as never, state.input.names.heartbeatSchema);
  await c.end();

  const cfg = moto.clientConfig();
  const sfn = new SFNClient(cfg);
  setSfnClient(sfn);
  setDynamoClient(new DynamoDBClient(cfg));
  setCloudWatchClient(new CloudWatchClient(cfg));
  const sns = new SNSClient(cfg);
  setSnsClient(sns);
  await new DynamoDBClient(cfg).send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'migrationId', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'migrationId', AttributeType: 'S' }],
    }),
  );
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: 'crossmove-test-notifications' }))).TopicArn!;
  queueUrl = (await motoSqs(moto, 'CreateQueue', { QueueName: 'ops' })).QueueUrl;
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: 'arn:aws:sqs:us-east-1:123456789012:ops' }));
  const stateMachineArn = (
    await sfn.send(
      new CreateStateMachineCommand({
        name: 'crossmove-migration-test',
        definition: JSON.stringify({ StartAt: 'Watch replication for one window', States: { 'Watch replication for one window': { Type: 'Wait', Seconds: 600, End: true } } }),
        roleArn: 'arn:aws:iam::123456789012:role/sfn',
      }),
    )
  ).stateMachineArn!;
  const replicating = {
    ...state,
    replication: { sourceHost: '127.0.0.1', sourcePort: source.port, startedAt: new Date().toISOString(), from: { file: pos.File, position: Number(pos.Position) }, targetEngine: 'mariadb' },
  };
  await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'orders-40', input: JSON.stringify(replicating) }));
  Object.assign(process.env, {
    CROSSMOVE_STATE_MACHINE_ARN: stateMachineArn,
    CROSSMOVE_APPROVAL_TABLE: TABLE,
    CROSSMOVE_TOPIC_ARN: topicArn,
    CROSSMOVE_ALARM_PREFIX: 'crossmove-test',
  });
}, 330_000);

afterAll(async () => {
  recorder.uninstall();
  setSfnClient(undefined);
  setDynamoClient(undefined);
  setCloudWatchClient(undefined);
  setSnsClient(undefined);
  await Promise.allSettled([source?.stop(), target?.stop(), moto?.stop()]);
});

describe('scheduled lag check handler (real replicas)', () => {
  it('measures a healthy replica: heartbeat lag, byte lag, replication running, metrics published', async () => {
    const out = await check();
    expect(out.checked).toBe(1);
    const o = out.outcomes[0]!;
    expect(o).toMatchObject({ migrationId: 'orders-40', checked: true, notifications: [], sample: { ioRunning: true, sqlRunning: true } });
    // The status is read before the check's own heartbeat row is written: at most that row behind.
    expect(o.sample!.byteLag).toBeGreaterThanOrEqual(0);
    expect(o.sample!.byteLag!).toBeLessThan(4096);
    console.log(`figure: heartbeat lag ${o.sample!.heartbeatLagMs} ms, byte lag ${o.sample!.byteLag}`);
    expect(o.sample!.heartbeatLagMs).toEqual(expect.any(Number));
    expect(o.sample!.heartbeatLagMs!).toBeLessThan(1000);
    const metrics = (await new CloudWatchClient(moto.clientConfig()).send(new ListMetricsCommand({ Namespace: 'Crossmove', Dimensions: [{ Name: 'MigrationId', Value: 'orders-40' }] }))).Metrics!;
    expect(new Set(metrics.map((m) => m.MetricName))).toEqual(new Set(['HeartbeatLagMs', 'ByteLag', 'ReplicationRunning']));
    expect(await snsMessages(moto, queueUrl)).toEqual([]);
  });

  it('a stopped SQL thread is reported as broken, once, without the admin password', async () => {
    await sql(target, 'STOP SLAVE SQL_THREAD');
    await until(async () => (await sql(target, 'SHOW SLAVE STATUS'))[0]?.Slave_SQL_Running === 'No');
    const first = (await check()).outcomes[0]!;
    expect(first).toMatchObject({ checked: true, notifications: ['replication-broken'], sample: { sqlRunning: false, heartbeatLagMs: null } });
    expect((await check()).outcomes[0]!.notifications).toEqual([]);
    const messages = await snsMessages(moto, queueUrl);
    expect(messages.map((m) => m.Subject)).toEqual(['crossmove orders-40: replication is broken']);
    expect(JSON.stringify(messages)).not.toContain(ADMIN_PASSWORD);
  });

  it('every call the checks sent is allowed by the packaged ScheduledLagCheckRole; a wrong resource is denied', async () => {
    const calls = await recorder.recorded();
    expect(new Set(calls.map((c) => `${c.service}:${c.operation}`))).toEqual(
      new Set(['states:ListExecutions', 'states:GetExecutionHistory', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'cloudwatch:PutMetricData', 'cloudwatch:PutMetricAlarm', 'sns:Publish']),
    );
    const setup = stackSimulation(packaged);
    expect(await deniedCalls(calls, setup)).toEqual([]);
    expect(unintended(await allowedMutants(calls, setup))).toEqual([]);
  });
});
