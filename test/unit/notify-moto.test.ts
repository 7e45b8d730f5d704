// Notifications against the moto server: a real topic, a real Publish, and the message moto recorded.
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMoto, type Moto } from '../support/moto.js';
import { handler as reportFailure } from '../../handlers/report-failure.js';
import { localLambdaContext } from '../../shared/handler.js';
import { validateMigrationInput } from '../../shared/input/validate.js';
import { setSnsClient } from '../../shared/notify/index.js';

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
  setSnsClient(undefined); // clients created from now on reach moto through AWS_ENDPOINT_URL
});
afterAll(async () => moto?.stop());

it('publishes the failure report to the migration topic', async () => {
  const { TopicArn } = await new SNSClient({ region: 'us-east-1' }).send(new CreateTopicCommand({ Name: 'crossmove-alerts' }));
  const input = validateMigrationInput({
    migrationId: 'orders-2026-12',
    source: { endpoint: { host: 'src' }, adminSecret: 'env:SRC' },
    target: { endpoint: { host: 'tgt' }, adminSecret: 'env:TGT' },
    notify: { topicArn: TopicArn! },
  });
  const report = await reportFailure(
    { input, accounts: { source: null, target: null, sameAccount: true, sourceRegion: null, targetRegion: null }, failure: { Error: 'ReplicationAuthError', Cause: 'Access denied for user crossmove_repl' } },
    localLambdaContext('reportFailure'),
  );
  expect(report.notified).toBe(true);

  const data = await (await fetch(`${moto.endpoint}/moto-api/data.json`)).json();
  const topic = data.sns.Topic.find((t: { arn: string }) => t.arn === TopicArn);
  expect(topic.sent_notifications).toHaveLength(1);
  const [, message, subject, attributes] = topic.sent_notifications[0];
  expect(subject).toBe('crossmove orders-2026-12: migration failed (ReplicationAuthError)');
  expect(message).toContain('Access denied for user crossmove_repl');
  expect(attributes.kind).toEqual({ Type: 'String', Value: 'migration-failed' }); // moto's internal shape
});
