// The logical initial load of a live source in one process, for callers that are that process (the
// benchmarks, tests, scripts): the same steps the state machine runs one Task at a time ("Plan the
// copy", one worker slot reading the live snapshot on `parallelism` connections, "Finish the copy"),
// run back to back. A second call for the same migration returns the finished copy (same position).
// DDL on the source while the copy runs is not supported (as with mysqldump --single-transaction).
import { fixedBudget } from '../chunks/budget.js';
import type { LogicalCopyResult } from '../state.js';
import { closeQuietly, openConnection } from './connections.js';
import { COPY_JOB, openStore, readCopyPlan } from './copy-job.js';
import { planCopy, type DbSide } from './copy-plan.js';
import { runCopyWorker } from './copy-worker.js';
import { finishCopy } from './copy-finish.js';
import { copyProgressOf, type ProgressListener } from './progress.js';
import type { SnapshotMethod } from './snapshot.js';
import { targetSession } from './target-session.js';
import type { RowFormat } from './values.js';

export interface LogicalCopyOptions {
  migrationId: string;
  source: DbSide;
  target: DbSide;
  /** Default: every non-system schema of the source. */
  schemas?: string[];
  /** Connections reading the snapshot at once. */
  parallelism: number;
  /** Rows per sub-chunk at most. */
  chunkRows: number;
  /** Bytes per sub-chunk (default 32 MiB). */
  chunkBytes?: number;
  /** Size of one multi-row INSERT or LOAD DATA packet (default 256 KiB: copy-plan.ts DEFAULT_BATCH_BYTES, capped by the target's max_allowed_packet). */
  batchBytes?: number;
  onProgress?: ProgressListener;
  /** How rows are written (default: LOAD DATA LOCAL when the target allows it, else INSERT). */
  format?: RowFormat;
}

export interface LogicalCopyOutcome extends LogicalCopyResult {
  /** True when an earlier call had finished the copy and its result was returned. */
  reused: boolean;
  lockMs: number;
  snapshotMethod: SnapshotMethod | 'reused';
  binlogSkippedOnTarget: boolean;
  format: RowFormat | 'reused';
}

const DEFAULT_CHUNK_BYTES = 32 * 1024 * 1024;

export async function logicalCopy(options: LogicalCopyOptions): Promise<LogicalCopyOutcome> {
  const progress = copyProgressOf(options.migrationId, options.onProgress);
  progress.setPhase('schema');
  const probe = await openConnection(options.target.endpoint, options.target.credentials, 'target');
  let binlogSkipped: boolean;
  let doneBefore: boolean;
  try {
    binlogSkipped = await targetSession(probe);
    await planCopy({
      migrationId: options.migrationId,
      from: options.source,
      source: options.source,
      target: options.target,
      frozen: { kind: 'live', position: null, fingerprint: null },
      schemas: options.schemas,
      parallelism: options.parallelism,
      chunkBytes: options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
      maxRows: options.chunkRows,
      batchBytes: options.batchBytes,
      format: options.format,
    });
    const store = await openStore(probe, options.migrationId);
    doneBefore = (await readCopyPlan(store))?.state === 'done';
    const p = await store.progress(COPY_JOB);
    progress.setStore({ ...(await store.tableProgress(COPY_JOB)), chunksDone: p.rangesDone, chunksTotal: p.rangesTotal, rows: p.rows, bytes: p.bytes, estimatedRows: p.estimatedRows });
  } finally {
    await closeQuietly([probe]);
  }

  if (!doneBefore) {
    progress.setPhase('snapshot');
    await runCopyWorker({
      migrationId: options.migrationId,
      worker: 1,
      lanes: options.parallelism,
      from: options.source,
      target: options.target,
      frozen: { kind: 'live', fingerprint: null },
      budget: fixedBudget(Number.POSITIVE_INFINITY),
      liveMustFinish: false,
      onSnapshot: () => progress.setPhase('data'),
      onCommitted: (rows, bytes) => progress.committed(rows, bytes),
    });
  }
  const finished = await finishCopy({
    migrationId: options.migrationId,
    from: options.source,
    target: options.target,
    parallel: options.parallelism,
    waitMs: Number.POSITIVE_INFINITY,
    attempts: 1,
    onPhase: (phase) => progress.setPhase(phase),
  });
  progress.setPhase('done');
  const reread = await openConnection(options.target.endpoint, options.target.credentials, 'target');
  try {
    const plan = (await readCopyPlan(await openStore(reread, options.migrationId)))!.plan;
    return {
      position: finished.position!,
      tables: finished.tables!,
      rows: finished.rows!,
      bytes: finished.bytes!,
      ms: finished.ms!,
      reused: doneBefore,
      lockMs: doneBefore ? 0 : (plan.live?.lockMs ?? 0),
      snapshotMethod: doneBefore ? 'reused' : (plan.live?.method ?? 'reused'),
      binlogSkippedOnTarget: binlogSkipped,
      format: doneBefore ? 'reused' : plan.format,
    };
  } finally {
    await closeQuietly([reread]);
  }
}
