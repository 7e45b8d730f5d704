// The migration state machine past the point of no return, executed (aws-local-stepfunctions, step
// handlers stubbed, the report handler real): a failure after "Cut over" ends in "Migrated, with
// unfinished steps" naming what is left, a failed "Cut over" asks the target how far it got, and a
// re-run of a migration whose target took over resumes after the cutover without replicating into it.
import { describe, expect, it } from 'vitest';
import { runStateMachineLocally, type RunEvent, type RunOptions } from '../../local/run-state-machine.js';
import type { CutoverResult, PriorCutover } from '../../shared/state.js';
import { CROSS_ACCOUNT_CLONE_INPUT, failing, stubHandlers } from './stubs.js';

type Stubs = ReturnType<typeof stubHandlers>;

const INPUT = {
  ...CROSS_ACCOUNT_CLONE_INPUT,
  cutover: { approval: 'manual', dns: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', recordName: 'orders-db.internal.example.com', ttl: 5 } },
};

const RECORDED: CutoverResult = {
  ok: true, rolledBack: false, writeBlockedMs: 28,
  finalSourcePosition: { file: 'mysql-bin.000002', position: 9000 },
  targetPositionAtSwitch: { file: 'mysql-bin.000001', position: 800 },
  tablesVerified: 3, checksumsMatch: true, grantDifferences: [], steps: [],
};

// The clone's master user secret an earlier run made ("Reset the master password"), found by its name.
const TARGET_ADMIN: NonNullable<PriorCutover['targetAdmin']> = {
  done: true, attempts: 0, status: 'in-effect', username: 'admin', clusterIdentifier: 'crossmove-orders-2026-12', createdSecret: false,
  secretRef: 'arn:aws:secretsmanager:us-east-1:222222222222:secret:crossmove/orders-2026-12/target-admin-AbCdEf',
};

const record = (phase: PriorCutover['phase']): PriorCutover => ({
  targetIsPrimary: phase === 'past-point-of-no-return' || phase === 'done',
  phase,
  cutover: phase === 'past-point-of-no-return' || phase === 'done' ? RECORDED : null,
  targetEndpoint: { host: 'crossmove-orders-2026-12.cluster-c1.us-east-1.rds.amazonaws.com', port: 3306 },
  sourceEndpoint: { host: 'orders.cluster-c0.us-east-1.rds.amazonaws.com', port: 3306 },
  targetAdmin: TARGET_ADMIN,
  detail: 'test',
  checkedAt: new Date().toISOString(),
});

async function run(stubs: Stubs, extra: Partial<RunOptions> = {}) {
  const events: RunEvent[] = [];
  const result = await runStateMachineLocally({
    input: INPUT,
    handlers: stubs.handlers,
    waitMs: 0,
    retryMs: 0,
    approve: async () => ({ approved: true, by: 'test' }),
    onEvent: (e) => events.push(e),
    ...extra,
  });
  const main = events.filter((e) => e.execution === 'migration');
  const entered = main.filter((e) => e.type === 'StateEntered').map((e) => e.state!);
  const exited = (state: string) => main.filter((e) => e.type === 'StateExited' && e.state === state).at(-1)?.payload as Record<string, any> | undefined;
  return { result, entered, exited };
}

describe('a failure after the point of no return', () => {
  it('Switch DNS fails: "Migrated, with unfinished steps" names DNS (failed) and reverse replication (not run); nothing else runs', async () => {
    const stubs = stubHandlers();
    stubs.handlers.switchDns = failing('Error', 'Region is missing');
    const { result, entered, exited } = await run(stubs);

    expect(result).toMatchObject({ status: 'FAILED', error: 'MigratedWithUnfinishedSteps' });
    expect(entered.slice(-4)).toEqual(['Cut over', 'Switch DNS', 'Report the unfinished migration', 'Migrated, with unfinished steps']);
    expect(entered).not.toContain('Report the failure');
    expect(stubs.calls.startReverseReplication).toBeUndefined();
    expect(result.cause).toContain('past its point of no return');
    expect(result.cause).toContain('1. Switch DNS - failed: Error: Region is missing');
    expect(result.cause).toContain('2. Start reverse replication - not run (after Switch DNS)');
    expect(result.cause).toContain('stays blocked and must not be made writable again except by `crossmove fallback`');
    const state = exited('Report the unfinished migration')!;
    expect(state.cutover).toMatchObject({ ok: true });
    expect(state.failureReport).toMatchObject({
      outcome: 'migrated-unfinished',
      error: 'MigratedWithUnfinishedSteps',
      unfinished: [
        { step: 'Switch DNS', status: 'failed', why: 'Error: Region is missing' },
        { step: 'Start reverse replication', status: 'not-run' },
      ],
    });
    expect(state.failureReport.unfinished[0].todo).toContain('orders-db.internal.example.com');
  });

  it('Start reverse replication fails: only it is unfinished', async () => {
    const stubs = stubHandlers();
    stubs.handlers.startReverseReplication = failing('ReplicationSslUnsupportedError', 'replication.ssl is true but Aurora MySQL 2 does not implement encrypted binlog replication');
    const { result, entered, exited } = await run(stubs);
    expect(result).toMatchObject({ status: 'FAILED', error: 'MigratedWithUnfinishedSteps' });
    expect(entered.slice(-3)).toEqual(['Start reverse replication', 'Report the unfinished migration', 'Migrated, with unfinished steps']);
    expect(exited('Report the unfinished migration')!.failureReport.unfinished).toEqual([
      expect.objectContaining({ step: 'Start reverse replication', status: 'failed', why: expect.stringContaining('ReplicationSslUnsupportedError') }),
    ]);
    expect(exited('Report the unfinished migration')!.dns).toMatchObject({ skipped: true });
  });

  it('a cutover still incomplete after its retries: the record says past the point of no return, so the outcome is "migrated, unfinished" with the recorded cutover', async () => {
    const stubs = stubHandlers();
    let cutovers = 0;
    stubs.handlers.cutOver = (s) => (cutovers++, failing('CutoverIncompleteError', 'Cutover passed its point of no return but did not finish (RESET SLAVE ALL timed out). The source stays blocked.')(s));
    let reads = 0;
    stubs.handlers.readCutoverRecord = () => (++reads === 1 ? record(null) : record('past-point-of-no-return'));
    const { result, entered, exited } = await run(stubs);
    expect(result).toMatchObject({ status: 'FAILED', error: 'MigratedWithUnfinishedSteps' });
    expect(cutovers).toBe(11); // the first call and 10 retries
    expect(entered.slice(-6)).toEqual(['Cut over', 'Check how far the cutover got', 'Did the cutover pass its point of no return?', 'Keep the recorded cutover', 'Report the unfinished migration', 'Migrated, with unfinished steps']);
    const state = exited('Report the unfinished migration')!;
    expect(state.cutover).toEqual(RECORDED);
    expect(state.failureReport.unfinished.map((u: any) => [u.step, u.status])).toEqual([
      ['Cut over', 'failed'],
      ['Switch DNS', 'not-run'],
      ['Start reverse replication', 'not-run'],
    ]);
    expect(result.cause).toContain('not writable yet');
    expect(stubs.calls.switchDns).toBeUndefined();
  });

  it('a cutover whose Lambda failed after recording "done" (e.g. its output was too large): DNS and reverse replication are what is left', async () => {
    const stubs = stubHandlers();
    stubs.handlers.cutOver = failing('States.DataLimitExceeded', 'The state/task returned a result with a size exceeding the maximum number of bytes service limit.');
    let reads = 0;
    stubs.handlers.readCutoverRecord = () => (++reads === 1 ? record(null) : record('done'));
    const { result, exited } = await run(stubs);
    expect(result.error).toBe('MigratedWithUnfinishedSteps');
    expect(exited('Report the unfinished migration')!.failureReport.unfinished.map((u: any) => u.step)).toEqual(['Switch DNS', 'Start reverse replication']);
  });

  it('a cutover that rolled back is still "Report the failure": its record says the source is the primary', async () => {
    const stubs = stubHandlers();
    stubs.handlers.cutOver = failing('CutoverRolledBackError', 'Cutover rolled back: the 30 s budget ran out. The source is writable again');
    let reads = 0;
    stubs.handlers.readCutoverRecord = () => (++reads === 1 ? record(null) : record('rolled-back'));
    const { result, entered } = await run(stubs);
    expect(result).toMatchObject({ status: 'FAILED', error: 'CutoverRolledBackError' });
    expect(entered.slice(-3)).toEqual(['Did the cutover pass its point of no return?', 'Report the failure', 'Fail']);
  });

  it('a cutover record that cannot be read after a failed cutover: reported with the cutover error, and the outcome said to be unknown', async () => {
    const stubs = stubHandlers();
    stubs.handlers.cutOver = failing('States.Timeout', 'Task timed out');
    let reads = 0;
    stubs.handlers.readCutoverRecord = (s) => (++reads === 1 ? record(null) : failing('Error', 'connecting to the target: ER_ACCESS_DENIED_ERROR')(s));
    const { result } = await run(stubs);
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    expect(result.cause).toContain('Whether the cutover passed its point of no return is unknown');
    expect(result.cause).toContain('Do not make the source writable by hand');
  });

  it('a failed failure report still ends in MigratedWithUnfinishedSteps, with the step\'s own cause', async () => {
    const stubs = stubHandlers();
    stubs.handlers.switchDns = failing('AccessDenied', 'not authorized to perform route53:ChangeResourceRecordSets');
    stubs.handlers.reportFailure = failing('Error', 'SNS is down');
    const { result, entered } = await run(stubs);
    expect(entered.at(-1)).toBe('Migrated, with unfinished steps (unreported)');
    expect(result).toMatchObject({ status: 'FAILED', error: 'MigratedWithUnfinishedSteps', cause: 'not authorized to perform route53:ChangeResourceRecordSets' });
  });
});

describe('a re-run of a migration whose target took over', () => {
  it('resumes after the cutover: no preflight, copy, replication or approval; the recorded cutover, then DNS and reverse replication', async () => {
    const stubs = stubHandlers();
    stubs.handlers.readCutoverRecord = () => record('done');
    // What the real step returns for a done marker; it connects to the target with $.targetAdmin.
    const adminsSeen: unknown[] = [];
    stubs.handlers.cutOver = (s) => (adminsSeen.push(s.targetAdmin), RECORDED);
    const approvals: unknown[] = [];
    const { result, entered, exited } = await run(stubs, { approve: async (r) => (approvals.push(r), { approved: true }) });
    expect(result.status).toBe('SUCCEEDED');
    expect(entered).toEqual([
      'Validate the input', 'Read the cutover record on the target', 'Is the target already the primary?', 'Use the target admin found with the record',
      'Resume after the cutover', 'Switch DNS', 'Start reverse replication', 'Report success', 'Migration complete',
    ]);
    // "Reset the master password" did not run: the secret it made, as the record step found it.
    expect(stubs.calls.resetMasterPassword).toBeUndefined();
    expect(adminsSeen).toEqual([TARGET_ADMIN]);
    for (const key of ['runPreflight', 'checkDatabases', 'keepBinlogs', 'shareCluster', 'cloneCluster', 'createReplicationUser', 'startReplication', 'checkReplication', 'requestApproval']) {
      expect(stubs.calls[key], key).toBeUndefined();
    }
    expect(approvals).toEqual([]);
    expect(stubs.calls.switchDns).toBe(1);
    const out = result.output as Record<string, any>;
    expect(out.cutover).toEqual(RECORDED);
    expect(out.targetAdmin).toEqual(TARGET_ADMIN);
    expect(out.reverse).toMatchObject({ started: true, from: RECORDED.targetPositionAtSwitch });
    expect(exited('Report success')!.report).toMatchObject({ outcome: 'succeeded' });
  });

  it('a switch that passed its point of no return but never finished is finished, then the rest runs', async () => {
    const stubs = stubHandlers();
    stubs.handlers.readCutoverRecord = () => record('past-point-of-no-return');
    let cutovers = 0;
    stubs.handlers.cutOver = async (s) => (++cutovers === 1 ? failing('CutoverIncompleteError', 'RESET SLAVE ALL failed; a retry finishes the switch')(s) : RECORDED);
    const { result, entered } = await run(stubs);
    expect(result.status).toBe('SUCCEEDED');
    expect(cutovers).toBe(2);
    expect(entered.filter((n) => n === 'Resume after the cutover')).toHaveLength(1);
    expect(stubs.calls.startReplication).toBeUndefined();
  });

  it('the resumed DNS step failing again ends "migrated, unfinished" again', async () => {
    const stubs = stubHandlers();
    stubs.handlers.readCutoverRecord = () => record('done');
    stubs.handlers.cutOver = () => RECORDED;
    stubs.handlers.switchDns = failing('Error', 'Region is missing');
    const { result, exited } = await run(stubs);
    expect(result.error).toBe('MigratedWithUnfinishedSteps');
    expect(exited('Report the unfinished migration')!.failureReport.unfinished.map((u: any) => u.step)).toEqual(['Switch DNS', 'Start reverse replication']);
  });
});
