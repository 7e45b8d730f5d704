// On AWS, past the cutover's point of no return: `status` (history digest + the CLI's text) says the
// target is the primary and exactly what is left; fallback/cleanup start from the final state of a run
// that ended "Migrated, with unfinished steps" (a Fail state has no output: the state comes from the
// history); the notification names the outcome. Histories and answers shaped like the SFN API reference.
import { DescribeExecutionCommand, GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient, StartExecutionCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { formatStatus } from '../../cli/operations/format.js';
import { validateMigrationInput } from '../../shared/input/validate.js';
import { describeFailure, failed } from '../../shared/notify/index.js';
import { startFollowUp } from '../../shared/operations/follow-up.js';
import { digestHistory } from '../../shared/operations/history-digest.js';
import { setSfnClient } from '../../shared/aws/sfn.js';
import type { MigrationStatus } from '../../shared/operations/status.js';
import type { CutoverResult, MigrationState } from '../../shared/state.js';
import { CROSS_ACCOUNT_CLONE_INPUT } from '../statemachine/stubs.js';

const t = (s: number) => new Date(Date.UTC(2026, 11, 1, 9, 0, s));
const entered = (id: number, s: number, name: string, input: object, type: HistoryEvent['type'] = 'TaskStateEntered'): HistoryEvent => ({ id, timestamp: t(s), type, stateEnteredEventDetails: { name, input: JSON.stringify(input) } });
const exited = (id: number, s: number, name: string, output: object): HistoryEvent => ({ id, timestamp: t(s), type: 'TaskStateExited', stateExitedEventDetails: { name, output: JSON.stringify(output) } });

const CUTOVER: CutoverResult = {
  ok: true, rolledBack: false, writeBlockedMs: 31, finalSourcePosition: { file: 'mysql-bin-changelog.000013', position: 9000 },
  targetPositionAtSwitch: { file: 'mysql-bin-changelog.000001', position: 800 }, tablesVerified: 3, checksumsMatch: true, grantDifferences: [], steps: [],
};
const base: MigrationState = {
  input: validateMigrationInput({ ...CROSS_ACCOUNT_CLONE_INPUT, cutover: { approval: 'manual', dns: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', recordName: 'orders-db.internal.example.com', ttl: 5 } } }),
  accounts: { source: '111111111111', target: '222222222222', sameAccount: false, sourceRegion: 'us-east-1', targetRegion: 'us-east-1' },
  preflight: { ok: true, checks: [], sourceEndpoint: { host: 'orders.cluster-c0.us-east-1.rds.amazonaws.com', port: 3306 } },
  clone: { done: true, attempts: 3, status: 'available', clusterIdentifier: 'crossmove-orders-2026-12', endpoint: 'crossmove-orders-2026-12.cluster-c1.us-east-1.rds.amazonaws.com', port: 3306 },
};
const afterCutover = { ...base, cutover: CUTOVER };
const dnsFailed = { ...afterCutover, failure: { Error: 'AccessDenied', Cause: JSON.stringify({ errorType: 'AccessDenied', errorMessage: 'not authorized to perform: route53:ChangeResourceRecordSets' }) } };
const report = { ...describeFailure(dnsFailed), notified: true };
const finalState = { ...dnsFailed, failureReport: report };

/** A run that cut over, then failed at Switch DNS and ended in "Migrated, with unfinished steps". */
const unfinishedHistory: HistoryEvent[] = [
  { id: 1, timestamp: t(0), type: 'ExecutionStarted', executionStartedEventDetails: { input: '{}' } },
  entered(2, 1, 'Cut over', base),
  exited(3, 2, 'Cut over', afterCutover),
  entered(4, 3, 'Switch DNS', afterCutover),
  entered(5, 4, 'Report the unfinished migration', dnsFailed),
  exited(6, 5, 'Report the unfinished migration', finalState),
  entered(7, 6, 'Migrated, with unfinished steps', finalState, 'FailStateEntered'),
  { id: 8, timestamp: t(7), type: 'ExecutionFailed', executionFailedEventDetails: { error: 'MigratedWithUnfinishedSteps', cause: report.message } },
];

describe('the failure report and its notification', () => {
  it('names the outcome, each step left and what to do, with both servers', () => {
    expect(report).toMatchObject({ outcome: 'migrated-unfinished', error: 'MigratedWithUnfinishedSteps' });
    expect(report.unfinished?.map((u) => [u.step, u.status])).toEqual([['Switch DNS', 'failed'], ['Start reverse replication', 'not-run']]);
    expect(report.message).toContain('the target (crossmove-orders-2026-12.cluster-c1.us-east-1.rds.amazonaws.com:3306) is the primary and takes the writes');
    expect(report.message).toContain('the source (orders.cluster-c0.us-east-1.rds.amazonaws.com:3306) stays blocked');
    expect(report.message).toContain('1. Switch DNS - failed: AccessDenied: not authorized to perform: route53:ChangeResourceRecordSets');
    expect(report.message).toContain('point the CNAME orders-db.internal.example.com at the target (crossmove-orders-2026-12.cluster-c1.us-east-1.rds.amazonaws.com)');
    const n = failed(report);
    expect(n.kind).toBe('migrated-unfinished');
    expect(n.subject).toBe('crossmove orders-2026-12: MIGRATED, 2 steps unfinished (Switch DNS, Start reverse replication)');
    expect(n.text).toBe(report.message);
  });

  it('before the point of no return a failure is an ordinary failure', () => {
    expect(describeFailure({ ...base, failure: { Error: 'CutoverRolledBackError', Cause: 'rolled back' } })).toMatchObject({ outcome: 'failed', error: 'CutoverRolledBackError' });
  });
});

describe('status past the point of no return', () => {
  it('a run that ended "Migrated, with unfinished steps": phase migrated-unfinished, the steps left, what to do next', () => {
    const d = digestHistory(unfinishedHistory, 'FAILED');
    expect(d.phase).toBe('migrated-unfinished');
    expect(d.afterCutover).toMatchObject({ targetIsPrimary: true, unfinished: report.unfinished });
    expect(d.afterCutover!.next).toContain('start the migration again with the same input');
    expect(d.afterCutover!.next).toContain('it resumes at Switch DNS');

    const text = formatStatus({ migrationId: 'orders-2026-12', executionName: 'orders-2026-12', executionArn: 'arn', run: 1, executionStatus: 'FAILED', startedAt: null, stoppedAt: null, phase: d.phase, currentState: d.currentState, currentStateSince: d.currentStateSince, phases: d.phases, waitingForApprovalSince: null, lag: null, replication: d.replication, copy: null, approval: null, failure: d.failure, afterCutover: d.afterCutover, verification: null } satisfies MigrationStatus);
    expect(text).toContain('migrated-unfinished');
    expect(text).toContain('the PRIMARY');
    expect(text).toContain('1. Switch DNS (failed: AccessDenied');
    expect(text).toContain('2. Start reverse replication (not run (after Switch DNS))');
    expect(text).toContain('to do: point the CNAME orders-db.internal.example.com');
  });

  it('an execution aborted (or timed out) right after "Cut over" is migrated-unfinished too, computed from its last state', () => {
    const aborted = [...unfinishedHistory.slice(0, 4), { id: 5, timestamp: t(4), type: 'ExecutionAborted', executionAbortedEventDetails: { error: 'Aborted', cause: 'stopped by an operator' } } as HistoryEvent];
    const d = digestHistory(aborted, 'ABORTED');
    expect(d.phase).toBe('migrated-unfinished');
    expect(d.afterCutover!.unfinished.map((u) => u.step)).toEqual(['Switch DNS', 'Start reverse replication']);
  });

  it('while it runs past the cutover: the target is the primary, nothing is called unfinished yet; before the cutover: no afterCutover', () => {
    const running = digestHistory(unfinishedHistory.slice(0, 4), 'RUNNING');
    expect(running).toMatchObject({ phase: 'finishing', afterCutover: { targetIsPrimary: true, unfinished: [] } });
    const early = digestHistory(unfinishedHistory.slice(0, 2), 'FAILED');
    expect(early).toMatchObject({ phase: 'failed', afterCutover: null });
  });
});

describe('fallback/cleanup from a run with unfinished steps', () => {
  const sfn = mockClient(SFNClient);
  const SM = 'arn:aws:states:us-east-1:222222222222:stateMachine:crossmove-migration-prod';
  const exec = (name: string) => `arn:aws:states:us-east-1:222222222222:execution:crossmove-migration-prod:${name}`;
  const cleanupExec = 'arn:aws:states:us-east-1:222222222222:execution:crossmove-cleanup-prod:orders-2026-12--cleanup';

  beforeEach(() => {
    sfn.reset();
    setSfnClient(new SFNClient({ region: 'us-east-1' }));
    sfn.on(ListExecutionsCommand).resolves({
      executions: [
        { executionArn: exec('orders-2026-12'), stateMachineArn: SM, name: 'orders-2026-12', status: 'FAILED', startDate: t(0), stopDate: t(7) },
        // A later re-run that stopped before anything (e.g. the target unreachable): not a final state.
        { executionArn: exec('orders-2026-12--r2'), stateMachineArn: SM, name: 'orders-2026-12--r2', status: 'FAILED', startDate: t(10), stopDate: t(11) },
      ],
    });
    sfn.on(DescribeExecutionCommand, { executionArn: exec('orders-2026-12') }).resolves({ executionArn: exec('orders-2026-12'), stateMachineArn: SM, status: 'FAILED', startDate: t(0), error: 'MigratedWithUnfinishedSteps', cause: report.message });
    sfn.on(DescribeExecutionCommand, { executionArn: exec('orders-2026-12--r2') }).resolves({ executionArn: exec('orders-2026-12--r2'), stateMachineArn: SM, status: 'FAILED', startDate: t(10), error: 'TransientError', cause: 'Cannot tell whether migration orders-2026-12 already cut over' });
    sfn.on(GetExecutionHistoryCommand, { executionArn: exec('orders-2026-12') }).resolves({ events: unfinishedHistory });
    sfn.on(DescribeExecutionCommand, { executionArn: cleanupExec }).rejects(Object.assign(new Error('Execution Does Not Exist'), { name: 'ExecutionDoesNotExist' }));
    sfn.on(StartExecutionCommand).resolves({ executionArn: cleanupExec, startDate: new Date() });
  });

  it('cleanup starts on the final state read from the history of the run that ended migrated-unfinished', async () => {
    const out = await startFollowUp('cleanup', 'orders-2026-12', SM);
    expect(out).toMatchObject({ started: true, executionName: 'orders-2026-12--cleanup' });
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!);
    expect(input).toEqual({ ...finalState, cleanupOptions: {} });
    expect(sfn.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input.executionArn)).toEqual([exec('orders-2026-12')]);
  });

  it('after a resumed run succeeded, fallback starts on its state on top of the run that cut over (what the skipped steps made is only there), without that run\'s failure', async () => {
    const firstRun = { ...finalState, binlogs: { logBin: true, format: 'ROW', retentionHours: 72, previousRetentionHours: 24, changed: true } };
    const firstHistory = [
      ...unfinishedHistory.slice(0, 5),
      exited(6, 5, 'Report the unfinished migration', firstRun),
      entered(7, 6, 'Migrated, with unfinished steps', firstRun, 'FailStateEntered'),
      unfinishedHistory[7]!,
    ];
    const priorCutover = { targetIsPrimary: true, phase: 'done' as const, cutover: CUTOVER, targetEndpoint: { host: base.clone!.endpoint!, port: 3306 }, sourceEndpoint: null, targetAdmin: null, detail: 'done', checkedAt: t(20).toISOString() };
    // The resumed run: validation, the record, the cutover's recorded result, then DNS and reverse replication.
    const resumed = {
      input: base.input, accounts: base.accounts, priorCutover, targetAdmin: null, cutover: CUTOVER,
      dns: { recordName: 'orders-db.internal.example.com', value: base.clone!.endpoint!, skipped: false }, reverse: { started: true, from: CUTOVER.targetPositionAtSwitch, skipped: false },
      report: { outcome: 'succeeded' },
    };
    const fallbackExec = 'arn:aws:states:us-east-1:222222222222:execution:crossmove-fallback-prod:orders-2026-12--fallback';
    sfn.on(ListExecutionsCommand).resolves({
      executions: [
        { executionArn: exec('orders-2026-12'), stateMachineArn: SM, name: 'orders-2026-12', status: 'FAILED', startDate: t(0), stopDate: t(7) },
        { executionArn: exec('orders-2026-12--r2'), stateMachineArn: SM, name: 'orders-2026-12--r2', status: 'SUCCEEDED', startDate: t(20), stopDate: t(30) },
      ],
    });
    sfn.on(DescribeExecutionCommand, { executionArn: exec('orders-2026-12--r2') }).resolves({ executionArn: exec('orders-2026-12--r2'), stateMachineArn: SM, status: 'SUCCEEDED', startDate: t(20), output: JSON.stringify(resumed) });
    sfn.on(GetExecutionHistoryCommand, { executionArn: exec('orders-2026-12') }).resolves({ events: firstHistory });
    sfn.on(DescribeExecutionCommand, { executionArn: fallbackExec }).rejects(Object.assign(new Error('Execution Does Not Exist'), { name: 'ExecutionDoesNotExist' }));

    const out = await startFollowUp('fallback', 'orders-2026-12', SM);
    expect(out).toMatchObject({ started: true, executionName: 'orders-2026-12--fallback' });
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!);
    // The resumed run's outcome and results; the first run's binlog change, clone and preflight; not its failure.
    expect(input).toMatchObject({ reverse: resumed.reverse, dns: resumed.dns, report: resumed.report, binlogs: firstRun.binlogs, clone: base.clone, preflight: base.preflight, fallbackOptions: {} });
    expect(input).not.toHaveProperty('failure');
    expect(input).not.toHaveProperty('failureReport');
  });

  it('a migration whose runs all failed before the cutover still has nothing to clean up', async () => {
    sfn.on(DescribeExecutionCommand, { executionArn: exec('orders-2026-12') }).resolves({ executionArn: exec('orders-2026-12'), stateMachineArn: SM, status: 'FAILED', startDate: t(0), error: 'PreflightFailedError' });
    await expect(startFollowUp('cleanup', 'orders-2026-12', SM)).rejects.toThrow('has no run that cut over');
  });
});
