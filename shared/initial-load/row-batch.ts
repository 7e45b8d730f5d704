// A batch of rendered rows as it is sent: each row copied once, as it arrives, into one buffer and
// followed by a separator byte. Holding every row's own Buffer until the batch is sent (about 20,000
// per 2 MiB batch) kept them alive past the young generation, and the garbage collector was then a
// quarter of the copy's own CPU; each row's bytes also had to be copied once more into the statement.
// Rows are only looked at one by one when the target warned (warnings.ts): views made then.
// The buffers are reused once their batch is written (release()): a fresh 2 MiB buffer per batch cost
// a page fault per 4 KiB written into it, more than the copying itself (measured 4x).

/** Free buffers by size: a few per lane (one filling, two waiting to be written), no more. */
const pool = new Map<number, Buffer[]>();
const POOL_MAX = 16;
const POOL_MAX_BYTES = 64 * 1024 * 1024;
let pooled = 0;

function take(capacity: number): Buffer {
  const free = pool.get(capacity);
  const reused = free?.pop();
  if (reused) {
    pooled--;
    return reused;
  }
  return Buffer.allocUnsafe(capacity);
}

export class RowBatch {
  private readonly buf: Buffer;
  /** Where each row ends (its separator's offset). */
  private readonly ends: number[] = [];
  /** Bytes of the rows and their separators. */
  size = 0;

  constructor(capacity: number, private readonly separator: number) {
    this.buf = take(Math.max(1, capacity));
  }

  /** The batch was written and nothing refers to its bytes any more: its buffer may hold the next one. */
  release(): void {
    if (pooled >= POOL_MAX || this.buf.length > POOL_MAX_BYTES) return;
    const free = pool.get(this.buf.length) ?? [];
    free.push(this.buf);
    pool.set(this.buf.length, free);
    pooled++;
  }

  get rows(): number {
    return this.ends.length;
  }

  /** Whether a row of `bytes` bytes (without its separator) still fits. */
  fits(bytes: number): boolean {
    return this.size + bytes + 1 <= this.buf.length;
  }

  /** Appends a row of `bytes` bytes made of `pieces` (the caller checked that it fits). */
  append(pieces: Buffer | Buffer[], bytes: number): void {
    let at = this.size;
    if (Buffer.isBuffer(pieces)) at += pieces.copy(this.buf, at);
    else for (const p of pieces) at += p.copy(this.buf, at);
    if (at - this.size !== bytes) throw new Error(`a row of ${at - this.size} bytes where ${bytes} were announced`);
    this.ends.push(at);
    this.buf[at] = this.separator;
    this.size = at + 1;
  }

  /** The rows as sent: with the separator after the last row too (LOAD DATA lines) or not (INSERT tuples). */
  data(trailing: boolean): Buffer {
    return this.buf.subarray(0, trailing ? this.size : Math.max(0, this.size - 1));
  }

  /** Each row, without its separator. */
  list(): Buffer[] {
    let start = 0;
    return this.ends.map((end) => {
      const row = this.buf.subarray(start, end);
      start = end + 1;
      return row;
    });
  }
}
