// "Cut over" / "Fall back": the users and grants that differ, as the switch's result reports them.
// Bounded: the result travels through Step Functions (256 KB per payload) and is stored in the marker
// row (a TEXT column, 64 KB), and past the point of no return an oversized result would fail the state
// and skip DNS and reverse replication. So the result keeps counts and the first lines; the whole list
// goes to the log, in parts small enough for one CloudWatch Logs event each.
import { logger } from '../logger.js';

/** Lines of the diff the result shows (the tasks that failed after the switch come on top). */
const GRANT_LINES_SHOWN = 50;
/** Tasks that failed after the switch are few (at most the two after-switch tasks, repeated by retries). */
const PROBLEM_LINES_SHOWN = 10;
const MAX_LINE_CHARS = 300;
const LOG_PART_LINES = 200;

export interface GrantDifferenceCounts {
  /** Users on the old primary that the new one lacks. */
  missingUsers: number;
  /** Grant lines the new primary lacks. */
  missingGrants: number;
  /** Lines of the whole diff (missingUsers + missingGrants). */
  total: number;
  /** How many of them are in grantDifferences. */
  shown: number;
  /** Where the whole list is when it was cut. */
  fullList: string | null;
}

export interface GrantReport {
  grantDifferences: string[];
  grantDifferenceCounts: GrantDifferenceCounts;
}

const clip = (line: string) => (line.length <= MAX_LINE_CHARS ? line : `${line.slice(0, MAX_LINE_CHARS - 3)}...`);

const FULL_LIST_IN_LOG = (action: string) => `the log, "${action}: grant differences (part i of n)"`;

/**
 * The report of a diff: after-switch problems first, then the diff's first lines, then one line saying
 * how many more there are and where they are.
 */
export function grantReport(action: string, diffLines: string[], counts: { missingUsers: number; missingGrants: number }, problems: string[] = []): GrantReport {
  const shown = diffLines.slice(0, GRANT_LINES_SHOWN).map(clip);
  const more = diffLines.length - shown.length;
  return {
    grantDifferences: [
      ...problems.slice(0, PROBLEM_LINES_SHOWN).map(clip),
      ...shown,
      ...(more > 0 ? [`... and ${more} more user/grant differences (${diffLines.length} in all; the whole list is in ${FULL_LIST_IN_LOG(action)})`] : []),
    ],
    grantDifferenceCounts: {
      missingUsers: counts.missingUsers,
      missingGrants: counts.missingGrants,
      total: diffLines.length,
      shown: shown.length,
      fullList: more > 0 ? FULL_LIST_IN_LOG(action) : null,
    },
  };
}

/** A report that already exists (from a marker) with more after-switch problems on top, still bounded. */
export function withProblems<R extends { grantDifferences: string[] }>(result: R, problems: string[]): R {
  if (!problems.length) return result;
  return { ...result, grantDifferences: [...problems.slice(0, PROBLEM_LINES_SHOWN).map(clip), ...result.grantDifferences].slice(0, GRANT_LINES_SHOWN + 2 * PROBLEM_LINES_SHOWN + 1) };
}

/** The whole diff in the log, in parts (one CloudWatch Logs event is at most 256 KB). */
export function logGrantDifferences(action: string, diffLines: string[]): void {
  const parts = Math.ceil(diffLines.length / LOG_PART_LINES);
  for (let i = 0; i < parts; i++) {
    logger.warn(`${action}: grant differences (part ${i + 1} of ${parts})`, { lines: diffLines.slice(i * LOG_PART_LINES, (i + 1) * LOG_PART_LINES) });
  }
}
