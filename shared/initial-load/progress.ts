// Progress of a logical copy for people watching a local run: rows, bytes, chunks, rate and ETA. The
// truth is the cursor store ("Check the copy" reads it after every round of workers, and that result
// goes into the state for status, the API and the dashboard); between two checks the workers of this
// process add what each sub-chunk committed, so the local progress line moves with every commit. The
// copy's steps publish on a process-wide emitter, which the local CLI (running the steps in the same
// process) draws; on Lambda nothing listens.
import { EventEmitter } from 'node:events';

export type CopyPhase = 'schema' | 'snapshot' | 'data' | 'objects' | 'keys' | 'done';

export interface CopyProgress {
  phase: CopyPhase;
  tablesDone: number;
  tablesTotal: number;
  chunksDone: number;
  chunksTotal: number;
  rowsCopied: number;
  /** From the source's table statistics: an estimate, good enough for an ETA. */
  rowsEstimated: number;
  bytes: number;
  rowsPerSec: number;
  etaSeconds: number | null;
  elapsedMs: number;
}

export type ProgressListener = (p: CopyProgress) => void;

/** Process-wide channel of copy progress (local runs). */
export const copyProgressEvents = new EventEmitter<{ progress: [CopyProgress] }>();

export interface StoreFigures {
  tablesDone: number;
  tablesTotal: number;
  chunksDone: number;
  chunksTotal: number;
  rows: number;
  bytes: number;
  estimatedRows: number;
}

/** One migration's copy as this process sees it: the store's figures plus what committed since. */
export class CopyProgressTracker {
  private readonly started = Date.now();
  private lastEmit = 0;
  phase: CopyPhase = 'schema';
  private base: StoreFigures = { tablesDone: 0, tablesTotal: 0, chunksDone: 0, chunksTotal: 0, rows: 0, bytes: 0, estimatedRows: 0 };
  private rowsSince = 0;
  private bytesSince = 0;
  /** Rows copied by this process (the rate is this process's, not the store's over days of pauses). */
  private rowsHere = 0;

  constructor(private readonly listeners: ProgressListener[], private readonly everyMs = 250) {}

  setPhase(phase: CopyPhase): void {
    this.phase = phase;
    this.emit(true);
  }

  /** The store's figures (planning, every check): what committed before is in them. */
  setStore(figures: StoreFigures): void {
    this.base = figures;
    this.rowsSince = 0;
    this.bytesSince = 0;
    this.emit(true);
  }

  committed(rows: number, bytes: number): void {
    this.rowsSince += rows;
    this.bytesSince += bytes;
    this.rowsHere += rows;
    this.emit(false);
  }

  /** Rows this process's workers committed. */
  get committedHere(): number {
    return this.rowsHere;
  }

  snapshot(): CopyProgress {
    const elapsedMs = Date.now() - this.started;
    const rowsCopied = this.base.rows + this.rowsSince;
    const rowsPerSec = elapsedMs > 0 ? Math.round((this.rowsHere * 1000) / elapsedMs) : 0;
    const rowsEstimated = Math.max(this.base.estimatedRows, rowsCopied);
    const finished = this.phase === 'done';
    return {
      phase: this.phase,
      tablesDone: finished ? this.base.tablesTotal : this.base.tablesDone,
      tablesTotal: this.base.tablesTotal,
      chunksDone: finished ? this.base.chunksTotal : this.base.chunksDone,
      chunksTotal: this.base.chunksTotal,
      rowsCopied,
      rowsEstimated,
      bytes: this.base.bytes + this.bytesSince,
      rowsPerSec,
      etaSeconds: finished ? 0 : rowsPerSec > 0 ? Math.round((rowsEstimated - rowsCopied) / rowsPerSec) : null,
      elapsedMs,
    };
  }

  private emit(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastEmit < this.everyMs) return;
    this.lastEmit = now;
    const p = this.snapshot();
    for (const l of this.listeners) {
      try {
        l(p);
      } catch {
        // A broken display must not break the copy.
      }
    }
  }
}

const trackers = new Map<string, CopyProgressTracker>();

/** The tracker of a migration's copy in this process, publishing on copyProgressEvents (and `listener`). */
export function copyProgressOf(migrationId: string, listener?: ProgressListener): CopyProgressTracker {
  let t = trackers.get(migrationId);
  if (!t || listener) {
    t = new CopyProgressTracker([(p) => copyProgressEvents.emit('progress', p), ...(listener ? [listener] : [])]);
    trackers.set(migrationId, t);
  }
  return t;
}
