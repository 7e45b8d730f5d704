// The comparison's report (read-only), from the store on the target: its verdict, what was compared
// at which positions, how fast, the tables and rows that differ (by primary key, the first ones named
// and all counted) and the tables that could not be verified row by row, with why. The same summary
// goes into the state ($.diff: the approval request, status, the CLI), capped so that the payload
// stays small; `crossmove verify` prints it as JSON or as text.
import type { Conn } from '../mysql/connection.js';
import { CursorStore } from '../chunks/cursor-store.js';
import { displayTuple } from '../chunks/key-values.js';
import { tableName } from '../chunks/keys.js';
import { rowDifferences, tableEntries, type RowKind, type TableEntry } from './diff-store.js';

type DiffVerdict = 'clean' | 'differences' | 'incomplete';

interface TableDifference {
  table: string;
  missing: number;
  extra: number;
  different: number;
  unsettled: number;
  /** Why the table differs as a whole (missing on the target, columns, count/hash of a keyless table). */
  detail?: string;
  /** The first rows, named by primary key (`id=42`); `columns` for rows whose content differs. */
  rows: { kind: RowKind; key: string; columns?: string[] }[];
}

interface NotVerifiableTable {
  table: string;
  reason: string;
  detail: string;
  sourceRows: number | null;
  targetRows: number | null;
  /** Whole-table count and hash (transactional tables without a usable key): equal or not. null: counted only. */
  same: boolean | null;
}

export interface DiffSummary {
  job: string;
  done: boolean;
  verdict: DiffVerdict;
  /** exact: every read was at one position on both sides; settled: some waited for the target to pass it. */
  mode: 'exact' | 'settled' | 'mixed';
  tablesTotal: number;
  tablesCompared: number;
  rowsCompared: number;
  chunks: number;
  rowsPerSec: number;
  elapsedSeconds: number;
  etaSeconds: number | null;
  differences: { tables: number; rows: number; missing: number; extra: number; different: number; unsettled: number };
  tables: TableDifference[];
  /** More tables differ than are listed. */
  moreTables: number;
  notVerifiable: NotVerifiableTable[];
  positions: { first: string | null; last: string | null };
  checkedAt: string;
}

export interface SummaryLimits {
  tables: number;
  rowsPerTable: number;
}

/** Payload-sized (the state): at most 20 tables with 10 rows each. */
export const STATE_LIMITS: SummaryLimits = { tables: 20, rowsPerTable: 10 };

export async function diffSummary(target: Conn, migrationId: string, job: string, limits: SummaryLimits): Promise<DiffSummary> {
  const store = await CursorStore.open(target, migrationId);
  const progress = await store.progress(job);
  const entries = await tableEntries(target, migrationId, job);
  const differing = entries.filter(differs);
  const shown: TableDifference[] = [];
  for (const e of differing.slice(0, limits.tables)) {
    const rows = e.key ? await rowDifferences(target, migrationId, job, e.table, undefined, limits.rowsPerTable) : [];
    shown.push({
      table: tableName(e.table),
      missing: e.missing,
      extra: e.extra,
      different: e.key ? e.different : 0,
      unsettled: e.unsettled,
      ...(wholeTableDetail(e) ? { detail: wholeTableDetail(e)! } : {}),
      rows: rows.map((r) => ({ kind: r.kind, key: displayTuple(e.key!, r.key), ...(r.columns ? { columns: r.columns } : {}) })),
    });
  }
  const sum = (f: (e: TableEntry) => number) => entries.reduce((n, e) => n + f(e), 0);
  // Rows are counted where rows can be named; a keyless table that differs as a whole is a table, not a row.
  const rowSum = (f: (e: TableEntry) => number) => entries.filter((e) => e.key).reduce((n, e) => n + f(e), 0);
  const positions = entries.flatMap((e) => [e.firstPosition, e.lastPosition]).filter((p): p is string => !!p).sort(comparePositions);
  const done = progress.done;
  const anyDifference = differing.length > 0;
  const settled = entries.filter((e) => e.rowsCompared > 0 && !e.exact).length;
  const compared = entries.filter((e) => e.rowsCompared > 0 || e.status === 'same' || e.status === 'different');
  return {
    job,
    done,
    verdict: !done ? 'incomplete' : anyDifference ? 'differences' : 'clean',
    mode: settled === 0 ? 'exact' : settled === compared.length ? 'settled' : 'mixed',
    tablesTotal: entries.length,
    tablesCompared: entries.filter((e) => e.status === 'same' || e.status === 'different' || (e.status === 'not-verifiable' && e.sourceRows !== null)).length,
    rowsCompared: sum((e) => e.rowsCompared),
    chunks: sum((e) => e.chunks),
    rowsPerSec: progress.rowsPerSec,
    elapsedSeconds: progress.elapsedSeconds,
    etaSeconds: progress.etaSeconds,
    differences: {
      tables: differing.length,
      rows: rowSum((e) => e.missing + e.extra + e.different),
      missing: rowSum((e) => e.missing),
      extra: rowSum((e) => e.extra),
      different: rowSum((e) => e.different),
      unsettled: rowSum((e) => e.unsettled),
    },
    tables: shown,
    moreTables: Math.max(0, differing.length - shown.length),
    notVerifiable: entries
      .filter((e) => e.status === 'not-verifiable')
      .map((e) => ({
        table: tableName(e.table),
        reason: e.reason ?? 'unknown',
        detail: e.detail ?? '',
        sourceRows: e.sourceRows,
        targetRows: e.targetRows,
        same: e.sourceRows === null ? null : e.detail?.includes('counted only') ? null : e.different === 0,
      })),
    positions: { first: positions[0] ?? null, last: positions.at(-1) ?? null },
    checkedAt: new Date().toISOString(),
  };
}

/** A table differs: rows differ, it is missing or extra, its columns differ, or its whole-table hash differs. */
function differs(e: TableEntry): boolean {
  if (e.missing + e.extra + e.different > 0) return true;
  return e.status === 'different';
}

function wholeTableDetail(e: TableEntry): string | null {
  if (e.reason === 'missing-on-target' || e.reason === 'only-on-target' || e.reason === 'columns-differ') return e.detail;
  if (e.status === 'not-verifiable' && e.different > 0) {
    return e.sourceRows !== e.targetRows
      ? `${e.sourceRows ?? '?'} rows on the source, ${e.targetRows ?? '?'} on the target (no usable key: rows cannot be named)`
      : `same row count (${e.sourceRows}), other content (no usable key: rows cannot be named)`;
  }
  return e.columnsNote;
}

function comparePositions(a: string, b: string): number {
  const parse = (p: string) => {
    const i = p.lastIndexOf(':');
    const file = p.slice(0, i);
    return { n: Number(file.slice(file.lastIndexOf('.') + 1)), pos: Number(p.slice(i + 1)) };
  };
  const x = parse(a);
  const y = parse(b);
  return x.n - y.n || x.pos - y.pos;
}

/** The summary in words, for the CLI, the approval notification and the local run. */
export function formatDiffSummary(d: DiffSummary): string {
  const lines: string[] = [];
  const head =
    d.verdict === 'clean'
      ? `Comparison clean: ${d.tablesCompared} tables, ${d.rowsCompared.toLocaleString('en-US')} rows identical on both sides`
      : d.verdict === 'differences'
        ? `Comparison found differences: ${d.differences.tables} table(s), ${d.differences.rows.toLocaleString('en-US')} row(s) (${d.differences.missing} missing on the target, ${d.differences.extra} extra on the target, ${d.differences.different} different)`
        : `Comparison not finished: ${d.rowsCompared.toLocaleString('en-US')} rows compared so far${d.etaSeconds !== null ? `, about ${d.etaSeconds} s left` : ''}`;
  lines.push(head);
  lines.push(
    `  ${d.chunks.toLocaleString('en-US')} chunks, ${d.rowsPerSec.toLocaleString('en-US')} rows/s, ${d.mode === 'exact' ? 'each table read at one binlog position on both sides' : `${d.mode}: some reads waited for the target to pass the source position (rows rechecked)`}` +
      (d.positions.first ? `, positions ${d.positions.first}${d.positions.last && d.positions.last !== d.positions.first ? ` .. ${d.positions.last}` : ''}` : ''),
  );
  for (const t of d.tables) {
    const rowCounts = t.missing + t.extra + t.different + t.unsettled > 0;
    lines.push(
      rowCounts
        ? `  ${t.table}: ${t.missing} missing, ${t.extra} extra, ${t.different} different${t.unsettled ? `, ${t.unsettled} still changing` : ''}${t.detail ? ` (${t.detail})` : ''}`
        : `  ${t.table}: ${t.detail ?? 'differs'}`,
    );
    for (const r of t.rows) lines.push(`    ${r.kind.padEnd(9)} ${r.key}${r.columns?.length ? ` (columns ${r.columns.join(', ')})` : ''}`);
    const counted = t.missing + t.extra + t.different + t.unsettled;
    if (counted > t.rows.length && t.rows.length) lines.push(`    ... and ${counted - t.rows.length} more`);
  }
  if (d.moreTables) lines.push(`  ... and ${d.moreTables} more table(s) with differences`);
  if (d.differences.unsettled) lines.push(`  ${d.differences.unsettled} row(s) kept changing during the comparison: the cutover re-checks them by key while writes are blocked`);
  for (const n of d.notVerifiable) {
    const counts = n.sourceRows !== null ? ` (${n.sourceRows} rows on the source, ${n.targetRows ?? '?'} on the target${n.same === null ? '' : n.same ? ', same content' : ', DIFFERENT content'})` : '';
    lines.push(`  not verifiable by rows: ${n.table}: ${n.detail}${counts}`);
  }
  return lines.join('\n');
}
