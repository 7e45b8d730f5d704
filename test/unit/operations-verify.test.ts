// The comparison in the operations API, with aws-sdk-client-mock and responses shaped like the Step
// Functions API reference: status shows the verdict (and the live progress of a running comparison
// window, from its child execution); `crossmove verify` on AWS starts crossmove-verify-<stage> on the
// newest state of the latest run, without the gate's plan, and refuses after the cutover.
import { DescribeExecutionCommand, GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient, StartExecutionCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ApprovalTable } from '../../shared/approval/table.js';
import { setDynamoClient } from '../../shared/aws/dynamodb.js';
import { setSfnClient } from '../../shared/aws/sfn.js';
import { migrationStatus } from '../../shared/operations/status.js';
import { startVerify, verifyProgress } from '../../shared/operations/verify.js';
import { verificationLines } from '../../cli/operations/format.js';
import { diffSummaryStub } from '../statemachine/stubs.js';

const SM = 'arn:aws:states:us-east-1:222222222222:stateMachine:crossmove-migration-dev';
const VERIFY_SM = 'arn:aws:states:us-east-1:222222222222:stateMachine:crossmove-verify-dev';
const exec = (name: string) => `arn:aws:states:us-east-1:222222222222:execution:crossmove-migration-dev:${name}`;
const child = 'arn:aws:states:us-east-1:222222222222:execution:crossmove-verify-dev:4a2e';
const t = (s: number) => new Date(Date.UTC(2026, 10, 24, 9, 0, s));

const sfn = mockClient(SFNClient);
const ddb = mockClient(DynamoDBClient);
setSfnClient(new SFNClient({}));
setDynamoClient(new DynamoDBClient({}));
afterAll(() => {
  setSfnClient(undefined);
  setDynamoClient(undefined);
  sfn.restore();
  ddb.restore();
});
beforeEach(() => {
  sfn.reset();
  ddb.reset();
});

const baseState = {
  input: { migrationId: 'orders-2', names: { executionName: 'orders-2' }, cutover: { verify: 'diff' } },
  accounts: { source: null, target: null, sameAccount: true, sourceRegion: null, targetRegion: null },
  replication: { sourceHost: '10.0.0.5', sourcePort: 3306, startedAt: 'T', from: { file: 'mysql-bin.000002', position: 4 }, targetEngine: 'aurora-mysql-3' },
  lag: { heartbeatLagMs: 40, ioRunning: true, sqlRunning: true, caughtUp: true },
};

function history(state: Record<string, unknown>, running: string): HistoryEvent[] {
  return [
    { id: 1, timestamp: t(0), type: 'ExecutionStarted', executionStartedEventDetails: { input: '{}' } },
    { id: 2, timestamp: t(1), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Plan the comparison', input: JSON.stringify(state) } },
    { id: 3, timestamp: t(2), type: 'TaskStateExited', stateExitedEventDetails: { name: 'Plan the comparison', output: JSON.stringify(state) } },
    { id: 4, timestamp: t(3), type: 'TaskStateEntered', stateEnteredEventDetails: { name: running, input: JSON.stringify(state) } },
    { id: 5, timestamp: t(4), type: 'TaskSubmitted', taskSubmittedEventDetails: { resourceType: 'states', resource: 'startExecution.sync:2', output: JSON.stringify({ ExecutionArn: child, StartDate: 1 }) } },
  ];
}

function latestRun(events: HistoryEvent[], status: 'RUNNING' | 'SUCCEEDED' = 'RUNNING') {
  sfn
    .on(ListExecutionsCommand, { stateMachineArn: SM })
    .resolves({ executions: [{ executionArn: exec('orders-2'), stateMachineArn: SM, name: 'orders-2', status, startDate: t(0) }] })
    .on(DescribeExecutionCommand, { executionArn: exec('orders-2') })
    .resolves({ executionArn: exec('orders-2'), stateMachineArn: SM, status, startDate: t(0) })
    .on(GetExecutionHistoryCommand, { executionArn: exec('orders-2') })
    .resolves({ events });
}

describe('status of the comparison', () => {
  it('shows the running window\'s newest check (from its child execution) as the verification, in the "comparing" phase', async () => {
    latestRun(history(baseState, 'Compare source and target for one window'));
    sfn.on(GetExecutionHistoryCommand, { executionArn: child }).resolves({
      events: [{ id: 30, timestamp: t(40), type: 'TaskStateExited', stateExitedEventDetails: { name: 'Check the comparison', output: JSON.stringify({ ...baseState, diff: diffSummaryStub(false, 'clean', 250_000) }) } }],
    });
    ddb.on(GetItemCommand).resolves({});
    const st = await migrationStatus('orders-2', SM, new ApprovalTable('crossmove-approvals-dev'));
    expect(st).toMatchObject({ phase: 'comparing', currentState: 'Compare source and target for one window', verification: { done: false, verdict: 'incomplete', rowsCompared: 250_000 } });
    expect(verificationLines(st.verification!).join('\n')).toContain('running: 250,000 rows compared');
  });

  it('keeps the verdict at the gate: the differing tables with their rows by key', async () => {
    const state = { ...baseState, diff: diffSummaryStub(true, 'differences') };
    latestRun([
      ...history(state, 'Compare source and target for one window').slice(0, 4),
      { id: 9, timestamp: t(9), type: 'TaskStateExited', stateExitedEventDetails: { name: 'Compare source and target for one window', output: JSON.stringify(state) } },
      { id: 10, timestamp: t(10), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Ask for cutover approval', input: JSON.stringify(state) } },
    ]);
    ddb.on(GetItemCommand).resolves({});
    const st = await migrationStatus('orders-2', SM, new ApprovalTable('crossmove-approvals-dev'));
    expect(st).toMatchObject({ phase: 'awaiting-approval', verification: { verdict: 'differences', differences: { tables: 1, missing: 1, different: 1 } } });
    const text = verificationLines(st.verification!).join('\n');
    expect(text).toContain('DIFFERENCES in 1 table(s): 1 missing, 0 extra, 1 different');
    expect(text).toContain('app.orders: 1 missing, 0 extra, 1 different (missing id=7, different id=9)');
  });
});

describe('crossmove verify on AWS', () => {
  it('starts crossmove-verify-<stage> on the newest state, without the gate\'s plan and verdict, named after the migration', async () => {
    latestRun(history({ ...baseState, diffPlan: { job: 'gate-1' }, diff: diffSummaryStub(true, 'clean') }, 'Ask for cutover approval'));
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${child}x`, startDate: t(60) });
    const started = await startVerify('orders-2', SM, ['shop.orders'], new Date('2026-11-24T10:11:12Z'));
    expect(started).toMatchObject({ migrationId: 'orders-2', executionName: 'orders-2--verify-20261124-101112', fromRun: 'orders-2' });
    const call = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(call).toMatchObject({ stateMachineArn: VERIFY_SM, name: 'orders-2--verify-20261124-101112' });
    const input = JSON.parse(call.input!);
    expect(input).toMatchObject({ input: { migrationId: 'orders-2' }, replication: expect.any(Object), verifyRequest: { tables: ['shop.orders'] } });
    expect(input.diffPlan).toBeUndefined();
    expect(input.diff).toBeUndefined();
  });

  it('refuses after the cutover and before replication, saying why', async () => {
    latestRun(history({ ...baseState, cutover: { ok: true } }, 'Switch DNS'));
    await expect(startVerify('orders-2', SM, undefined)).rejects.toThrow('has cut over');
    sfn.reset();
    const { replication: _r, ...early } = baseState;
    latestRun(history(early, 'Copy the data consistently'));
    await expect(startVerify('orders-2', SM, undefined)).rejects.toThrow('is not replicating yet');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('follows the execution: its newest check while running, the output verdict once it succeeded', async () => {
    sfn.on(DescribeExecutionCommand, { executionArn: child }).resolvesOnce({ executionArn: child, stateMachineArn: VERIFY_SM, status: 'RUNNING', startDate: t(0) }).resolves({
      executionArn: child, stateMachineArn: VERIFY_SM, status: 'SUCCEEDED', startDate: t(0), output: JSON.stringify({ diff: diffSummaryStub(true, 'clean', 9000) }),
    });
    sfn.on(GetExecutionHistoryCommand, { executionArn: child }).resolves({
      events: [{ id: 8, timestamp: t(8), type: 'TaskStateExited', stateExitedEventDetails: { name: 'Check the comparison', output: JSON.stringify({ diff: diffSummaryStub(false, 'clean', 4000) }) } }],
    });
    expect(await verifyProgress(child)).toMatchObject({ status: 'RUNNING', diff: { done: false, rowsCompared: 4000 } });
    expect(await verifyProgress(child)).toMatchObject({ status: 'SUCCEEDED', diff: { done: true, verdict: 'clean', rowsCompared: 9000 } });
  });
});
