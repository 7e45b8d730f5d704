// What `crossmove cleanup|fallback --local` prints for a person: every item cleanup removed, kept or
// found gone, the database half as well as the AWS half (--json prints the raw result instead).
import type { RunResult } from '../local/run-state-machine.js';
import type { FollowUpKind } from '../shared/operations/follow-up.js';
import type { CleanupItem, CleanupReport } from '../shared/state.js';
import { redact } from '../shared/redact.js';

const OUTCOME: Record<CleanupItem['outcome'], string> = {
  removed: 'removed',
  stopped: 'stopped',
  gone: 'already gone',
  kept: 'kept',
  pending: 'PENDING',
  blocked: 'BLOCKED',
  skipped: 'skipped',
};

/** After a fallback, said every time: the way back to the target is a new migration, not a switch. */
export const AFTER_FALLBACK =
  'Nothing replicates source -> target any more: the target keeps the data as of the fallback and receives no new writes. ' +
  'To move to the target again, run `crossmove cleanup` and start a new migration into an empty target.';

function itemLines(title: string, report: CleanupReport | undefined): string[] {
  if (!report) return [];
  const width = Math.max(...report.items.map((i) => i.kind.length), 4);
  return [
    `${title}:`,
    ...report.items.map((i) => `  ${OUTCOME[i.outcome].padEnd(13)} ${i.kind.replace(/-/g, ' ').padEnd(width)}  ${i.id}${i.account ? ` (account ${i.account})` : ''}${i.detail ? `: ${i.detail}` : ''}`),
  ];
}

function cleanupSummary(reports: CleanupReport[]): string {
  const items = reports.flatMap((r) => r.items);
  const counts = (Object.keys(OUTCOME) as CleanupItem['outcome'][])
    .map((o) => [OUTCOME[o], items.filter((i) => i.outcome === o).length] as const)
    .filter(([, n]) => n > 0);
  const complete = reports.every((r) => r.complete);
  const pending = items.some((i) => i.outcome === 'pending');
  return `${complete ? 'complete' : `INCOMPLETE (${pending ? 'run cleanup again to finish what is pending' : 'see what is blocked'})`}: ${counts.map(([o, n]) => `${n} ${o}`).join(', ')}`;
}

export function followUpText(kind: FollowUpKind, migrationId: string, result: RunResult): string {
  const head = `${kind} of ${migrationId}: ${result.status}${result.error ? ` ${result.error}: ${result.cause ?? ''}` : ''}`;
  const output = (result.output ?? {}) as { cleanupDb?: CleanupReport; cleanup?: CleanupReport; fallback?: unknown };
  const lines: string[] = [];
  if (kind === 'cleanup') {
    const reports = [output.cleanupDb, output.cleanup].filter((r): r is CleanupReport => Boolean(r));
    lines.push(reports.length ? `${head}, ${cleanupSummary(reports)}` : head, ...itemLines('Databases', output.cleanupDb), ...itemLines('AWS', output.cleanup));
  } else {
    lines.push(head);
    if (result.status === 'SUCCEEDED') lines.push(JSON.stringify(output.fallback ?? {}, null, 2), AFTER_FALLBACK);
  }
  return redact(lines.join('\n'));
}
