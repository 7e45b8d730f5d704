// Narrows a sub-chunk whose hashes differ to its rows (read-only): both still-open snapshots list
// (key, SHA1 of the row) for the sub-chunk's range, joined here on the key's canonical text, which does
// not depend on either server's ordering. A sub-chunk is at most maxRowsPerChunk rows, so the lists
// stay small. For the first rows that differ, one SHA1 per column names the columns that differ.
import { q, type Conn } from '../mysql/connection.js';
import { tupleFromRow, type KeyTuple } from '../chunks/key-values.js';
import type { TableRef, WalkKey } from '../chunks/keys.js';
import type { KeyRange } from '../chunks/range-sql.js';
import type { HashColumn } from './columns.js';
import { rowHashesSql, rowsByKeySql } from './row-hash.js';

export interface RowDiff {
  kind: 'missing' | 'extra' | 'different';
  key: KeyTuple;
  columns?: string[];
}

async function rowHashes(conn: Conn, table: TableRef, key: WalkKey, range: KeyRange, columns: HashColumn[], timeoutMs: number): Promise<Map<string, { key: KeyTuple; h: string }>> {
  const rows = await q<Record<string, unknown>>(conn, rowHashesSql(table, key, range, columns), [], timeoutMs);
  const out = new Map<string, { key: KeyTuple; h: string }>();
  for (const r of rows) {
    const k = tupleFromRow(key, r);
    out.set(JSON.stringify(k), { key: k, h: String(r.h) });
  }
  return out;
}

/** missing: on the source only; extra: on the target only; different: both, other content. */
function joinRows(source: Map<string, { key: KeyTuple; h: string }>, target: Map<string, { key: KeyTuple; h: string }>): RowDiff[] {
  const out: RowDiff[] = [];
  for (const [k, s] of source) {
    const t = target.get(k);
    if (!t) out.push({ kind: 'missing', key: s.key });
    else if (t.h !== s.h) out.push({ kind: 'different', key: s.key });
  }
  for (const [k, t] of target) if (!source.has(k)) out.push({ kind: 'extra', key: t.key });
  return out;
}

export async function narrowSubChunk(
  sides: { source: Conn; target: Conn },
  table: TableRef,
  key: WalkKey,
  range: KeyRange,
  columns: HashColumn[],
  opts: { timeoutMs: number; nameColumnsOf: number },
): Promise<RowDiff[]> {
  const [s, t] = await Promise.all([rowHashes(sides.source, table, key, range, columns, opts.timeoutMs), rowHashes(sides.target, table, key, range, columns, opts.timeoutMs)]);
  const diffs = joinRows(s, t);
  await nameColumns(sides, table, key, columns, diffs.filter((d) => d.kind === 'different').slice(0, opts.nameColumnsOf), opts.timeoutMs);
  return diffs;
}

/** Fills `columns` of different rows: the columns whose per-column SHA1 differs. */
export async function nameColumns(sides: { source: Conn; target: Conn }, table: TableRef, key: WalkKey, columns: HashColumn[], rows: RowDiff[], timeoutMs: number): Promise<void> {
  if (!rows.length) return;
  const sql = rowsByKeySql(table, key, rows.map((r) => r.key), columns, true);
  const [s, t] = await Promise.all([q<Record<string, unknown>>(sides.source, sql, [], timeoutMs), q<Record<string, unknown>>(sides.target, sql, [], timeoutMs)]);
  const byKey = (list: Record<string, unknown>[]) => new Map(list.map((r) => [JSON.stringify(tupleFromRow(key, r)), r]));
  const [sm, tm] = [byKey(s), byKey(t)];
  for (const r of rows) {
    const a = sm.get(JSON.stringify(r.key));
    const b = tm.get(JSON.stringify(r.key));
    if (!a || !b) continue;
    r.columns = columns.filter((_, i) => a[`c${i}`] !== b[`c${i}`]).map((c) => c.name);
  }
}

/** The current full-row SHA1 of given rows on one side (null: no such row). */
export async function currentHashes(conn: Conn, table: TableRef, key: WalkKey, keys: KeyTuple[], columns: HashColumn[], timeoutMs: number): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>(keys.map((k) => [JSON.stringify(k), null]));
  for (let i = 0; i < keys.length; i += 500) {
    const rows = await q<Record<string, unknown>>(conn, rowsByKeySql(table, key, keys.slice(i, i + 500), columns, false), [], timeoutMs);
    for (const r of rows) out.set(JSON.stringify(tupleFromRow(key, r)), String(r.h));
  }
  return out;
}
