// shared/notify with aws-sdk-client-mock: exact Publish parameters, subject rules, redaction, no
// publish without a topic; and the failure unwrapping the report handlers rely on.
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { approvalNeeded, describeFailure, failed, publishNotification, setSnsClient, succeeded, summarizeSuccess, toSubject, unwrapFailure } from '../../shared/notify/index.js';
import { buildApprovalRequest, describeCutoverPlan } from '../../shared/approval/request.js';
import { registerSecretValue } from '../../shared/redact.js';
import { validateMigrationInput } from '../../shared/input/validate.js';
import type { MigrationState } from '../../shared/state.js';

const sns = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:eu-west-1:222222222222:crossmove-alerts';

const input = validateMigrationInput({
  migrationId: 'orders-2026-12',
  source: { clusterArn: 'arn:aws:rds:eu-west-1:111111111111:cluster:orders', adminSecret: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:a' },
  target: { adminSecret: 'arn:aws:secretsmanager:eu-west-1:222222222222:secret:b' },
  cutover: { approvalTimeoutHours: 2, dns: { hostedZoneId: 'Z123', recordName: 'db.example.com' }, writeBlock: { method: 'read-only', keepUsers: ['monitor'] } },
  notify: { topicArn: TOPIC },
});
const state: MigrationState = {
  input,
  accounts: { source: '111111111111', target: '222222222222', sameAccount: false, sourceRegion: 'eu-west-1', targetRegion: 'eu-west-1' },
  lag: { heartbeatLagMs: 120, byteLag: 0, secondsBehind: 0, ioRunning: true, sqlRunning: true, healthy: true, underLimit: true, consecutiveUnderLimit: 3, caughtUp: true, checkedAt: '2026-11-24T09:00:00.000Z', attempts: 7 },
};

beforeEach(() => {
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: '5b9c2f0e-0000-4000-8000-000000000001' });
  setSnsClient(undefined);
});

describe('publishNotification', () => {
  it('publishes to the topic with exactly these parameters', async () => {
    const result = await publishNotification(TOPIC, { kind: 'migration-failed', migrationId: 'orders-2026-12', subject: 'crossmove orders-2026-12: migration failed', text: 'body' });
    expect(result).toEqual({ published: true, messageId: '5b9c2f0e-0000-4000-8000-000000000001' });
    const calls = sns.commandCalls(PublishCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      TopicArn: TOPIC,
      Subject: 'crossmove orders-2026-12: migration failed',
      Message: 'body',
      MessageAttributes: {
        kind: { DataType: 'String', StringValue: 'migration-failed' },
        migrationId: { DataType: 'String', StringValue: 'orders-2026-12' },
      },
    });
  });

  it('uses a client in the topic region', async () => {
    await publishNotification(TOPIC, { kind: 'migration-failed', migrationId: 'm', subject: 's', text: 't' });
    const region = await sns.call(0).thisValue.config.region();
    expect(region).toBe('eu-west-1');
  });

  it('publishes nothing without a topic', async () => {
    expect(await publishNotification(undefined, { kind: 'migration-failed', migrationId: 'm', subject: 's', text: 't' })).toEqual({ published: false });
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('masks a registered secret in the subject and the message', async () => {
    registerSecretValue('S3cr3t-Passw0rd!');
    await publishNotification(TOPIC, { kind: 'migration-failed', migrationId: 'm', subject: 'failed with S3cr3t-Passw0rd!', text: "IDENTIFIED BY 'x' and S3cr3t-Passw0rd!" });
    const sent = JSON.stringify(sns.commandCalls(PublishCommand)[0]!.args[0].input);
    expect(sent).not.toContain('S3cr3t-Passw0rd!');
    expect(sent).toContain('********');
  });

  it('keeps subjects within SNS rules (one line, printable ASCII, <= 100 chars)', () => {
    expect(toSubject('a\nb ✓')).toBe('a b ?');
    const long = toSubject('x'.repeat(150));
    expect(long).toHaveLength(100);
    expect(long.endsWith('...')).toBe(true);
  });
});

describe('messages', () => {
  it('approval needed: lag, every cutover step, commands, expiry', () => {
    const request = buildApprovalRequest(state, 'token-abc', new Date('2026-11-24T09:00:00Z'));
    expect(request.expiresAt).toBe('2026-11-24T11:00:00.000Z');
    const n = approvalNeeded(request);
    expect(n.subject).toBe('crossmove orders-2026-12: cutover approval needed');
    expect(n.text).toContain('heartbeat 120 ms');
    expect(n.text).toContain('crossmove approve orders-2026-12');
    expect(n.text).toContain('crossmove reject orders-2026-12');
    expect(n.text).toContain('Point db.example.com');
    expect(n.text).toContain('except monitor');
    expect(n.text).not.toContain('token-abc');
    expect(describeCutoverPlan(input)).toHaveLength(8);
  });

  it('success summary from the state', () => {
    const summary = summarizeSuccess({
      ...state,
      approval: { approved: true, by: 'alice', at: '2026-11-24T09:01:00Z' },
      cutover: { ok: true, rolledBack: false, writeBlockedMs: 23, finalSourcePosition: { file: 'f', position: 1 }, targetPositionAtSwitch: { file: 'g', position: 2 }, tablesVerified: 12, checksumsMatch: true, grantDifferences: ['app@%'], steps: [] },
      dns: { recordName: 'db.example.com', value: 'crossmove-orders.cluster-x.eu-west-1.rds.amazonaws.com', changeId: 'C1', skipped: false },
      reverse: { started: true, from: { file: 'g', position: 2 }, skipped: false },
    });
    expect(summary).toEqual({
      outcome: 'succeeded', migrationId: 'orders-2026-12', initialLoad: 'clone', writeBlockedMs: 23, tablesVerified: 12, checksumsMatch: true,
      grantDifferences: 1, dns: 'db.example.com -> crossmove-orders.cluster-x.eu-west-1.rds.amazonaws.com', reverseReplication: true, approvedBy: 'alice',
    });
    expect(succeeded(summary).text).toContain('Writes were blocked for 23 ms');
  });
});

describe('failure unwrapping', () => {
  it('keeps a typed error and its message', () => {
    expect(unwrapFailure({ Error: 'ResourceConflictError', Cause: 'Cluster x exists' })).toEqual({ error: 'ResourceConflictError', message: 'Cluster x exists' });
  });

  it('unwraps a Lambda error Cause and drops its stack', () => {
    const cause = JSON.stringify({ errorType: 'BinlogPurgedError', errorMessage: 'IO error 1236\n    at readBinlog (file.js:1:1)', trace: ['BinlogPurgedError: IO error 1236', '    at x'] });
    expect(unwrapFailure({ Error: 'BinlogPurgedError', Cause: cause })).toEqual({ error: 'BinlogPurgedError', message: 'IO error 1236' });
  });

  it('unwraps a failed child execution (startExecution.sync:2 -> States.TaskFailed)', () => {
    const child = JSON.stringify({ ExecutionArn: 'arn:...', Status: 'FAILED', Error: 'ReplicationAuthError', Cause: JSON.stringify({ errorType: 'ReplicationAuthError', errorMessage: 'Access denied for crossmove_repl' }) });
    expect(unwrapFailure({ Error: 'States.TaskFailed', Cause: child })).toEqual({ error: 'ReplicationAuthError', message: 'Access denied for crossmove_repl' });
  });

  it('names the last completed step and says what to do', () => {
    const report = describeFailure({ ...state, failure: { Error: 'CutoverRolledBackError', Cause: 'Target did not catch up in 30 s; rolled back' } });
    expect(report).toEqual({ outcome: 'failed', migrationId: 'orders-2026-12', error: 'CutoverRolledBackError', message: 'Target did not catch up in 30 s; rolled back', lastCompletedStep: 'Check replication' });
    expect(failed(report).text).toContain('Last completed step: Check replication');
  });

  it('tells a rejected approval from a timed-out one', () => {
    const rejected = describeFailure({ ...state, approvalFailure: { Error: 'ApprovalRejected', Cause: 'not during the sale' } });
    expect(rejected).toMatchObject({ outcome: 'approval-not-given', error: 'ApprovalRejected' });
    expect(rejected.message).toContain('Rejected: not during the sale');
    const timedOut = describeFailure({ ...state, approvalFailure: { Error: 'States.Timeout', Cause: '' } });
    expect(timedOut).toMatchObject({ outcome: 'approval-not-given', error: 'ApprovalTimedOutError' });
    expect(timedOut.message).toContain('No answer within 2 h');
    expect(failed(timedOut).kind).toBe('approval-not-given');
  });

  it('copes with the raw input when validation itself failed', () => {
    const report = describeFailure({ migrationId: 'x', failure: { Error: 'InputValidationError', Cause: 'Invalid migration input (1 problem): target.adminSecret: required' } } as never);
    expect(report).toMatchObject({ migrationId: 'x', error: 'InputValidationError', lastCompletedStep: null });
  });
});
