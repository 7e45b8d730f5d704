// The migration state machine executed with aws-local-stepfunctions (Wait states paced to 0 ms, retries
// immediate), step handlers replaced by stubs returning shaped results; the report handlers are real.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runStateMachineLocally, type RunEvent, type RunOptions } from '../../local/run-state-machine.js';
import { validateMigrationInput } from '../../shared/input/validate.js';
import { CROSS_ACCOUNT_CLONE_INPUT, LOCAL_LOGICAL_INPUT, failing, stubHandlers } from './stubs.js';
import { FrozenSourceAccessDeniedError, TransientError } from '../../shared/errors.js';

type Stubs = ReturnType<typeof stubHandlers>;

async function run(input: unknown, stubs: Stubs, extra: Partial<RunOptions> = {}) {
  const events: RunEvent[] = [];
  const result = await runStateMachineLocally({
    input,
    handlers: stubs.handlers,
    waitMs: 0,
    retryMs: 0,
    approve: async () => ({ approved: true, by: 'test' }),
    onEvent: (e) => events.push(e),
    ...extra,
  });
  const entered = events.filter((e) => e.type === 'StateEntered' && e.execution === 'migration').map((e) => e.state!);
  return { result, events, entered, output: result.output as Record<string, any> };
}

describe('happy paths', () => {
  it('cross-account clone: shares, accepts, grants the key, polls clone/writer/binlog position, waits for approval, cuts over', async () => {
    const stubs = stubHandlers({ cloneReadyAt: 3, caughtUpAt: 3 });
    const approvals: unknown[] = [];
    const { result, entered, output } = await run(CROSS_ACCOUNT_CLONE_INPUT, stubs, {
      approve: async (request) => {
        approvals.push(request);
        return { approved: true, by: 'alice' };
      },
    });

    expect(result.status).toBe('SUCCEEDED');
    expect(entered.slice(0, 13)).toEqual([
      'Validate the input', 'Read the cutover record on the target', 'Is the target already the primary?', 'Run preflight checks', 'Did the preflight checks pass?', 'Check the databases', 'Keep binlogs long enough',
      'Which initial load?', 'Is it a same-account migration?', 'Share the cluster', 'Accept the share',
      'Let the target use the KMS key', 'Clone the cluster',
    ]);
    expect(stubs.calls.checkClone).toBe(2); // 1 create + 2 checks = attempts 3
    expect(output.clone).toMatchObject({ done: true, attempts: 3, clusterIdentifier: 'crossmove-orders-2026-12' });
    expect(output.binlogPosition.position).toEqual({ file: 'mysql-bin-changelog.000013', position: 77991983 });
    // After the writer, the master password is reset into crossmove's secret and waited for, before the position is read.
    const afterWriter = entered.slice(entered.lastIndexOf('Is the writer available?') + 1, entered.indexOf("Read the clone's binlog position") + 1);
    expect(afterWriter).toEqual([
      'Reset the master password', 'Wait for the master password', 'Check the master password', 'Is the new master password in effect?',
      'Wait for the master password', 'Check the master password', 'Is the new master password in effect?', "Read the clone's binlog position",
    ]);
    expect(output.targetAdmin).toMatchObject({ done: true, attempts: 2, secretRef: expect.stringContaining('secret:crossmove/orders-2026-12/target-admin') });
    expect(output.lag).toMatchObject({ caughtUp: true, attempts: 3 });
    expect(approvals).toHaveLength(1);
    expect(approvals[0]).toMatchObject({ migrationId: 'orders-2026-12', lag: { caughtUp: true }, commands: { approve: 'crossmove approve orders-2026-12' } });
    expect(output.approval).toMatchObject({ approved: true, by: 'alice' });
    expect(output.report).toMatchObject({ outcome: 'succeeded', migrationId: 'orders-2026-12', initialLoad: 'clone', approvedBy: 'alice', reverseReplication: true });
    expect(entered.at(-1)).toBe('Migration complete');
    expect(stubs.calls.planCopy).toBeUndefined();
  });

  it('same-account clone skips RAM and the key policy', async () => {
    const stubs = stubHandlers();
    const { source, ...rest } = CROSS_ACCOUNT_CLONE_INPUT;
    const { accessRoleArn: _role, externalId: _ext, ...sameAccountSource } = source;
    const { result, entered } = await run({ ...rest, source: sameAccountSource }, stubs);
    expect(result.status).toBe('SUCCEEDED');
    expect(entered).toContain('Clone the cluster');
    expect(entered).not.toContain('Share the cluster');
    expect([stubs.calls.shareCluster, stubs.calls.acceptShare, stubs.calls.grantKeyAccess]).toEqual([undefined, undefined, undefined]);
  });

  it('logical path: copies the data, uses its binlog position, auto-approves after catching up', async () => {
    const stubs = stubHandlers({ caughtUpAt: 2 });
    const { result, entered, output } = await run(LOCAL_LOGICAL_INPUT, stubs, { approve: undefined });
    expect(result.status).toBe('SUCCEEDED');
    expect(entered.slice(entered.indexOf('Which initial load?'), entered.indexOf('Create the replication user'))).toEqual([
      'Which initial load?', 'Prepare the frozen source', 'Is the frozen source ready?', 'Plan the copy', 'Start the copy', 'Count the copy window',
      'Copy the data for one window', 'Keep the copy progress', 'Is the copy done?', 'Finish the copy', 'Are the secondary keys built?', "Use the copy's binlog position",
    ]);
    expect(stubs.calls.copyChunks).toBe(4); // one slot per initialLoad.parallelism (default 4), one round
    expect(entered).not.toContain('Clone the cluster');
    expect(entered).not.toContain('Ask for cutover approval');
    expect(output.binlogPosition).toEqual({ position: { file: 'mysql-bin.000002', position: 4242 }, done: true, attempts: 1, status: 'copied', origin: 'logical-copy' });
    expect(output.replication.from).toEqual({ file: 'mysql-bin.000002', position: 4242 });
    expect(output.approval).toMatchObject({ approved: true, by: 'auto', at: output.lag.checkedAt });
    expect(output.report.outcome).toBe('succeeded');
    expect(stubs.calls.requestApproval).toBeUndefined();
  });
});

describe('failures', () => {
  it('a clone that fails with a typed error goes to Report the failure and fails with that error; nothing later runs', async () => {
    const stubs = stubHandlers();
    stubs.handlers.cloneCluster = failing('ResourceConflictError', 'Target cluster crossmove-orders-2026-12 already exists and was not made by this migration');
    const { result, entered, output } = await run(CROSS_ACCOUNT_CLONE_INPUT, stubs);
    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'ResourceConflictError',
      cause: 'Target cluster crossmove-orders-2026-12 already exists and was not made by this migration',
    });
    expect(entered.slice(-2)).toEqual(['Report the failure', 'Fail']);
    expect(output).toBeUndefined();
    expect(stubs.calls.createWriter).toBeUndefined();
  });

  it('a Lambda-style JSON Cause is unwrapped to the typed error and its message', async () => {
    const stubs = stubHandlers();
    stubs.handlers.keepBinlogs = failing('BinlogDisabledError', JSON.stringify({ errorType: 'BinlogDisabledError', errorMessage: 'log_bin is OFF on the source', trace: ['at x'] }));
    const { result } = await run(CROSS_ACCOUNT_CLONE_INPUT, stubs);
    expect(result).toMatchObject({ status: 'FAILED', error: 'BinlogDisabledError', cause: 'log_bin is OFF on the source' });
  });

  it('a poll loop that exceeds its bound fails with CloneNotAvailableInTimeError after exactly 240 checks', async () => {
    const stubs = stubHandlers({ cloneReadyAt: Number.POSITIVE_INFINITY });
    const { result, entered } = await run(CROSS_ACCOUNT_CLONE_INPUT, stubs);
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('CloneNotAvailableInTimeError');
    expect(result.cause).toContain('crossmove-orders-2026-12');
    expect(result.cause).toContain('240 checks');
    expect((stubs.calls.cloneCluster ?? 0) + (stubs.calls.checkClone ?? 0)).toBe(240);
    expect(entered).toContain('Clone not available in time');
    expect(stubs.calls.createWriter).toBeUndefined();
  });

  it('a master password that never takes effect fails with MasterPasswordNotResetInTimeError after exactly 80 checks', async () => {
    const stubs = stubHandlers();
    stubs.handlers.checkMasterPassword = (st: any) => ({ ...st.targetAdmin, attempts: st.targetAdmin.attempts + 1, done: false, status: 'pending' });
    const { result, entered } = await run(CROSS_ACCOUNT_CLONE_INPUT, stubs);
    expect(result).toMatchObject({ status: 'FAILED', error: 'MasterPasswordNotResetInTimeError' });
    expect(result.cause).toContain('still pending after 80 checks');
    expect(result.cause).toContain('crossmove/orders-2026-12/target-admin');
    expect(entered.filter((n) => n === 'Check the master password')).toHaveLength(80);
    expect(stubs.calls.readBinlogPosition).toBeUndefined();
  });

  it('a transient error is retried and the run goes on', async () => {
    const stubs = stubHandlers();
    const real = stubs.handlers.createWriter!;
    let calls = 0;
    stubs.handlers.createWriter = async (state) => {
      calls += 1;
      if (calls === 1) await failing('TransientError', 'RDS answered InvalidDBClusterStateFault: the cluster is modifying')(state);
      return real(state);
    };
    const { result, events } = await run(CROSS_ACCOUNT_CLONE_INPUT, stubs);
    expect(result.status).toBe('SUCCEEDED');
    expect(calls).toBe(2);
    expect(events.filter((e) => e.type === 'StateRetried').map((e) => e.state)).toEqual(['Create the writer']);
  });

  it('a throttling error from the SDK is retried too', async () => {
    const stubs = stubHandlers();
    let calls = 0;
    const real = stubs.handlers.shareCluster!;
    stubs.handlers.shareCluster = async (s) => (++calls <= 2 ? failing('ThrottlingException', 'Rate exceeded')(s) : real(s));
    const { result } = await run(CROSS_ACCOUNT_CLONE_INPUT, stubs);
    expect(result.status).toBe('SUCCEEDED');
    expect(calls).toBe(3);
  });

  it('a typed permanent error is not retried', async () => {
    const stubs = stubHandlers();
    let calls = 0;
    stubs.handlers.grantKeyAccess = async (s) => {
      calls += 1;
      return failing('DefaultKmsKeyError', 'The source is encrypted with aws/rds; use initialLoad.method snapshot')(s);
    };
    const { result, events } = await run(CROSS_ACCOUNT_CLONE_INPUT, stubs);
    expect(calls).toBe(1);
    expect(events.some((e) => e.type === 'StateRetried')).toBe(false);
    expect(result).toMatchObject({ status: 'FAILED', error: 'DefaultKmsKeyError' });
  });

  it("the source role's refusal of the frozen source (FrozenSourceAccessDeniedError) is not retried: one attempt, then Report the failure with the redeployment in the cause", async () => {
    // Retried names do retry here (a TransientError twice, then it succeeds), so one attempt is the ASL's choice, not the harness's.
    const transient = stubHandlers();
    const prepare = transient.handlers.prepareFrozenSource!;
    let attempts = 0;
    transient.handlers.prepareFrozenSource = (...args: unknown[]) => {
      if (++attempts <= 2) throw new TransientError('RDS DescribeDBInstances failed temporarily');
      return (prepare as (...a: unknown[]) => unknown)(...args);
    };
    expect((await run(LOCAL_LOGICAL_INPUT, transient)).result.status).toBe('SUCCEEDED');
    expect(attempts).toBe(3);

    const stubs = stubHandlers();
    let denied = 0;
    const message = 'initialLoad.frozenSource kind rds-replica: the source-account role arn:aws:iam::111111111111:role/crossmove-source-access may not call rds:CreateDBInstanceReadReplica on arn:aws:rds:us-east-1:111111111111:db:crossmove-local-demo-frozen (AccessDenied: ...). Nothing was changed by this call; redeploy source-account/role.yaml with FrozenSource=rds-replica and SourceInstanceArn=arn:aws:rds:us-east-1:111111111111:db:orders-mysql';
    stubs.handlers.prepareFrozenSource = () => {
      denied++;
      throw new FrozenSourceAccessDeniedError(message);
    };
    const { result, entered } = await run(LOCAL_LOGICAL_INPUT, stubs);
    expect(denied).toBe(1);
    expect(result).toMatchObject({ status: 'FAILED', error: 'FrozenSourceAccessDeniedError', cause: expect.stringContaining('FrozenSource=rds-replica and SourceInstanceArn=') });
    expect(entered.slice(entered.indexOf('Prepare the frozen source'))).toEqual(['Prepare the frozen source', 'Report the failure', 'Fail']);
  });

  it('invalid input fails in the first state with every field named, before any other step', async () => {
    const stubs = stubHandlers();
    const { result, entered } = await run({ migrationId: 'Bad_Id', source: {}, target: {} }, stubs);
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('InputValidationError');
    expect(result.cause).toContain('migrationId');
    expect(result.cause).toContain('target.adminSecret');
    expect(entered).toEqual(['Validate the input', 'Report the failure', 'Fail']);
  });

  it('failed preflight checks stop the run before anything changes', async () => {
    const stubs = stubHandlers();
    stubs.handlers.runPreflight = () => ({ ok: false, checks: [{ id: 'binlog', status: 'fail', message: 'log_bin OFF' }] });
    const { result } = await run(CROSS_ACCOUNT_CLONE_INPUT, stubs);
    expect(result).toMatchObject({ status: 'FAILED', error: 'PreflightFailedError' });
    expect(stubs.calls.keepBinlogs).toBeUndefined();
  });

  it('the snapshot path snapshots, shares, copies and restores, then joins the clone path at "Create the writer"', async () => {
    const stubs = stubHandlers();
    const { result, entered } = await run({ ...CROSS_ACCOUNT_CLONE_INPUT, initialLoad: { method: 'snapshot' } }, stubs);
    expect(result.status).toBe('SUCCEEDED');
    const path = ['Snapshot the source', 'Share the snapshot', 'Let the target use the KMS key for the snapshot', 'Copy the snapshot', 'Restore the snapshot', 'Create the writer', 'Cut over'];
    expect(path.map((n) => entered.indexOf(n))).toEqual([...path.map((n) => entered.indexOf(n))].sort((a, b) => a - b));
    expect(path.every((n) => entered.includes(n))).toBe(true);
    expect([stubs.calls.checkSourceSnapshot, stubs.calls.checkSnapshotCopy, stubs.calls.checkClone]).toEqual([1, 1, 2]); // checkClone's stub is ready at attempt 3
    expect(stubs.calls.cloneCluster).toBeUndefined();
    expect(stubs.calls.shareCluster).toBeUndefined();
  });

  it('a replication error inside the lag-monitor child surfaces with its own name', async () => {
    const stubs = stubHandlers();
    stubs.handlers.checkReplication = failing('BinlogPurgedError', "IO error 1236: could not find first log file name in binary log index file");
    const { result } = await run(CROSS_ACCOUNT_CLONE_INPUT, stubs);
    expect(result).toMatchObject({ status: 'FAILED', error: 'BinlogPurgedError' });
    expect(result.cause).toContain('1236');
    expect(stubs.calls.cutOver).toBeUndefined();
  });

  it('an unhealthy replica (reported, not thrown) ends in ReplicationBrokenError', async () => {
    const stubs = stubHandlers();
    const real = stubs.handlers.checkReplication!;
    stubs.handlers.checkReplication = async (s) => ({ ...(await real(s) as object), sqlRunning: false, healthy: false, caughtUp: false });
    const { result } = await run(CROSS_ACCOUNT_CLONE_INPUT, stubs);
    expect(result).toMatchObject({ status: 'FAILED', error: 'ReplicationBrokenError' });
  });

  it('catching up is bounded by maxMonitorWindows', async () => {
    const stubs = stubHandlers({ caughtUpAt: Number.POSITIVE_INFINITY });
    stubs.handlers.validateInput = async (raw) => {
      const input = validateMigrationInput(raw);
      input.derived = { ...input.derived, monitorRoundsPerWindow: 4, maxMonitorWindows: 3 };
      return { input, accounts: { source: null, target: null, sameAccount: true, sourceRegion: null, targetRegion: null } };
    };
    const { result, events } = await run(LOCAL_LOGICAL_INPUT, stubs);
    expect(result).toMatchObject({ status: 'FAILED', error: 'ReplicationNotCaughtUpError' });
    expect(new Set(events.map((e) => e.execution))).toEqual(new Set(['migration', 'copy#1', 'lag-monitor#1', 'lag-monitor#2', 'lag-monitor#3']));
    expect(stubs.calls.checkReplication).toBe(12);
  });
});

describe('data comparison before the gate', () => {
  const workerCalls = (events: RunEvent[]) => events.filter((e) => e.type === 'StateEntered' && e.state === 'Compare chunks until the time budget');

  it('plans once, fans out one worker per verify.parallelism slot per round in a child window, loops rounds until done, then auto-approves a clean verdict', async () => {
    const stubs = stubHandlers({ caughtUpAt: 2, diffDoneAt: 3 });
    const seen: unknown[] = [];
    const worker = stubs.handlers.compareChunks!;
    stubs.handlers.compareChunks = async (e) => (seen.push(e), worker(e));
    const { result, entered, events, output } = await run({ ...LOCAL_LOGICAL_INPUT, verify: { parallelism: 3 } }, stubs, { approve: undefined });
    expect(result.status, result.cause).toBe('SUCCEEDED');
    const i = entered.indexOf('Has the data been compared?');
    expect(entered.slice(i, i + 8)).toEqual([
      'Has the data been compared?', 'Plan the comparison', 'Start comparing', 'Count the comparison window', 'Compare source and target for one window',
      "Keep the comparison's verdict", 'Is the comparison done?', 'Did the comparison find differences?',
    ]);
    expect(entered.indexOf('Approve automatically')).toBeGreaterThan(i);
    expect(stubs.calls.planDiff).toBe(1);
    expect(stubs.calls.checkDiff).toBe(3);
    expect(workerCalls(events)).toHaveLength(9); // 3 rounds x 3 workers, inside the verify child
    const windows = new Set(workerCalls(events).map((e) => e.execution));
    expect(windows.size).toBe(1); // one child window: rounds loop inside it
    expect([...windows][0]).toMatch(/^verify#\d+$/);
    expect(seen[0]).toEqual({ worker: 1, job: 'gate-1', input: expect.objectContaining({ migrationId: 'local-demo' }), accounts: expect.any(Object), diffPlan: { endpoints: expect.any(Object) } });
    expect(output.diff).toMatchObject({ done: true, verdict: 'clean' });
    expect(output.approval).toMatchObject({ by: 'auto' });
  });

  it('a difference stops at the gate even with approval auto, and the request carries the verdict with the rows by key', async () => {
    const stubs = stubHandlers({ caughtUpAt: 1, diffVerdict: 'differences' });
    const requests: any[] = [];
    const { result, entered, output } = await run(LOCAL_LOGICAL_INPUT, stubs, {
      approve: async (request) => {
        requests.push(request);
        return { approved: false, reason: 'the comparison found differences' };
      },
    });
    expect(entered).not.toContain('Approve automatically');
    expect(entered).toContain('Ask for cutover approval');
    expect(result).toMatchObject({ status: 'FAILED', error: 'ApprovalRejected' });
    expect(stubs.calls.cutOver).toBeUndefined();
    expect(requests[0].verification).toMatchObject({ verdict: 'differences', differences: { tables: 1, missing: 1, different: 1 } });
    expect(requests[0].verification.summary).toContain('missing   id=7');
    expect(requests[0].verification.summary).toContain('different id=9 (columns total)');
    expect(output).toBeUndefined();
  });

  it('a comparison that does not finish within maxDiffWindows ends in ComparisonNotFinishedError; nothing cut over', async () => {
    const stubs = stubHandlers({ caughtUpAt: 1, diffDoneAt: Number.POSITIVE_INFINITY });
    const validate = stubs.handlers.validateInput!;
    stubs.handlers.validateInput = async (raw) => {
      const out = (await validate(raw)) as { input: { derived: Record<string, number> } };
      out.input.derived = { ...out.input.derived, diffRoundsPerWindow: 2, maxDiffWindows: 3 };
      return out;
    };
    const { result, events } = await run(LOCAL_LOGICAL_INPUT, stubs);
    expect(result).toMatchObject({ status: 'FAILED', error: 'ComparisonNotFinishedError' });
    expect(result.cause).toContain('resume it from its cursor');
    expect(stubs.calls.checkDiff).toBe(6);
    expect(new Set(workerCalls(events).map((e) => e.execution)).size).toBe(3);
    expect(stubs.calls.cutOver).toBeUndefined();
  });

  it('cutover.verify none skips the comparison; a cutover refusal does not compare again', async () => {
    const none = stubHandlers({ caughtUpAt: 1 });
    const skipped = await run({ ...LOCAL_LOGICAL_INPUT, cutover: { approval: 'auto', verify: 'none' } }, none);
    expect(skipped.result.status).toBe('SUCCEEDED');
    expect(none.calls.planDiff).toBeUndefined();

    const stubs = stubHandlers({ caughtUpAt: 1 });
    const real = stubs.handlers.cutOver!;
    let cutovers = 0;
    stubs.handlers.cutOver = async (s) => (++cutovers === 1 ? failing('CutoverNotReadyError', 'lag grew; nothing changed')(s) : real(s));
    const again = await run(LOCAL_LOGICAL_INPUT, stubs);
    expect(again.result.status).toBe('SUCCEEDED');
    expect(cutovers).toBe(2);
    expect(stubs.calls.planDiff).toBe(1);
  });

  it('a worker that fails for good fails the window and the migration, naming its error', async () => {
    const stubs = stubHandlers({ caughtUpAt: 1 });
    stubs.handlers.compareChunks = failing('ComparisonNotPossibleError', 'the target does not replicate from the source');
    const { result } = await run(LOCAL_LOGICAL_INPUT, stubs);
    expect(result).toMatchObject({ status: 'FAILED', error: 'ComparisonNotPossibleError', cause: 'the target does not replicate from the source' });
    expect(stubs.calls.cutOver).toBeUndefined();
  });
});

describe('cutover not ready', () => {
  it('goes back to watching replication and asks again; nothing failed', async () => {
    const stubs = stubHandlers({ caughtUpAt: 2 });
    const real = stubs.handlers.cutOver!;
    let cutovers = 0;
    stubs.handlers.cutOver = async (s) => (++cutovers === 1 ? failing('CutoverNotReadyError', 'Lag 4.2 s is above cutover limit 1 s; nothing changed')(s) : real(s));
    const approvals: unknown[] = [];
    const { result, output } = await run(CROSS_ACCOUNT_CLONE_INPUT, stubs, {
      approve: async (request) => {
        approvals.push(request);
        return { approved: true, by: 'alice' };
      },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(cutovers).toBe(2);
    expect(approvals).toHaveLength(2);
    expect(output.monitor.windows).toBe(2);
    expect(output.cutoverNotReady.Error).toBe('CutoverNotReadyError');
    expect(stubs.calls.checkReplication).toBe(3);
  });

  it('a cutover that keeps refusing ends in CutoverNeverReadyError after 10 refusals, each after a wait', async () => {
    const stubs = stubHandlers({ caughtUpAt: 1 });
    let cutovers = 0;
    stubs.handlers.cutOver = (s) => {
      cutovers++;
      return failing('CutoverNotReadyError', 'Lag 4.2 s is above cutover limit 1 s; nothing changed')(s);
    };
    const { result, entered } = await run({ ...LOCAL_LOGICAL_INPUT, cutover: { approval: 'auto' } }, stubs);
    expect(result).toMatchObject({ status: 'FAILED', error: 'CutoverNeverReadyError' });
    expect(result.cause).toContain('10 times');
    expect(result.cause).toContain('Lag 4.2 s');
    expect(cutovers).toBe(10);
    expect(entered.filter((n) => n === 'Wait before watching replication again')).toHaveLength(9);
    expect(stubs.calls.switchDns).toBeUndefined();
  });

  it('a cutover stopped past its point of no return is retried until it finishes the switch', async () => {
    const stubs = stubHandlers();
    const real = stubs.handlers.cutOver!;
    let calls = 0;
    stubs.handlers.cutOver = async (state) => {
      calls += 1;
      if (calls <= 2) await failing('CutoverIncompleteError', 'RESET SLAVE ALL failed after the point of no return; the source stays blocked, a retry finishes the switch')(state);
      return real(state);
    };
    const { result, events } = await run(CROSS_ACCOUNT_CLONE_INPUT, stubs);
    expect(result.status).toBe('SUCCEEDED');
    expect(calls).toBe(3);
    expect(events.filter((e) => e.type === 'StateRetried').map((e) => e.state)).toEqual(['Cut over', 'Cut over']);
    expect(stubs.calls.switchDns).toBe(1);
  });

  it('a cutover that rolled back is reported, not retried', async () => {
    const stubs = stubHandlers();
    stubs.handlers.cutOver = failing('CutoverRolledBackError', 'Target did not reach the source position within 30 s; rolled back, source writable again');
    const { result } = await run(CROSS_ACCOUNT_CLONE_INPUT, stubs);
    expect(result).toMatchObject({ status: 'FAILED', error: 'CutoverRolledBackError' });
    expect(stubs.calls.switchDns).toBeUndefined();
  });
});

describe('approval gate', () => {
  it('a rejected approval ends in "Approval not given": nothing cut over, replication left running', async () => {
    const stubs = stubHandlers();
    const { result, entered, events } = await run(CROSS_ACCOUNT_CLONE_INPUT, stubs, {
      approve: async () => ({ approved: false, by: 'bob', reason: 'not during the sale' }),
    });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('ApprovalRejected');
    expect(result.cause).toContain('not during the sale');
    expect(result.cause).toContain('replication to the target is still running');
    expect(entered.slice(-3)).toEqual(['Ask for cutover approval', 'Report that approval was not given', 'Approval not given']);
    expect(stubs.calls.cutOver).toBeUndefined();
    expect(stubs.calls.switchDns).toBeUndefined();
    const report = events.find((e) => e.type === 'StateExited' && e.state === 'Report that approval was not given')!.payload as any;
    expect(report.failureReport).toMatchObject({ outcome: 'approval-not-given', lastCompletedStep: 'Compare source and target for one window' }); // the comparison ran after the last lag check
  });

  it('an approval that times out ends the same way with ApprovalTimedOutError', async () => {
    const stubs = stubHandlers();
    const real = stubs.handlers.validateInput!;
    stubs.handlers.validateInput = async (raw) => {
      const state = (await real(raw)) as any;
      state.input.derived.approvalTimeoutSeconds = 1;
      return state;
    };
    let signal: AbortSignal | undefined;
    const { result, entered } = await run(CROSS_ACCOUNT_CLONE_INPUT, stubs, {
      approve: (_request, ctx) => {
        signal = ctx.signal;
        return new Promise(() => undefined); // nobody answers
      },
    });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('ApprovalTimedOutError');
    expect(result.cause).toContain('No answer within');
    expect(entered.at(-1)).toBe('Approval not given');
    expect(stubs.calls.cutOver).toBeUndefined();
    expect(signal?.aborted).toBe(true); // the prompt is told the gate is gone
  });
});

describe('local runner', () => {
  it('binds the real handler from the registry when no override is given (validateInput without AWS)', async () => {
    const stubs = stubHandlers();
    delete stubs.handlers.validateInput;
    const { result, output } = await run(LOCAL_LOGICAL_INPUT, stubs);
    expect(result.status).toBe('SUCCEEDED');
    expect(output.accounts).toMatchObject({ source: null, sameAccount: true });
    expect(output.input.names.replicationSecretName).toBe('crossmove/local-demo/replication-user');
  });

  it('paces Wait states from the definition and the validated input (SecondsPath = replication.pollSeconds)', async () => {
    const seen = new Map<string, number>();
    const stubs = stubHandlers();
    await run({ ...CROSS_ACCOUNT_CLONE_INPUT, replication: { pollSeconds: 7 } }, stubs, {
      waitMs: (name, seconds) => {
        seen.set(name, seconds);
        return 0;
      },
    });
    expect(Object.fromEntries(seen)).toEqual({
      'Wait for the clone': 30,
      'Wait for the writer': 30,
      'Wait for the master password': 15,
      'Wait for the binlog position event': 30,
      'Wait before the next check': 7,
      'Wait before watching replication again': 7,
      'Wait for the source snapshot': 60,
      'Wait for the snapshot copy': 60,
      'Wait for the restored cluster': 60,
      'Wait for the frozen source': 60,
      'Wait for the secondary keys': 30,
      'Wait before the next copy round': 30,
    });
  });

  it('points generated secrets at a local store when none is configured', async () => {
    const before = process.env.CROSSMOVE_SECRET_STORE;
    delete process.env.CROSSMOVE_SECRET_STORE;
    try {
      await run(LOCAL_LOGICAL_INPUT, stubHandlers(), { secretDir: '/tmp/crossmove-test-secrets' });
      expect(process.env.CROSSMOVE_SECRET_STORE).toBe('local:/tmp/crossmove-test-secrets');
    } finally {
      if (before === undefined) delete process.env.CROSSMOVE_SECRET_STORE;
      else process.env.CROSSMOVE_SECRET_STORE = before;
    }
  });

  it('reports every state entered and exited, with payloads, for the main run and each child window', async () => {
    const { events } = await run(LOCAL_LOGICAL_INPUT, stubHandlers({ caughtUpAt: 1 }));
    const exited = events.find((e) => e.type === 'StateExited' && e.state === 'Finish the copy')!;
    expect((exited.payload as any).logicalCopy.rows).toBe(1200);
    expect(events.some((e) => e.execution === 'copy#1' && e.state === 'Copy chunks until the time budget' && e.mapIndex === 3)).toBe(true);
    expect(events.some((e) => e.execution === 'lag-monitor#1' && e.state === 'Check replication')).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'ExecutionSucceeded', execution: 'migration' });
  });

  it('an aborted run (Ctrl-C) stops and says so', async () => {
    const controller = new AbortController();
    const stubs = stubHandlers();
    const { result } = await run(CROSS_ACCOUNT_CLONE_INPUT, stubs, {
      signal: controller.signal,
      waitMs: (name) => {
        if (name === 'Wait for the clone') setTimeout(() => controller.abort(), 10);
        return name === 'Wait for the clone' ? 60_000 : 0;
      },
    });
    expect(result.status).toBe('ABORTED');
    expect(stubs.calls.createWriter).toBeUndefined();
  });

  it('no secret value appears in any state payload of a run', async () => {
    const { storeCredentials } = await import('../../shared/secrets.js');
    const password = `pw-${Math.random().toString(36).slice(2)}-Zz9!`;
    const stubs = stubHandlers();
    stubs.handlers.createReplicationUser = async (s) => ({
      userName: 'crossmove_repl',
      secretRef: await storeCredentials(s.input.names.replicationSecretName, { username: 'crossmove_repl', password }),
      requireSsl: false,
    });
    const { result, events, output } = await run(LOCAL_LOGICAL_INPUT, stubs, { secretDir: mkdtempSync(join(tmpdir(), 'crossmove-secrets-')) });
    expect(result.status).toBe('SUCCEEDED');
    expect(output.replicationUser.secretRef).toMatch(/^(file:|arn:)/);
    const everything = JSON.stringify(events);
    expect(everything.length).toBeGreaterThan(10_000);
    expect(everything).not.toContain(password);
  });
});
