// Progress of a logical copy: rows copied, rate and ETA. The copy reports to a callback; the copyData
// handler also republishes on a process-wide emitter, so the local CLI (which runs the handler in the
// same process) can draw it while a Lambda just logs it.
import { EventEmitter } from 'node:events';

export type CopyPhase = 'snapshot' | 'schema' | 'data' | 'objects' | 'done';

export interface CopyProgress {
  phase: CopyPhase;
  tablesDone: number;
  tablesTotal: number;
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

export class ProgressTracker {
  private readonly started = Date.now();
  private lastEmit = 0;
  phase: CopyPhase = 'snapshot';
  tablesDone = 0;
  tablesTotal = 0;
  rowsCopied = 0;
  rowsEstimated = 0;
  bytes = 0;

  constructor(private readonly listener: ProgressListener | undefined, private readonly everyMs = 250) {}

  setPhase(phase: CopyPhase): void {
    this.phase = phase;
    this.emit(true);
  }

  addRows(rows: number, bytes: number): void {
    this.rowsCopied += rows;
    this.bytes += bytes;
    this.emit(false);
  }

  tableDone(): void {
    this.tablesDone++;
    this.emit(false);
  }

  snapshot(): CopyProgress {
    const elapsedMs = Date.now() - this.started;
    const rowsPerSec = elapsedMs > 0 ? Math.round((this.rowsCopied * 1000) / elapsedMs) : 0;
    const left = Math.max(0, this.rowsEstimated - this.rowsCopied);
    return {
      phase: this.phase,
      tablesDone: this.tablesDone,
      tablesTotal: this.tablesTotal,
      rowsCopied: this.rowsCopied,
      rowsEstimated: Math.max(this.rowsEstimated, this.rowsCopied),
      bytes: this.bytes,
      rowsPerSec,
      etaSeconds: this.phase === 'done' ? 0 : rowsPerSec > 0 ? Math.round(left / rowsPerSec) : null,
      elapsedMs,
    };
  }

  private emit(force: boolean): void {
    if (!this.listener) return;
    const now = Date.now();
    if (!force && now - this.lastEmit < this.everyMs) return;
    this.lastEmit = now;
    try {
      this.listener(this.snapshot());
    } catch {
      // A broken display must not break the copy.
    }
  }
}
