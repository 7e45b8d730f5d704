// Starting cleanup / fallback on AWS: the final state of the newest successful run is read from its
// execution output and handed to the action's own state machine, under a name derived from the
// migration id (asking twice answers with the running or finished execution instead of a second one).
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { BadRequestError, MigrationNotFoundError } from '../../shared/errors.js';
import { setSfnClient } from '../../shared/aws/sfn.js';
import { followUpStateMachineArn, startFollowUp } from '../../shared/operations/follow-up.js';

const sfn = mockClient(SFNClient);
const MIGRATION_SM = 'arn:aws:states:us-east-1:222222222222:stateMachine:crossmove-migration-prod';
const CLEANUP_SM = 'arn:aws:states:us-east-1:222222222222:stateMachine:crossmove-cleanup-prod';
const exec = (name: string) => `arn:aws:states:us-east-1:222222222222:execution:crossmove-migration-prod:${name}`;
const cleanupExec = (name: string) => `arn:aws:states:us-east-1:222222222222:execution:crossmove-cleanup-prod:${name}`;
const notFound = () => Object.assign(new Error('Execution Does Not Exist'), { name: 'ExecutionDoesNotExist' });
const finalState = { input: { migrationId: 'orders-2026-12' }, cutover: { ok: true }, replicationUser: { secretRef: 'arn:aws:secretsmanager:us-east-1:222222222222:secret:crossmove/orders-2026-12/replication-user-AbCdEf' } };

beforeEach(() => {
  sfn.reset();
  setSfnClient(new SFNClient({ region: 'us-east-1' }));
  // ListExecutions shaped like the API reference: the first run failed, the re-run succeeded.
  sfn.on(ListExecutionsCommand).resolves({
    executions: [
      { executionArn: exec('orders-2026-12'), stateMachineArn: MIGRATION_SM, name: 'orders-2026-12', status: 'FAILED', startDate: new Date('2026-11-01T10:00:00Z'), stopDate: new Date('2026-11-01T11:00:00Z') },
      { executionArn: exec('orders-2026-12--r2'), stateMachineArn: MIGRATION_SM, name: 'orders-2026-12--r2', status: 'SUCCEEDED', startDate: new Date('2026-11-02T10:00:00Z'), stopDate: new Date('2026-11-04T10:00:00Z') },
      { executionArn: exec('other'), stateMachineArn: MIGRATION_SM, name: 'other', status: 'SUCCEEDED', startDate: new Date('2026-11-02T10:00:00Z') },
    ],
  });
  sfn.on(DescribeExecutionCommand, { executionArn: exec('orders-2026-12--r2') }).resolves({
    executionArn: exec('orders-2026-12--r2'), stateMachineArn: MIGRATION_SM, name: 'orders-2026-12--r2', status: 'SUCCEEDED',
    startDate: new Date('2026-11-02T10:00:00Z'), output: JSON.stringify(finalState),
  });
});

describe('startFollowUp', () => {
  it('starts the cleanup state machine on the final state of the newest successful run, with the options', async () => {
    sfn.on(DescribeExecutionCommand, { executionArn: cleanupExec('orders-2026-12--cleanup') }).rejects(notFound());
    sfn.on(StartExecutionCommand).resolves({ executionArn: cleanupExec('orders-2026-12--cleanup'), startDate: new Date() });

    const out = await startFollowUp('cleanup', 'orders-2026-12', MIGRATION_SM, { sourceCluster: 'stop' });

    expect(out).toMatchObject({ started: true, executionName: 'orders-2026-12--cleanup', status: 'RUNNING' });
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input).toEqual({
      stateMachineArn: CLEANUP_SM,
      name: 'orders-2026-12--cleanup',
      input: JSON.stringify({ ...finalState, cleanupOptions: { sourceCluster: 'stop' } }),
    });
  });

  it('answers with the execution that already runs instead of starting a second one', async () => {
    sfn.on(DescribeExecutionCommand, { executionArn: cleanupExec('orders-2026-12--cleanup') }).resolves({ status: 'RUNNING', executionArn: cleanupExec('orders-2026-12--cleanup'), stateMachineArn: CLEANUP_SM, startDate: new Date() });
    const out = await startFollowUp('cleanup', 'orders-2026-12', MIGRATION_SM);
    expect(out).toMatchObject({ started: false, status: 'RUNNING', executionName: 'orders-2026-12--cleanup' });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('retries a failed action under the next name', async () => {
    const fallbackExec = (n: string) => `arn:aws:states:us-east-1:222222222222:execution:crossmove-fallback-prod:${n}`;
    sfn.on(DescribeExecutionCommand, { executionArn: fallbackExec('orders-2026-12--fallback') }).resolves({ status: 'FAILED', executionArn: fallbackExec('orders-2026-12--fallback'), stateMachineArn: 'x', startDate: new Date() });
    sfn.on(DescribeExecutionCommand, { executionArn: fallbackExec('orders-2026-12--fallback-2') }).rejects(notFound());
    sfn.on(StartExecutionCommand).resolves({ executionArn: fallbackExec('orders-2026-12--fallback-2'), startDate: new Date() });
    const out = await startFollowUp('fallback', 'orders-2026-12', MIGRATION_SM);
    expect(out.executionName).toBe('orders-2026-12--fallback-2');
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.stateMachineArn).toBe(followUpStateMachineArn(MIGRATION_SM, 'fallback'));
  });

  it('refuses when the migration never succeeded, and names an unknown migration', async () => {
    await expect(startFollowUp('cleanup', 'nope', MIGRATION_SM)).rejects.toThrow(MigrationNotFoundError);
    sfn.on(ListExecutionsCommand).resolves({ executions: [{ executionArn: exec('m1'), stateMachineArn: MIGRATION_SM, name: 'm1', status: 'RUNNING', startDate: new Date() }] });
    const err = await startFollowUp('fallback', 'm1', MIGRATION_SM).catch((e: Error) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as Error).message).toContain('m1 RUNNING');
  });
});
