// The approval request and report handlers, through their middy wrappers, with SNS mocked.
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as requestApproval } from '../../handlers/request-approval.js';
import { handler as reportFailure } from '../../handlers/report-failure.js';
import { handler as reportSuccess } from '../../handlers/report-success.js';
import { localLambdaContext } from '../../shared/handler.js';
import { approvalStore, setApprovalStore } from '../../shared/approval/current.js';
import { LoggingApprovalStore, MemoryApprovalStore } from '../../shared/approval/store.js';
import { ApprovalTable } from '../../shared/approval/table.js';
import { validateMigrationInput } from '../../shared/input/validate.js';
import { setSnsClient } from '../../shared/notify/index.js';
import type { MigrationState } from '../../shared/state.js';

const sns = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:us-east-1:222222222222:crossmove';
const ctx = localLambdaContext('test');

function state(withTopic = true): MigrationState {
  const input = validateMigrationInput({
    migrationId: 'orders-2026-12',
    source: { endpoint: { host: 'src.internal' }, adminSecret: 'env:SRC' },
    target: { endpoint: { host: 'tgt.internal' }, adminSecret: 'env:TGT' },
    ...(withTopic ? { notify: { topicArn: TOPIC } } : {}),
  });
  return {
    input,
    accounts: { source: null, target: null, sameAccount: true, sourceRegion: null, targetRegion: null },
    lag: { heartbeatLagMs: 80, byteLag: 0, secondsBehind: 0, ioRunning: true, sqlRunning: true, healthy: true, underLimit: true, consecutiveUnderLimit: 3, caughtUp: true, checkedAt: '2026-11-24T09:00:00.000Z', attempts: 4 },
  };
}

beforeEach(() => {
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  setSnsClient(undefined);
});

describe('request-approval', () => {
  it('stores the token by migration and notifies with the lag and the plan', async () => {
    const store = new MemoryApprovalStore();
    setApprovalStore(store);
    const out = await requestApproval({ taskToken: 'AAAA-token', state: state() }, ctx);
    expect(out).toMatchObject({ requested: true, migrationId: 'orders-2026-12', notified: true });
    const stored = await store.get('orders-2026-12');
    expect(stored).toMatchObject({ taskToken: 'AAAA-token', lag: { heartbeatLagMs: 80, caughtUp: true } });
    const publish = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(publish.TopicArn).toBe(TOPIC);
    expect(publish.Subject).toBe('crossmove orders-2026-12: cutover approval needed');
    expect(publish.Message).toContain('heartbeat 80 ms');
    expect(publish.Message).not.toContain('AAAA-token');
  });

  it('refuses an event without a token, naming what is missing', async () => {
    setApprovalStore(new MemoryApprovalStore());
    await expect(requestApproval({ state: state() } as never, ctx)).rejects.toMatchObject({ name: 'InputValidationError', message: expect.stringContaining('taskToken') });
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });
});

describe('approval store selection', () => {
  it.each([
    ['dynamodb', ApprovalTable],
    ['memory', MemoryApprovalStore],
    [undefined, LoggingApprovalStore],
  ])('CROSSMOVE_APPROVAL_STORE=%s', (kind, type) => {
    const before = { store: process.env.CROSSMOVE_APPROVAL_STORE, table: process.env.CROSSMOVE_APPROVAL_TABLE };
    if (kind) process.env.CROSSMOVE_APPROVAL_STORE = kind;
    else delete process.env.CROSSMOVE_APPROVAL_STORE;
    process.env.CROSSMOVE_APPROVAL_TABLE = 'crossmove-approvals-test';
    try {
      setApprovalStore(undefined);
      expect(approvalStore()).toBeInstanceOf(type);
    } finally {
      setApprovalStore(undefined);
      for (const [k, v] of [['CROSSMOVE_APPROVAL_STORE', before.store], ['CROSSMOVE_APPROVAL_TABLE', before.table]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});

describe('report-failure', () => {
  it('returns the clean error and message for the Fail state and notifies', async () => {
    const report = await reportFailure({ ...state(), failure: { Error: 'CutoverRolledBackError', Cause: JSON.stringify({ errorType: 'CutoverRolledBackError', errorMessage: 'rolled back: target 2 events behind after 30 s' }) } }, ctx);
    expect(report).toEqual({ outcome: 'failed', migrationId: 'orders-2026-12', error: 'CutoverRolledBackError', message: 'rolled back: target 2 events behind after 30 s', lastCompletedStep: 'Check replication', notified: true });
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.Subject).toBe('crossmove orders-2026-12: migration failed (CutoverRolledBackError)');
  });

  it('does not publish for raw (unvalidated) input', async () => {
    const report = await reportFailure({ migrationId: 'x', notify: { topicArn: TOPIC }, failure: { Error: 'InputValidationError', Cause: 'bad' } } as never, ctx);
    expect(report.notified).toBe(false);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('fails with a named SNS error when publishing fails (the state machine then keeps the original error)', async () => {
    sns.on(PublishCommand).rejects(Object.assign(new Error('Topic does not exist'), { name: 'NotFoundException' }));
    await expect(reportFailure({ ...state(), failure: { Error: 'X', Cause: 'y' } }, ctx)).rejects.toMatchObject({ name: 'NotFoundException' });
  });
});

describe('report-success', () => {
  it('publishes to the stack topic and the input topic, once each', async () => {
    process.env.CROSSMOVE_TOPIC_ARN = 'arn:aws:sns:us-east-1:222222222222:crossmove-ops';
    process.env.CROSSMOVE_API_URL = 'https://abc.execute-api.us-east-1.amazonaws.com/';
    try {
      const out = await reportSuccess({ ...state(), approval: { approved: true, by: 'alice', at: 'now' } }, ctx);
      expect(out.notified).toBe(true);
      expect(sns.commandCalls(PublishCommand).map((c) => c.args[0].input.TopicArn)).toEqual(['arn:aws:sns:us-east-1:222222222222:crossmove-ops', TOPIC]);
      setApprovalStore(new MemoryApprovalStore());
      sns.resetHistory();
      await requestApproval({ taskToken: 't', state: state() }, ctx);
      expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.Message).toContain('POST https://abc.execute-api.us-east-1.amazonaws.com/migrations/orders-2026-12/approve');
    } finally {
      delete process.env.CROSSMOVE_TOPIC_ARN;
      delete process.env.CROSSMOVE_API_URL;
    }
  });

  it('returns the summary without a topic and publishes nothing', async () => {
    const out = await reportSuccess({ ...state(false), approval: { approved: true, by: 'auto', at: 'now' } }, ctx);
    expect(out).toMatchObject({ outcome: 'succeeded', migrationId: 'orders-2026-12', initialLoad: 'logical', approvedBy: 'auto', notified: false });
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });
});
