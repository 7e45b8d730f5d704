// What a person needs to decide on the cutover: the lag right now, what the cutover will do, until
// when the gate waits, and how to answer. Built from the state only (no secrets in the state).
import type { MigrationState, ReplicationCheck } from '../state.js';
import type { MigrationInput } from '../input/validate.js';
import { formatDiffSummary, type DiffSummary } from '../verify/diff-report.js';

export interface ApprovalRequest {
  migrationId: string;
  executionName: string;
  /** Step Functions task token. Not a password, but it lets its holder decide the cutover: stores keep it. */
  taskToken: string;
  requestedAt: string;
  expiresAt: string;
  lag: Pick<ReplicationCheck, 'heartbeatLagMs' | 'byteLag' | 'secondsBehind' | 'healthy' | 'caughtUp' | 'checkedAt'> | null;
  /** The cutover's steps, in order, as the operator will see them. */
  plan: string[];
  /** The data comparison's verdict; null: cutover.verify none. In short and in words. */
  verification?: ApprovalVerification | null;
  commands: { approve: string; reject: string };
  /** The HTTP API's approve/reject routes (IAM-authorised), when the stack has an API (CROSSMOVE_API_URL). */
  urls?: { approve: string; reject: string };
}

interface ApprovalVerification {
  verdict: DiffSummary['verdict'];
  tablesCompared: number;
  rowsCompared: number;
  differences: DiffSummary['differences'];
  notVerifiableByRows: number;
  /** The report in words: tables and rows that differ by primary key, tables not verifiable by rows. */
  summary: string;
}

/** The event of the "Ask for cutover approval" task (lambda:invoke.waitForTaskToken Payload). */
export interface ApprovalTaskEvent {
  taskToken: string;
  state: MigrationState;
}

export function buildApprovalRequest(state: MigrationState, taskToken: string, now: Date): ApprovalRequest {
  const input = state.input;
  const lag = state.lag;
  return {
    migrationId: input.migrationId,
    executionName: input.names.executionName,
    taskToken,
    requestedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + input.derived.approvalTimeoutSeconds * 1000).toISOString(),
    lag: lag
      ? {
          heartbeatLagMs: lag.heartbeatLagMs,
          byteLag: lag.byteLag,
          secondsBehind: lag.secondsBehind,
          healthy: lag.healthy,
          caughtUp: lag.caughtUp,
          checkedAt: lag.checkedAt,
        }
      : null,
    plan: describeCutoverPlan(input),
    verification: verificationOf(state),
    commands: {
      approve: `crossmove approve ${input.migrationId}`,
      reject: `crossmove reject ${input.migrationId} --reason "<why>"`,
    },
    ...apiUrls(input.migrationId),
  };
}

function apiUrls(migrationId: string): Pick<ApprovalRequest, 'urls'> {
  const base = process.env.CROSSMOVE_API_URL?.replace(/\/$/, '');
  if (!base) return {};
  const at = `${base}/migrations/${encodeURIComponent(migrationId)}`;
  return { urls: { approve: `POST ${at}/approve`, reject: `POST ${at}/reject` } };
}

/** The cutover as a list of plain sentences (the same order as the cutover step runs them). */
export function describeCutoverPlan(input: MigrationInput): string[] {
  const c = input.cutover;
  const block =
    c.writeBlock?.method === 'security-group'
      ? `Block writes to the source by removing the MySQL inbound rules of ${c.writeBlock.securityGroupId}`
      : 'Block writes to the source (read_only)';
  const steps = [
    block,
    `Kill the application sessions on the source${c.writeBlock?.keepUsers?.length ? ` (except ${c.writeBlock.keepUsers.join(', ')})` : ''}`,
    `Wait up to ${c.catchUpTimeoutSeconds} s until the target executed the source's last binlog position (else roll back: source writable again)`,
    'Stop replication on the target',
    c.verify === 'none'
      ? 'No data check (cutover.verify is none)'
      : 'Re-check by key the rows the comparison left unsettled and that the applier stopped cleanly (no table scan)',
    'Make the target writable',
  ];
  if (c.dns) steps.push(`Point ${c.dns.recordName} (zone ${c.dns.hostedZoneId}, TTL ${c.dns.ttl} s) at the target`);
  if (c.reverseReplication) steps.push('Start reverse replication target -> source (fallback)');
  return steps;
}

function verificationOf(state: MigrationState): ApprovalVerification | null {
  const d = state.diff;
  if (!d || state.input.cutover.verify === 'none') return null;
  return {
    verdict: d.verdict,
    tablesCompared: d.tablesCompared,
    rowsCompared: d.rowsCompared,
    differences: d.differences,
    notVerifiableByRows: d.notVerifiable.length,
    summary: formatDiffSummary(d),
  };
}
