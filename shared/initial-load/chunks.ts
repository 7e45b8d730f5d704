// Splits a table into pieces the workers copy in parallel. A table whose primary key starts with an
// integer column is cut into ranges [lo, hi) of that column of about chunkRows rows each (MIN/MAX are
// read in the snapshot, so the ranges cover exactly the snapshot's rows); any other table is one
// piece, streamed row by row, which also covers tables without a primary key.
import type { RowDataPacket } from 'mysql2/promise';
import { type Conn, q } from './connections.js';
import type { TableInfo } from './inspect.js';

export interface KeyRange {
  /** Inclusive. */
  lo: bigint;
  /** Exclusive. */
  hi: bigint;
}

export interface Chunk {
  table: TableInfo;
  /** A range of the first primary key column, or null for the whole table (streamed). */
  range: KeyRange | null;
  /** Chunks of the same table (the table counts as done when all are). */
  of: number;
  /** Rows this piece is expected to hold, to hand out the longest pieces first. */
  estimatedRows: number;
}

/** Longest pieces first (LPT): a big table that cannot be split must not start last and run alone. */
export function scheduleOrder(chunks: Chunk[]): Chunk[] {
  return [...chunks].sort((a, b) => b.estimatedRows - a.estimatedRows);
}

export function describeChunk(chunk: Chunk): string {
  return chunk.range ? `${chunk.table.primaryKey[0]} in [${chunk.range.lo}, ${chunk.range.hi})` : 'all rows';
}

export async function planChunks(conn: Conn, table: TableInfo, chunkRows: number): Promise<Chunk[]> {
  const whole: Chunk[] = [{ table, range: null, of: 1, estimatedRows: table.estimatedRows }];
  if (!table.integerKey) return whole;
  const key = q(table.primaryKey[0]!);
  const [rows] = await conn.query<RowDataPacket[]>(`SELECT MIN(${key}) AS lo, MAX(${key}) AS hi FROM ${q(table.schema)}.${q(table.name)}`);
  if (rows[0]?.lo === null || rows[0]?.lo === undefined) return whole;
  const lo = BigInt(rows[0].lo);
  const end = BigInt(rows[0].hi) + 1n;
  const pieces = BigInt(Math.max(1, Math.round(table.estimatedRows / chunkRows)));
  const step = (end - lo + pieces - 1n) / pieces;
  const chunks: Chunk[] = [];
  for (let from = lo; from < end; from += step) chunks.push({ table, range: { lo: from, hi: from + step < end ? from + step : end }, of: 0, estimatedRows: 0 });
  for (const c of chunks) {
    c.of = chunks.length;
    c.estimatedRows = Math.ceil(table.estimatedRows / chunks.length);
  }
  return chunks;
}
