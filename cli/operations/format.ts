// Plain-text views of the operations answers for the terminal (colour only when the stream is a TTY).
import pc from 'picocolors';
import type { MigrationStatus } from '../../shared/operations/status.js';
import type { MigrationSummary } from '../../shared/operations/list.js';
import type { StartResult } from '../../shared/operations/start.js';
import type { ApprovalAnswered } from '../../shared/approval/answer.js';

const ago = (iso: string | null, now: Date) => {
  if (!iso) return '';
  const s = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
};

const PHASE_COLOUR: Record<string, (s: string) => string> = {
  succeeded: pc.green,
  'migrated-unfinished': pc.yellow,
  failed: pc.red,
  'awaiting-approval': pc.yellow,
  'cutting-over': pc.magenta,
};

export function formatStatus(s: MigrationStatus, now = new Date()): string {
  const colour = PHASE_COLOUR[s.phase] ?? pc.cyan;
  const lines = [
    `${pc.bold(s.migrationId)}  ${colour(s.phase)}  (${s.executionStatus}, run ${s.run}: ${s.executionName})`,
    `  state:        ${s.currentState ?? '-'}${s.currentStateSince ? `  since ${s.currentStateSince} (${ago(s.currentStateSince, now)})` : ''}`,
  ];
  if (s.lag) {
    const hb = s.lag.heartbeatLagMs === null ? 'n/a' : `${s.lag.heartbeatLagMs} ms`;
    const bytes = s.lag.byteLag === null ? 'n/a' : `${s.lag.byteLag} bytes`;
    lines.push(`  lag:          heartbeat ${hb}, ${bytes} behind${s.lag.checkedAt ? `  (checked ${s.lag.checkedAt})` : ''}`);
  }
  if (s.copy) {
    const c = s.copy;
    const eta = c.done ? 'done' : c.etaSeconds === null ? 'ETA n/a' : `ETA ${c.etaSeconds} s`;
    lines.push(
      `  copy:         ${c.rows.toLocaleString('en')} of ~${c.estimatedRows.toLocaleString('en')} rows, ${(c.bytes / 1024 ** 2).toFixed(1)} MiB, chunks ${c.rangesDone}/${c.rangesTotal}, ${c.rowsPerSec.toLocaleString('en')} rows/s, ${eta}${c.chunksCopiedTwice ? `, ${c.chunksCopiedTwice} sub-chunk(s) committed twice` : ''}  (checked ${c.checkedAt})`,
    );
  }
  const health = s.replication.health === 'running' ? pc.green('running') : s.replication.health === 'broken' ? pc.red('BROKEN') : 'not checked yet';
  lines.push(`  replication:  ${health}${s.replication.health === 'broken' ? ` (IO ${s.replication.ioRunning}, SQL ${s.replication.sqlRunning})` : ''}`);
  if (s.verification) lines.push(...verificationLines(s.verification));
  if (s.waitingForApprovalSince) {
    lines.push(pc.yellow(`  waiting for cutover approval since ${s.waitingForApprovalSince} (${ago(s.waitingForApprovalSince, now)})`));
    if (s.approval?.expiresAt) lines.push(`  the request expires at ${s.approval.expiresAt}`);
    lines.push(`  approve: crossmove approve ${s.migrationId}`, `  reject:  crossmove reject ${s.migrationId} --reason "<why>"`);
  } else if (s.approval && s.approval.status !== 'pending') {
    lines.push(`  approval:     ${s.approval.status}${s.approval.answeredBy ? ` by ${s.approval.answeredBy}` : ''}${s.approval.answeredAt ? ` at ${s.approval.answeredAt}` : ''}${s.approval.reason ? ` (${s.approval.reason})` : ''}`);
  }
  if (s.afterCutover) {
    lines.push(pc.bold('  target:       the PRIMARY (past the cutover\'s point of no return; the source stays blocked)'));
    if (s.afterCutover.unfinished.length) {
      lines.push(pc.yellow(`  unfinished:   ${s.afterCutover.unfinished.length} step(s)`));
      s.afterCutover.unfinished.forEach((u, i) => lines.push(`    ${i + 1}. ${u.step} (${u.status === 'failed' ? `failed: ${u.why}` : u.why})`, `       to do: ${u.todo}`));
    }
    lines.push(`  next:         ${s.afterCutover.next}`);
  }
  // The unfinished steps above already say it all; the raw cause repeats them.
  if (s.failure && !s.afterCutover?.unfinished.length) lines.push(pc.red(`  failure:      ${s.failure.error}: ${s.failure.cause}`));
  lines.push('  phases:');
  for (const p of s.phases) lines.push(`    ${p.since}  ${p.phase}`);
  return lines.join('\n');
}

/** The comparison's verdict, or its progress, and the first differing tables with their rows by key. */
export function verificationLines(v: NonNullable<MigrationStatus['verification']>): string[] {
  const n = (x: number) => x.toLocaleString('en-US');
  const head =
    v.verdict === 'clean'
      ? pc.green(`clean: ${v.tablesCompared} tables, ${n(v.rowsCompared)} rows identical`)
      : v.verdict === 'differences'
        ? pc.red(`DIFFERENCES in ${v.differences.tables} table(s): ${v.differences.missing} missing, ${v.differences.extra} extra, ${v.differences.different} different row(s)`)
        : `running: ${n(v.rowsCompared)} rows compared, ${n(v.rowsPerSec)} rows/s${v.etaSeconds !== null ? `, about ${v.etaSeconds} s left` : ''}`;
  const lines = [`  comparison:   ${head}  (${v.job}, ${v.mode})`];
  for (const t of v.tables.slice(0, 5)) {
    const rows = t.rows.slice(0, 5).map((r) => `${r.kind} ${r.key}`).join(', ');
    lines.push(`    ${t.table}: ${t.missing} missing, ${t.extra} extra, ${t.different} different${rows ? ` (${rows}${t.rows.length > 5 ? ', ...' : ''})` : t.detail ? ` (${t.detail})` : ''}`);
  }
  if (v.notVerifiable.length) lines.push(`    not verifiable by rows: ${v.notVerifiable.map((x) => `${x.table} (${x.reason})`).join(', ')}`);
  return lines;
}

export function formatList(list: MigrationSummary[]): string {
  if (!list.length) return 'No migrations on this stack.';
  const rows = list.map((m) => [m.migrationId, m.status, `run ${m.run}`, m.startedAt ?? '', m.stoppedAt ?? '']);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export function formatStarted(r: StartResult): string {
  return `Started ${r.migrationId} (execution ${r.executionName}, run ${r.run}) at ${r.startedAt}.\nFollow it: crossmove status ${r.migrationId} --watch`;
}

export function formatAnswered(a: ApprovalAnswered): string {
  return a.decision === 'approved'
    ? `Cutover of ${a.migrationId} approved by ${a.by} at ${a.at}: the migration cuts over now. Follow it: crossmove status ${a.migrationId} --watch`
    : `Cutover of ${a.migrationId} rejected by ${a.by} at ${a.at} (${a.reason}). Nothing was cut over; replication keeps running.`;
}
