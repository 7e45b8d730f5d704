// A migration's status: its latest run's DescribeExecution + GetExecutionHistory digested, the lag
// from the running monitoring window (child execution) or the scheduled lag check, whichever is newer,
// and the approval record.
// Read-only. Never returns the task token or the state payload itself.
import type { ApprovalTable, ApprovalStatus } from '../approval/table.js';
import { describeExecution, executionHistory, notFound, runsOf } from './executions.js';
import { COPY_WINDOW_STATE, digestHistory, healthOf, lagOf, newestCopyCheck, newestDiffCheck, newestLagCheck, type HistoryDigest } from './history-digest.js';
import type { DiffSummary } from '../verify/diff-report.js';

export interface MigrationStatus {
  migrationId: string;
  executionName: string;
  executionArn: string;
  run: number;
  executionStatus: string;
  startedAt: string | null;
  stoppedAt: string | null;
  phase: HistoryDigest['phase'];
  currentState: string | null;
  currentStateSince: string | null;
  phases: HistoryDigest['phases'];
  waitingForApprovalSince: string | null;
  lag: HistoryDigest['lag'];
  replication: HistoryDigest['replication'];
  /** The logical copy's progress: rows, bytes, chunks (ranges) done of planned, rate, ETA. */
  copy: HistoryDigest['copy'];
  approval: {
    status: ApprovalStatus;
    requestedAt: string;
    expiresAt: string;
    answeredBy?: string;
    answeredAt?: string;
    reason?: string;
    commands?: { approve: string; reject: string };
  } | null;
  failure: HistoryDigest['failure'];
  /** The data comparison: its newest verdict or progress (null: not started, or cutover.verify none). */
  verification: VerificationStatus | null;
  /** Past the cutover's point of no return: the target is the primary, and what is left to do. */
  afterCutover: HistoryDigest['afterCutover'];
}

type VerificationStatus = Pick<DiffSummary, 'job' | 'done' | 'verdict' | 'mode' | 'tablesTotal' | 'tablesCompared' | 'rowsCompared' | 'rowsPerSec' | 'etaSeconds' | 'differences' | 'tables' | 'notVerifiable' | 'positions' | 'checkedAt'>;

function verificationOf(d: DiffSummary | null): VerificationStatus | null {
  if (!d) return null;
  const { job, done, verdict, mode, tablesTotal, tablesCompared, rowsCompared, rowsPerSec, etaSeconds, differences, tables, notVerifiable, positions, checkedAt } = d;
  return { job, done, verdict, mode, tablesTotal, tablesCompared, rowsCompared, rowsPerSec, etaSeconds, differences, tables, notVerifiable, positions, checkedAt };
}

export async function migrationStatus(migrationId: string, stateMachineArn: string, table: ApprovalTable): Promise<MigrationStatus> {
  const [latest] = await runsOf(stateMachineArn, migrationId);
  if (!latest) throw notFound(migrationId);
  const [described, events, record, watch] = await Promise.all([
    describeExecution(latest.executionArn),
    executionHistory(latest.executionArn),
    table.record(migrationId),
    table.watch(migrationId),
  ]);
  const digest = digestHistory(events, described.status ?? latest.status);
  let { lag, replication, copy } = digest;
  if (digest.childExecutionArn && digest.currentState === COPY_WINDOW_STATE) {
    // A copy window runs for hours: its newest "Check the copy" is fresher than the parent's.
    copy = newestCopyCheck(await executionHistory(digest.childExecutionArn, { newestFirst: true, limit: 100 })) ?? copy;
  } else if (digest.childExecutionArn) {
    // The lag loop runs in a child execution: its newest check is fresher than the parent's.
    const check = newestLagCheck(await executionHistory(digest.childExecutionArn, { newestFirst: true, limit: 100 }));
    if (check) {
      lag = lagOf(check);
      replication = healthOf(check);
    }
  }
  // A comparison window runs in a child execution: its newest check is the live progress.
  let diff = digest.diff;
  if (digest.compareExecutionArn) diff = newestDiffCheck(await executionHistory(digest.compareExecutionArn, { newestFirst: true, limit: 100 })) ?? diff;
  // The scheduled lag check reads replication every minute, also while the gate waits: use it when newer.
  if (watch && watch.executionName === latest.name && digest.executionStatus === 'RUNNING' && watch.lastCheckedAt > (lag?.checkedAt ?? '')) {
    const l = watch.lastLag;
    lag = { heartbeatLagMs: l.heartbeatLagMs, byteLag: l.byteLag, secondsBehind: l.secondsBehind, checkedAt: watch.lastCheckedAt, underLimit: null, caughtUp: null };
    replication = healthOf({ ioRunning: l.ioRunning, sqlRunning: l.sqlRunning });
  }
  const approval =
    record && record.executionName === latest.name
      ? {
          status: record.status,
          requestedAt: record.requestedAt,
          expiresAt: record.expiresAt,
          answeredBy: record.answeredBy,
          answeredAt: record.answeredAt,
          reason: record.reason,
          commands: record.commands,
        }
      : null;
  return {
    migrationId,
    executionName: latest.name,
    executionArn: latest.executionArn,
    run: latest.run,
    executionStatus: digest.executionStatus,
    startedAt: described.startDate ? new Date(described.startDate).toISOString() : null,
    stoppedAt: described.stopDate ? new Date(described.stopDate).toISOString() : null,
    phase: digest.phase,
    currentState: digest.currentState,
    currentStateSince: digest.currentStateSince,
    phases: digest.phases,
    waitingForApprovalSince: digest.waitingForApprovalSince ?? (approval?.status === 'pending' && digest.executionStatus === 'RUNNING' ? approval.requestedAt : null),
    lag,
    replication,
    copy,
    approval,
    failure: digest.failure ?? (described.error ? { error: described.error, cause: described.cause ?? '' } : null),
    verification: verificationOf(diff),
    afterCutover: digest.afterCutover,
  };
}
