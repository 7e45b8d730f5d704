// Plans a table's work as key ranges (read-only). Two levels:
// - ranges, planned up front and stored in the cursor store, split a table so that several workers
//   share it: by arithmetic over MIN/MAX of an integer leading column (as mydumper does), otherwise by
//   an OFFSET walk of the key that finds evenly spaced split points (pt-table-checksum's boundary
//   query), only for tables big enough to be worth it;
// - sub-chunks, found as the work runs: the next exclusive upper bound n rows ahead
//   (`... ORDER BY key LIMIT n, 1`), read inside the worker's snapshot so the sub-chunks cover exactly
//   the rows that snapshot holds. Their size is set by bytes and rows and, when a target time is
//   given, adapted towards it (pt-table-checksum's --chunk-time).
// The first range starts open and the last one ends open, so rows outside the planner's MIN/MAX (one
// inserted since, or only on the other side of a comparison) are still covered.
import { q, ident, type Conn } from '../mysql/connection.js';
import { keySelectList, tupleFromRow, type KeyTuple } from './key-values.js';
import type { TableRef, WalkKey } from './keys.js';
import { forceIndex, orderByKey, rangeWhere, type KeyRange } from './range-sql.js';

export interface ChunkSizing {
  /** Bytes one sub-chunk should hold (by the table's average row size). */
  targetBytes: number;
  minRows: number;
  maxRows: number;
  /** When set, sub-chunk sizes adapt so that one takes about this long. */
  targetSeconds?: number;
}

export const tableSql = (t: TableRef) => `${ident(t.schema)}.${ident(t.name)}`;

/**
 * Splits a table into about `pieces` ranges. Integer-leading keys: equal steps of the first column
 * between MIN and MAX. Other keys: split points every rows/pieces rows of the key (one index walk).
 */
export async function planRanges(conn: Conn, table: TableRef, key: WalkKey, opts: { pieces: number; estimatedRows: number }): Promise<KeyRange[]> {
  const whole: KeyRange[] = [{ lo: null, hi: null }];
  const pieces = Math.max(1, Math.floor(opts.pieces));
  if (pieces === 1) return whole;
  const points = key.integerLeading ? await integerSplitPoints(conn, table, key, pieces) : await offsetSplitPoints(conn, table, key, pieces, opts.estimatedRows);
  if (!points.length) return whole;
  const ranges: KeyRange[] = [];
  let lo: KeyTuple | null = null;
  for (const p of points) {
    ranges.push({ lo, hi: p });
    lo = p;
  }
  ranges.push({ lo, hi: null });
  return ranges;
}

async function integerSplitPoints(conn: Conn, table: TableRef, key: WalkKey, pieces: number): Promise<KeyTuple[]> {
  const first = ident(key.columns[0]!.name);
  const expr = key.columns[0]!.dataType === 'bit' ? `${first} + 0` : first;
  const [row] = await q<{ lo: string | null; hi: string | null }>(
    conn,
    `SELECT CAST(MIN(${expr}) AS CHAR) AS lo, CAST(MAX(${expr}) AS CHAR) AS hi FROM ${tableSql(table)}`,
  );
  if (row?.lo === null || row?.lo === undefined || row.hi === null) return [];
  const lo = BigInt(row.lo);
  const end = BigInt(row.hi) + 1n;
  const step = (end - lo + BigInt(pieces) - 1n) / BigInt(pieces);
  if (step <= 0n) return [];
  const points: KeyTuple[] = [];
  for (let at = lo + step; at < end; at += step) points.push([at.toString()]);
  return points;
}

async function offsetSplitPoints(conn: Conn, table: TableRef, key: WalkKey, pieces: number, estimatedRows: number): Promise<KeyTuple[]> {
  const step = Math.ceil(estimatedRows / pieces);
  if (step < 2) return [];
  const points: KeyTuple[] = [];
  let from: KeyTuple | null = null;
  for (let i = 1; i < pieces; i++) {
    const next = await nextUpperBound(conn, table, key, { lo: from, hi: null }, step);
    if (!next) break;
    points.push(next);
    from = next;
  }
  return points;
}

/**
 * The exclusive upper bound of the next `rows` rows of a range from `range.lo` on: the key of the
 * (rows+1)th row, or null when the range holds no more than `rows` rows from there.
 */
export async function nextUpperBound(conn: Conn, table: TableRef, key: WalkKey, range: KeyRange, rows: number): Promise<KeyTuple | null> {
  const [row] = await q<Record<string, unknown>>(
    conn,
    `SELECT ${keySelectList(key)} FROM ${tableSql(table)} ${forceIndex(key)} WHERE ${rangeWhere(key, range)} ORDER BY ${orderByKey(key)} LIMIT ${Math.max(1, Math.floor(rows))}, 1`,
  );
  return row ? tupleFromRow(key, row) : null;
}

/** Rows per sub-chunk from the table's average row size, within [minRows, maxRows]. */
function initialRows(sizing: ChunkSizing, avgRowBytes: number): number {
  return clamp(Math.floor(sizing.targetBytes / Math.max(1, avgRowBytes)), sizing.minRows, sizing.maxRows);
}

const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

/**
 * Sub-chunk size for one walk: starts from bytes and rows, then (with a target time) follows an
 * exponentially weighted rows/s so that a sub-chunk takes about targetSeconds (pt-table-checksum's
 * --chunk-time: weight 0.75 on the past).
 */
export class SubChunkSizer {
  private rate: number | null = null;
  rows: number;

  constructor(private readonly sizing: ChunkSizing, avgRowBytes: number) {
    this.rows = initialRows(sizing, avgRowBytes);
  }

  /** Records that `rows` rows took `ms`; returns the next size. */
  observe(rows: number, ms: number): number {
    if (!this.sizing.targetSeconds || rows <= 0) return this.rows;
    const now = (rows * 1000) / Math.max(1, ms);
    this.rate = this.rate === null ? now : 0.75 * this.rate + 0.25 * now;
    this.rows = clamp(Math.floor(this.rate * this.sizing.targetSeconds), this.sizing.minRows, this.sizing.maxRows);
    return this.rows;
  }
}

/** Longest first (LPT): a big range that cannot be split further must not start last and run alone. */
export function longestFirst<T extends { estimatedRows: number }>(items: T[]): T[] {
  return [...items].sort((a, b) => b.estimatedRows - a.estimatedRows);
}
