// The net for the database steps' AWS calls: a whole migration, then its fallback and cleanup, run by
// the local state machine runner with every Task bound to its real handler, between two real MariaDB
// servers, while every AWS call goes to moto (admin secrets in Secrets Manager, the replication users'
// secrets written there, DNS in Route 53, notifications to SNS). Each call is recorded with the function
// that sent it and evaluated against that function's packaged role (IAM simulated: moto enforces none).
// A step that starts calling something its role does not grant fails here, naming the call.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { STSClient } from '@aws-sdk/client-sts';
import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { KMSClient } from '@aws-sdk/client-kms';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RAMClient } from '@aws-sdk/client-ram';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMariaDb, type MariaDbServer } from '../../local/mariadb.js';
import { startMoto, type Moto } from '../support/moto.js';
import { SendRecorder } from '../support/iam/send-recorder.js';
import { packagedRoles, type PackagedRoles } from '../support/iam/roles.js';
import { allowedMutants, deniedCalls, type SimulationSetup } from '../support/iam/simulate.js';
import { unintended } from '../support/iam/breadth.js';

const MOTO_ACCOUNT = '123456789012';
const dir = mkdtempSync(join(tmpdir(), 'crossmove-e2e-iam-'));
const sink = new Writable({ write: (_c, _e, cb) => cb() }) as unknown as NodeJS.WriteStream;
const recorder = new SendRecorder(
  { secretsmanager: SecretsManagerClient, sns: SNSClient, route53: Route53Client, sts: STSClient, ec2: EC2Client, rds: RDSClient, kms: KMSClient, cloudwatch: CloudWatchClient, states: SFNClient, dynamodb: DynamoDBClient, ram: RAMClient },
  () => MOTO_ACCOUNT,
);
let moto: Moto;
let source: MariaDbServer;
let target: MariaDbServer;
let packaged: PackagedRoles;
const saved = { ...process.env };

beforeAll(async () => {
  [moto, source, target, packaged] = await Promise.all([
    startMoto(),
    startMariaDb({ serverId: 81, baseDir: dir }),
    startMariaDb({ serverId: 82, baseDir: dir }),
    packagedRoles(MOTO_ACCOUNT),
  ]);
  const s = await source.connect();
  await s.query('CREATE DATABASE shop; USE shop; CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(30)); INSERT INTO shop.items SELECT seq, CONCAT("item ", seq) FROM seq_1_to_200');
  await s.end();
  // Every SDK client the steps create goes to moto; generated secrets go to Secrets Manager, as on AWS.
  process.env.AWS_ENDPOINT_URL = moto.endpoint;
  process.env.CROSSMOVE_SECRET_STORE = 'aws';
  process.env.CROSSMOVE_ALARM_PREFIX = `crossmove-${packaged.stage}`;
  recorder.install();
}, 330_000);

afterAll(async () => {
  recorder.uninstall();
  process.env = saved;
  await Promise.all([source?.stop(), target?.stop(), moto?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

it('every AWS call of every step of a migration, its fallback and its cleanup is allowed by that step’s packaged role', async () => {
  const sm = new SecretsManagerClient({ region: 'us-east-1' });
  const secret = async (name: string, value: unknown) => (await sm.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(value) }))).ARN!;
  const sourceSecret = await secret('shop-source-admin', source.admin);
  const targetSecret = await secret('shop-target-admin', target.admin);
  const topicArn = (await new SNSClient({ region: 'us-east-1' }).send(new CreateTopicCommand({ Name: `crossmove-${packaged.stage}-notifications` }))).TopicArn!;
  process.env.CROSSMOVE_TOPIC_ARN = topicArn;
  const zone = await new Route53Client({ region: 'us-east-1' }).send(new CreateHostedZoneCommand({ Name: 'internal.example.com', CallerReference: 'iam-local-run' }));
  const hostedZoneId = zone.HostedZone!.Id!.replace('/hostedzone/', '');

  // The steps' handlers, each run with its calls attributed to its function key (the role it would have).
  // Each Lambda is its own process on AWS: no step may live off a secret an earlier step read.
  const { handlerRegistry } = await import('../../handlers/index.js');
  const { clearSecretCache } = await import('../../shared/secrets.js');
  for (const [key, entry] of Object.entries(handlerRegistry)) {
    const load = entry.load;
    (entry as { load: typeof load }).load = async () => {
      const real = (await load()).handler;
      return {
        handler: (event: unknown, ctx: any) => {
          clearSecretCache();
          return recorder.as(key, () => real(event, ctx));
        },
      };
    };
  }
  const { runMigrationLocally } = await import('../../cli/run.js');
  const { runFollowUpLocally } = await import('../../cli/follow-up.js');

  const input = {
    migrationId: 'shop-iam',
    source: { endpoint: { host: source.host, port: source.port }, adminSecret: sourceSecret },
    target: { endpoint: { host: target.host, port: target.port }, adminSecret: targetSecret },
    initialLoad: { method: 'logical' },
    replication: { ssl: false, pollSeconds: 1, requiredConsecutiveChecks: 2, binlogRetentionHours: 48 },
    cutover: { approval: 'auto', writeBlock: { method: 'read-only' }, reverseReplication: true, dns: { hostedZoneId, recordName: 'shop-db.internal.example.com', ttl: 5 } },
    notify: { topicArn },
  };
  const stateDir = join(dir, '.crossmove');
  // The handlers run as in Lambda, where they meet these roles: checks a local run makes with the
  // operator's own credentials (preflight reading the DNS zone) are not theirs.
  process.env.AWS_LAMBDA_FUNCTION_NAME = 'crossmove-iam-local-run';
  const report = await runMigrationLocally({ input, autoApprove: true, progress: sink, tty: false, stateDir }).finally(() => delete process.env.AWS_LAMBDA_FUNCTION_NAME);
  expect(report, JSON.stringify(report.error ?? report.cause)).toMatchObject({ ok: true });
  const fallback = await runFollowUpLocally('fallback', 'shop-iam', { stateDir });
  expect(fallback.status, fallback.error).toBe('SUCCEEDED');
  const cleanup = await runFollowUpLocally('cleanup', 'shop-iam', { stateDir });
  expect(cleanup.status, cleanup.error).toBe('SUCCEEDED');

  const calls = await recorder.recorded();
  // The run really went through AWS: admin secrets read, the replication secrets written, DNS switched, notified.
  const sent = new Set(calls.map((c) => `${c.caller} ${c.service}:${c.operation}`));
  expect([...sent]).toEqual(
    expect.arrayContaining([
      'checkDatabases secretsmanager:GetSecretValue',
      'createReplicationUser secretsmanager:CreateSecret',
      'cutOver secretsmanager:GetSecretValue',
      // The data comparison before the gate: planner, Map workers, the check.
      'planDiff secretsmanager:GetSecretValue',
      'compareChunks secretsmanager:GetSecretValue',
      'checkDiff secretsmanager:GetSecretValue',
      'switchDns route53:ChangeResourceRecordSets',
      'reportSuccess sns:Publish',
      'fallBack secretsmanager:GetSecretValue',
      'cleanupDb secretsmanager:DeleteSecret',
    ]),
  );
  const setup: SimulationSetup = { principalFor: (call) => packaged.functionRole(call.caller) };
  expect(await deniedCalls(calls, setup)).toEqual([]);
  expect(unintended(await allowedMutants(calls, setup))).toEqual([]);
}, 600_000);
