// The texts of crossmove's notifications. Built from the state and the reports only; no secret is in
// either (credentials travel as references), and publishNotification() redacts once more.
import type { ApprovalRequest } from '../approval/request.js';
import type { MigrationState } from '../state.js';
import type { FailureReport } from './failure.js';
import type { Notification } from './types.js';

export function approvalNeeded(request: ApprovalRequest): Notification {
  const lag = request.lag;
  const lagLine = lag
    ? `Lag: heartbeat ${lag.heartbeatLagMs ?? 'n/a'} ms, ${lag.byteLag ?? 'n/a'} bytes behind, ` +
      `Seconds_Behind ${lag.secondsBehind ?? 'n/a'} (checked ${lag.checkedAt}); replication ${lag.healthy ? 'healthy' : 'NOT healthy'}.`
    : 'Lag: not measured yet.';
  return {
    kind: 'approval-needed',
    migrationId: request.migrationId,
    subject:
      request.verification && request.verification.verdict !== 'clean'
        ? `crossmove ${request.migrationId}: the data comparison found differences; cutover approval needed`
        : `crossmove ${request.migrationId}: cutover approval needed`,
    text: [
      `Migration ${request.migrationId} has caught up and waits for your approval to cut over (until ${request.expiresAt}).`,
      lagLine,
      ...(request.verification
        ? ['', request.verification.summary, ...(request.verification.verdict === 'clean' ? [] : ['Approving cuts over with these differences; rejecting leaves replication running so they can be fixed and compared again (crossmove verify).'])]
        : []),
      '',
      'The cutover will:',
      ...request.plan.map((step, i) => `  ${i + 1}. ${step}`),
      '',
      `Approve: ${request.commands.approve}`,
      `Reject:  ${request.commands.reject}`,
      ...(request.urls ? [`Or through the API (SigV4): ${request.urls.approve} | ${request.urls.reject}`] : []),
      'Without an answer the gate times out; nothing is cut over and replication keeps running.',
    ].join('\n'),
  };
}

export function failed(report: Omit<FailureReport, 'notified'>): Notification {
  if (report.outcome === 'approval-not-given') {
    return {
      kind: 'approval-not-given',
      migrationId: report.migrationId,
      subject: `crossmove ${report.migrationId}: cutover not approved, nothing cut over`,
      text: report.message,
    };
  }
  if (report.outcome === 'migrated-unfinished') {
    const left = report.unfinished ?? [];
    return {
      kind: 'migrated-unfinished',
      migrationId: report.migrationId,
      subject: `crossmove ${report.migrationId}: MIGRATED, ${left.length} step${left.length === 1 ? '' : 's'} unfinished (${left.map((u) => u.step).join(', ')})`,
      text: report.message,
    };
  }
  return {
    kind: 'migration-failed',
    migrationId: report.migrationId,
    subject: `crossmove ${report.migrationId}: migration failed (${report.error})`,
    text: [
      `Migration ${report.migrationId} failed: ${report.error}.`,
      report.message,
      '',
      `Last completed step: ${report.lastCompletedStep ?? 'none (nothing was changed)'}.`,
      'Every step is idempotent: after fixing the cause, start the migration again and finished steps are reused.',
    ].join('\n'),
  };
}

export interface SuccessSummary {
  outcome: 'succeeded';
  migrationId: string;
  initialLoad: string;
  writeBlockedMs: number | null;
  tablesVerified: number | null;
  checksumsMatch: boolean | null;
  grantDifferences: number;
  dns: string | null;
  reverseReplication: boolean;
  approvedBy: string | null;
  notified: boolean;
}

export function summarizeSuccess(state: MigrationState): Omit<SuccessSummary, 'notified'> {
  return {
    outcome: 'succeeded',
    migrationId: state.input.migrationId,
    initialLoad: state.input.initialLoad.method,
    writeBlockedMs: state.cutover?.writeBlockedMs ?? null,
    tablesVerified: state.cutover?.tablesVerified ?? null,
    checksumsMatch: state.cutover?.checksumsMatch ?? null,
    grantDifferences: state.cutover?.grantDifferenceCounts?.total ?? state.cutover?.grantDifferences?.length ?? 0,
    dns: state.dns && !state.dns.skipped ? `${state.dns.recordName} -> ${state.dns.value}` : null,
    reverseReplication: Boolean(state.reverse?.started),
    approvedBy: state.approval?.by ?? null,
  };
}

export function succeeded(summary: Omit<SuccessSummary, 'notified'>): Notification {
  return {
    kind: 'migration-succeeded',
    migrationId: summary.migrationId,
    subject: `crossmove ${summary.migrationId}: cutover done`,
    text: [
      `Migration ${summary.migrationId} is complete: the target takes the writes.`,
      `Writes were blocked for ${summary.writeBlockedMs ?? 'n/a'} ms.`,
      `Verified tables: ${summary.tablesVerified ?? 'n/a'}; checksums match: ${summary.checksumsMatch ?? 'not checked'}.`,
      summary.grantDifferences ? `Users/grants that differ between source and target: ${summary.grantDifferences} (see the cutover result).` : '',
      summary.dns ? `DNS: ${summary.dns}.` : 'DNS: not changed (no cutover.dns).',
      summary.reverseReplication ? 'Reverse replication target -> source is running (fallback).' : 'No reverse replication.',
    ]
      .filter(Boolean)
      .join('\n'),
  };
}
