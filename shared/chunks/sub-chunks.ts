// The next sub-chunk boundary of a walk, as cheaply as the key allows (read-only):
// - a single integer key column: by arithmetic, `from + rows / density`, the density (rows per key
//   unit) measured on the sub-chunks already walked, so no boundary query runs at all (a dense
//   AUTO_INCREMENT key costs nothing to split). The last sub-chunk of an open-ended range starts past
//   the highest key either read holds, so rows beyond it on one side only are still covered;
// - any other key: the key of the row `rows` ahead (`... ORDER BY key LIMIT rows, 1`, planner.ts).
import { q, ident, type Conn } from '../mysql/connection.js';
import type { KeyTuple } from './key-values.js';
import type { TableRef, WalkKey } from './keys.js';
import { nextUpperBound, tableSql } from './planner.js';
import type { KeyRange } from './range-sql.js';

export class SubChunkBounds {
  private density: number | null = null;
  private highest: bigint | null | undefined = undefined;
  readonly arithmetic: boolean;

  /** `reads`: the connections whose highest key bounds an open-ended range (e.g. both snapshots of a comparison). */
  constructor(
    private readonly table: TableRef,
    private readonly key: WalkKey,
    private readonly range: KeyRange,
    private readonly reads: Conn[],
  ) {
    this.arithmetic = key.columns.length === 1 && key.columns[0]!.kind === 'int' && key.columns[0]!.dataType !== 'bit';
  }

  /** The exclusive upper bound of the next sub-chunk of about `rows` rows from `from` (null: to the range's end). */
  async next(from: KeyTuple | null, rows: number): Promise<KeyTuple | null> {
    if (!this.arithmetic || from === null || this.density === null || this.density <= 0) {
      return nextUpperBound(this.reads[0]!, this.table, this.key, { lo: from, hi: this.range.hi }, rows);
    }
    const step = BigInt(Math.max(1, Math.round(rows / this.density)));
    const hi = BigInt(from[0]!) + step;
    if (this.range.hi) return hi >= BigInt(this.range.hi[0]!) ? null : [hi.toString()];
    const top = await this.highestKey();
    return top === null || hi > top ? null : [hi.toString()];
  }

  /** What the sub-chunk [from, hi) held: the density for the next boundary. */
  observe(from: KeyTuple | null, hi: KeyTuple | null, rows: number): void {
    if (!this.arithmetic || from === null || hi === null) return;
    const width = Number(BigInt(hi[0]!) - BigInt(from[0]!));
    if (width <= 0) return;
    const now = rows / width;
    this.density = this.density === null ? now : 0.5 * this.density + 0.5 * now;
  }

  /** Forget what was measured (a new snapshot: the open end may have moved). */
  reset(reads?: Conn[]): void {
    this.highest = undefined;
    if (reads) this.reads.splice(0, this.reads.length, ...reads);
  }

  private async highestKey(): Promise<bigint | null> {
    if (this.highest !== undefined) return this.highest;
    const col = ident(this.key.columns[0]!.name);
    const tops = await Promise.all(this.reads.map(async (c) => (await q<{ m: string | null }>(c, `SELECT CAST(MAX(${col}) AS CHAR) AS m FROM ${tableSql(this.table)}`))[0]?.m ?? null));
    const values = tops.filter((v): v is string => v !== null).map((v) => BigInt(v));
    this.highest = values.length ? values.reduce((a, b) => (a > b ? a : b)) : null;
    return this.highest;
  }
}
