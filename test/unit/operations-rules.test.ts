// The pure parts of the operations side: history digest, lag-watch rules, HTTP parsing and answers.
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { ApprovalExpiredError, InputValidationError, MigrationNotFoundError } from '../../shared/errors.js';
import { caller, jsonBody, migrationIdParam, optionalReason } from '../../shared/http/request.js';
import { errorResponse } from '../../shared/http/response.js';
import { digestHistory, newestCopyCheck, phaseOfState } from '../../shared/operations/history-digest.js';
import { evaluateWatch, isAboveLimit, type ReplicationSample } from '../../shared/operations/lag-rules.js';
import { executionArnFor, parseExecutionName, runExecutionName } from '../../shared/operations/executions.js';
import { apiEvent, CALLER_ARN } from '../support/api-event.js';
import { formatStatus } from '../../cli/operations/format.js';

const t = (s: number) => new Date(Date.UTC(2026, 10, 24, 9, 0, s));
const entered = (id: number, s: number, name: string, input: object = {}): HistoryEvent => ({
  id,
  timestamp: t(s),
  type: 'TaskStateEntered',
  stateEnteredEventDetails: { name, input: JSON.stringify(input) },
});
const exited = (id: number, s: number, name: string, output: object = {}): HistoryEvent => ({
  id,
  timestamp: t(s),
  type: 'TaskStateExited',
  stateExitedEventDetails: { name, output: JSON.stringify(output) },
});

describe('history digest', () => {
  it('a failed clone: phases in order, the failure, replication never checked', () => {
    const events: HistoryEvent[] = [
      { id: 1, timestamp: t(0), type: 'ExecutionStarted', executionStartedEventDetails: { input: '{}' } },
      entered(2, 1, 'Validate the input'),
      exited(3, 2, 'Validate the input', { input: { migrationId: 'm1', names: {} }, accounts: {} }),
      entered(4, 3, 'Run preflight checks'),
      entered(5, 4, 'Which initial load?'),
      entered(6, 5, 'Clone the cluster'),
      entered(7, 6, 'Some state a newer definition added'),
      entered(8, 7, 'Report the failure'),
      entered(9, 8, 'Fail'),
      { id: 10, timestamp: t(9), type: 'ExecutionFailed', executionFailedEventDetails: { error: 'DefaultKmsKeyError', cause: 'aws/rds key cannot be shared' } },
    ];
    const d = digestHistory(events, 'FAILED');
    expect(d.phases).toEqual([
      { phase: 'validating', since: t(1).toISOString() },
      { phase: 'initial-load', since: t(4).toISOString() },
      { phase: 'failed', since: t(7).toISOString() },
    ]);
    expect(d).toMatchObject({
      phase: 'failed',
      currentState: 'Fail',
      failure: { error: 'DefaultKmsKeyError', cause: 'aws/rds key cannot be shared' },
      replication: { health: 'unknown' },
      lag: null,
      waitingForApprovalSince: null,
      childExecutionArn: null,
    });
    expect(d.state?.input.migrationId).toBe('m1');
  });

  it('a broken replica shows as broken with its last figures; waiting for approval only while running', () => {
    const lag = { heartbeatLagMs: null, byteLag: null, secondsBehind: null, ioRunning: false, sqlRunning: true, checkedAt: 'X' };
    const broken = digestHistory([entered(1, 0, 'Keep the last lag check'), exited(2, 1, 'Keep the last lag check', { lag })], 'RUNNING');
    expect(broken.replication).toEqual({ health: 'broken', ioRunning: false, sqlRunning: true });
    expect(broken.phase).toBe('replicating');

    const gate = [entered(1, 0, 'Ask for cutover approval')];
    expect(digestHistory(gate, 'RUNNING').waitingForApprovalSince).toBe(t(0).toISOString());
    expect(digestHistory(gate, 'ABORTED')).toMatchObject({ waitingForApprovalSince: null, phase: 'failed' });
    expect(digestHistory([], 'RUNNING').phase).toBe('starting');
  });

  it("the logical copy's progress: from the parent's newest copy payload, and the running copy window's child execution", () => {
    const progress = (rangesDone: number, rows: number) => ({ job: 'copy', rangesTotal: 40, rangesDone, rows, bytes: rows * 100, estimatedRows: 4_000_000, rowsPerSec: 5000, etaSeconds: 600, chunksCopiedTwice: 0, done: false, idle: false, checkedAt: `t${rangesDone}` });
    const events: HistoryEvent[] = [
      entered(1, 0, 'Plan the copy'),
      entered(2, 1, 'Keep the copy progress'),
      exited(3, 2, 'Keep the copy progress', { copy: progress(10, 1_000_000) }),
      entered(4, 3, 'Copy the data for one window'),
      { id: 5, timestamp: t(4), type: 'TaskSubmitted', taskSubmittedEventDetails: { resource: 'startExecution.sync:2', resourceType: 'states', output: JSON.stringify({ ExecutionArn: 'arn:aws:states:us-east-1:1:execution:crossmove-copy-test:w2' }) } },
    ];
    const d = digestHistory(events, 'RUNNING');
    expect(d).toMatchObject({ phase: 'initial-load', copy: { rangesDone: 10, rows: 1_000_000, etaSeconds: 600 }, childExecutionArn: 'arn:aws:states:us-east-1:1:execution:crossmove-copy-test:w2' });
    // The child's newest "Check the copy", whatever order the events come in.
    const child = [exited(9, 9, 'Check the copy', { copy: progress(30, 3_000_000) }), exited(8, 5, 'Check the copy', { copy: progress(20, 2_000_000) })];
    expect(newestCopyCheck(child)).toMatchObject({ rangesDone: 30 });
    expect(newestCopyCheck([...child].reverse())).toMatchObject({ rangesDone: 30 });
    expect(digestHistory([entered(1, 0, 'Validate the input')], 'RUNNING').copy).toBeNull();
    const text = formatStatus({ migrationId: 'm1', executionName: 'm1', executionArn: 'arn', run: 1, executionStatus: 'RUNNING', startedAt: null, stoppedAt: null, phase: d.phase, currentState: d.currentState, currentStateSince: null, phases: d.phases, waitingForApprovalSince: null, lag: null, replication: d.replication, copy: newestCopyCheck(child)!, approval: null, failure: null, afterCutover: null, verification: null });
    expect(text).toContain('copy:         3,000,000 of ~4,000,000 rows, 286.1 MiB, chunks 30/40, 5,000 rows/s, ETA 600 s');
  });

  it('maps the failure states of migration.asl.yaml to failed', () => {
    for (const s of ['Preflight checks failed', 'Approval not given', 'Replication is broken', 'Clone not available in time', 'Replication did not catch up in time']) {
      expect(phaseOfState(s), s).toBe('failed');
    }
    expect(phaseOfState('Cut over')).toBe('cutting-over');
  });
});

describe('run names', () => {
  it('first run is the migration id, later runs <id>--rN; ARNs follow the state machine', () => {
    expect(runExecutionName('orders', 1)).toBe('orders');
    expect(runExecutionName('orders', 3)).toBe('orders--r3');
    expect(parseExecutionName('orders--r3')).toEqual({ migrationId: 'orders', run: 3 });
    expect(parseExecutionName('orders-r3')).toEqual({ migrationId: 'orders-r3', run: 1 });
    expect(executionArnFor('arn:aws:states:eu-west-1:123:stateMachine:crossmove-migration-dev', 'orders')).toBe(
      'arn:aws:states:eu-west-1:123:execution:crossmove-migration-dev:orders',
    );
  });
});

describe('lag-watch rules', () => {
  const s = (o: Partial<ReplicationSample> = {}): ReplicationSample => ({ heartbeatLagMs: 100, byteLag: 0, secondsBehind: 0, ioRunning: true, sqlRunning: true, ...o });
  const ctx = (minute: number, executionName = 'm1') => ({ migrationId: 'm1', executionName, maxLagSeconds: 1, lagAlertMinutes: 5, now: new Date(Date.UTC(2026, 10, 24, 9, minute)) });

  it('notifies lag once it stayed above the limit N minutes, once per episode; an episode ends under the limit', () => {
    let w = evaluateWatch(null, s({ heartbeatLagMs: 2000 }), ctx(0));
    expect(w.notifications).toEqual([]);
    w = evaluateWatch(w.next, s({ heartbeatLagMs: 2000 }), ctx(4));
    expect(w.notifications).toEqual([]);
    w = evaluateWatch(w.next, s({ heartbeatLagMs: 2000 }), ctx(5));
    expect(w.notifications.map((n) => n.kind)).toEqual(['lag-above-limit']);
    expect(w.notifications[0]!.text).toContain('since 2026-11-24T09:00:00.000Z');
    w = evaluateWatch(w.next, s({ heartbeatLagMs: 2000 }), ctx(9));
    expect(w.notifications).toEqual([]);
    w = evaluateWatch(w.next, s({ heartbeatLagMs: 10 }), ctx(10));
    expect(w.next).toMatchObject({ aboveSince: null, lagNotified: false });
    w = evaluateWatch(w.next, s({ heartbeatLagMs: 2000 }), ctx(11));
    expect(w.next.aboveSince).toBe('2026-11-24T09:11:00.000Z');
  });

  it('a new run of the migration starts a fresh memory (keeps only "alarms created")', () => {
    const old = evaluateWatch(null, s({ ioRunning: false }), ctx(0)).next;
    const fresh = evaluateWatch({ ...old, alarmsCreated: true }, s({ ioRunning: false }), ctx(1, 'm1--r2'));
    expect(fresh.notifications.map((n) => n.kind)).toEqual(['replication-broken']);
    expect(fresh.next).toMatchObject({ executionName: 'm1--r2', alarmsCreated: true, brokenSince: '2026-11-24T09:01:00.000Z' });
  });

  it('uses the heartbeat, falling back to Seconds_Behind only when there is no heartbeat figure', () => {
    expect(isAboveLimit(s({ heartbeatLagMs: 900, secondsBehind: 50 }), 1)).toBe(false);
    expect(isAboveLimit(s({ heartbeatLagMs: null, secondsBehind: 2 }), 1)).toBe(true);
    expect(isAboveLimit(s({ heartbeatLagMs: null, secondsBehind: null }), 1)).toBe(false);
  });
});

describe('HTTP requests and answers', () => {
  it('reads the path id, JSON and base64 bodies, the IAM caller', () => {
    expect(migrationIdParam(apiEvent('GET /migrations/{migrationId}', { migrationId: 'orders-1' }))).toBe('orders-1');
    expect(() => migrationIdParam(apiEvent('GET /migrations/{migrationId}', { migrationId: '../etc' }))).toThrow(/lowercase letters/);
    expect(jsonBody(apiEvent('POST /migrations', { body: { a: 1 }, base64: true }), { required: true })).toEqual({ a: 1 });
    expect(jsonBody(apiEvent('POST /migrations/{migrationId}/approve', { migrationId: 'x' }), { required: false })).toEqual({});
    expect(caller(apiEvent('GET /migrations'))).toBe(CALLER_ARN);
    expect(() => optionalReason({ reason: 42 })).toThrow('Field "reason" must be a string');
    expect(optionalReason({})).toBeUndefined();
  });

  it('never echoes the body back in a parse error', () => {
    const err = (() => {
      try {
        jsonBody(apiEvent('POST /migrations', { rawBody: '{"adminSecret": "hunter2-secret' }), { required: true });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.name).toBe('BadRequestError');
    expect(err?.message).not.toContain('hunter2');
  });

  it('maps typed errors to 4xx with their message; anything else to an opaque 500', () => {
    expect(errorResponse(new MigrationNotFoundError('No migration "x"'), 'r1')).toMatchObject({ statusCode: 404 });
    expect(errorResponse(new ApprovalExpiredError('gone'), 'r1').statusCode).toBe(410);
    const invalid = errorResponse(new InputValidationError([{ field: 'migrationId', message: 'bad' }]), 'r1');
    expect(JSON.parse(invalid.body)).toEqual({ error: 'InputValidationError', message: expect.any(String), issues: [{ field: 'migrationId', message: 'bad' }] });
    const internal = errorResponse(Object.assign(new Error('AccessDeniedException: arn:aws:iam::1:role/x is not authorized'), { name: 'AccessDeniedException' }), 'r9');
    expect(internal.statusCode).toBe(500);
    expect(internal.body).not.toContain('arn:aws');
    expect(JSON.parse(internal.body).requestId).toBe('r9');
    expect(errorResponse(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }), 'r1').statusCode).toBe(503);
  });
});
