// "Compare chunks": one comparison worker for one invocation. It claims ranges of the diff job from
// the cursor store, opens a sync point per range (and a new one after verify.maxSnapshotSeconds),
// walks the range in sub-chunks inside both snapshots (boundaries read on the source's snapshot, the
// same bounds hashed on both sides), narrows a differing sub-chunk to its rows, and commits each
// sub-chunk's verdict together with the cursor. It stops taking work when its time budget runs out
// and gives its unfinished range back, so the next invocation (or another worker) resumes at the
// cursor. Throttled by replica lag and a rows/s budget.
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { TransientError } from '../errors.js';
import { logger } from '../logger.js';
import { q } from '../mysql/connection.js';
import { binlogStatus } from '../mysql/dialect.js';
import { untilSupported } from '../mysql/applier.js';
import { waitForExecuted } from '../mysql/wait-position.js';
import type { MigrationInput } from '../input/validate.js';
import type { Budget } from '../chunks/budget.js';
import { CursorStore, type RangeClaim } from '../chunks/cursor-store.js';
import type { TableRef, WalkKey } from '../chunks/keys.js';
import { SubChunkSizer } from '../chunks/planner.js';
import { SubChunkBounds } from '../chunks/sub-chunks.js';
import { compareColumns, storedColumns, type HashColumn } from './columns.js';
import { recordVerdict, type RowDifference, type SubChunkVerdict } from './diff-store.js';
import { currentHashes, nameColumns, narrowSubChunk, type RowDiff } from './narrow.js';
import { chunkHashSql, countSql } from './row-hash.js';
import type { DiffSessions } from './sessions.js';
import { closeSyncPoint, openSyncPoint, SyncPointMissedError, type SyncPoint } from './sync-point.js';
import { Throttle } from './throttle.js';

export interface WorkerOptions {
  job: string;
  worker: number;
  input: MigrationInput;
  budget: Budget;
  leaseSeconds?: number;
  /** LOCK TABLES even where the source reports its snapshot position (tests of that path). */
  forceLockTables?: boolean;
}

export interface WorkerResult {
  worker: number;
  ranges: number;
  subChunks: number;
  rows: number;
  differences: number;
  syncPoints: number;
  exactSyncPoints: number;
  maxPausedMs: number;
  maxLockMs: number;
  stoppedBy: 'no-more-work' | 'budget';
}

export interface DiffProgressEvent {
  job: string;
  worker: number;
  table: string;
  rows: number;
  differences: number;
}

/** Process-wide channel of comparison progress (the local CLI draws it; a Lambda only logs). */
export const diffProgressEvents = new EventEmitter<{ progress: [DiffProgressEvent] }>();

const fmt = (p: { file: string; position: number }) => `${p.file}:${p.position}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function compareChunks(s: DiffSessions, o: WorkerOptions): Promise<WorkerResult> {
  const v = o.input.verify;
  const lease = o.leaseSeconds ?? 120;
  const store = await CursorStore.open(s.targetControl, o.input.migrationId);
  const owner = `${o.job}:w${o.worker}:${randomUUID().slice(0, 8)}`;
  const exactPossible = await untilSupported(s.targetControl, s.targetDialect);
  const result: WorkerResult = { worker: o.worker, ranges: 0, subChunks: 0, rows: 0, differences: 0, syncPoints: 0, exactSyncPoints: 0, maxPausedMs: 0, maxLockMs: 0, stoppedBy: 'no-more-work' };
  let claim: RangeClaim | null = null;
  const throttle = new Throttle(s.sourceControl, s.targetControl, {
    maxLagSeconds: v.maxLagSeconds,
    // Each worker takes its share of the budget.
    maxRowsPerSecond: v.maxRowsPerSecond > 0 ? Math.max(1, Math.floor(v.maxRowsPerSecond / v.parallelism)) : 0,
    heartbeatSchema: o.input.names.heartbeatSchema,
    onWait: async () => void (claim && (await store.renew(claim, lease))),
  });

  while (!o.budget.expired()) {
    claim = await store.claim(o.job, owner, lease);
    if (!claim) break;
    try {
      const finished = await compareRange(claim);
      if (finished) result.ranges++;
      else {
        await store.release(claim);
        result.stoppedBy = 'budget';
        break;
      }
    } catch (err) {
      await store.release(claim).catch(() => undefined);
      throw err;
    }
  }
  if (o.budget.expired()) result.stoppedBy = 'budget';
  return result;

  async function openSync(table: TableRef, exactWanted: boolean): Promise<SyncPoint> {
    let exact = exactWanted && exactPossible;
    for (let attempt = 1; ; attempt++) {
      try {
        const sync = await openSyncPoint(s, {
          migrationId: o.input.migrationId,
          owner,
          tables: [table],
          mode: exact ? 'exact' : 'settled',
          forceLockTables: o.forceLockTables,
        });
        result.syncPoints++;
        if (sync.exact) result.exactSyncPoints++;
        result.maxPausedMs = Math.max(result.maxPausedMs, sync.pausedMs);
        result.maxLockMs = Math.max(result.maxLockMs, sync.lockMs);
        return sync;
      } catch (err) {
        const retry = err instanceof SyncPointMissedError || err instanceof TransientError;
        if (!retry || attempt >= 5 || o.budget.expired()) {
          if (err instanceof SyncPointMissedError && exact) {
            // Settled mode still gives a correct verdict; it only costs rechecks.
            logger.warn('data comparison: no exact sync point after several tries, comparing settled', { table: `${table.schema}.${table.name}`, why: err.message });
            exact = false;
            attempt = 0;
            continue;
          }
          throw err;
        }
        if (err instanceof SyncPointMissedError && attempt >= 3) exact = false;
        await sleep(100 * attempt);
      }
    }
  }

  /** true: the range is finished (or someone else owns it now); false: the budget ran out. */
  async function compareRange(c: RangeClaim): Promise<boolean> {
    const columns = compareColumns(await storedColumns(s.sourceControl, c.table), await storedColumns(s.targetControl, c.table), s.sameFamily).columns;
    if (!c.key) return compareWhole(c, columns);
    const key = c.key;
    const avgRowBytes = c.estimatedRows > 0 ? c.estimatedBytes / c.estimatedRows : 200;
    const sizer = new SubChunkSizer({ targetBytes: 4 * 1024 * 1024, minRows: Math.min(500, v.maxRowsPerChunk), maxRows: v.maxRowsPerChunk, targetSeconds: v.chunkSeconds }, avgRowBytes);
    const bounds = new SubChunkBounds(c.table, key, c.range, [s.sourceSnapshot, s.targetSnapshot]);
    for (;;) {
      const sync = await openSync(c.table, true);
      bounds.reset();
      let epochOver = false;
      try {
        while (!epochOver) {
          await throttle.beforeRows(sizer.rows, o.budget);
          const started = performance.now();
          const from = c.cursor ?? c.range.lo;
          const next = await bounds.next(from, sizer.rows);
          const sub = { lo: from, hi: next ?? c.range.hi };
          const timeoutMs = Math.max(30_000, o.budget.remainingMs());
          const sql = chunkHashSql(c.table, key, sub, columns);
          const [hs, ht] = await Promise.all([hashOf(s.sourceSnapshot, sql, timeoutMs), hashOf(s.targetSnapshot, sql, timeoutMs)]);
          let diffs: RowDifference[] = [];
          if (hs.n !== ht.n || hs.h !== ht.h) {
            const rows = await narrowSubChunk({ source: s.sourceSnapshot, target: s.targetSnapshot }, c.table, key, sub, columns, { timeoutMs, nameColumnsOf: v.reportRows });
            diffs = sync.exact ? rows.map((r) => ({ ...r, position: fmt(sync.position) })) : await recheckSettled(c.table, key, columns, rows);
          }
          const verdict = verdictOf(hs.n, diffs, fmt(sync.position), sync.exact);
          const outcome = await store.commitSubChunk(
            s.targetControl,
            c,
            next,
            async (tx) => {
              await recordVerdict(tx, o.input.migrationId, o.job, c.table, verdict, { rangeDone: next === null, reportRows: v.reportRows, maxUnsettled: v.maxRecheckInBlock });
              return { rows: hs.n, bytes: 0 };
            },
            { leaseSeconds: lease },
          );
          if (outcome !== 'committed') return true;
          result.subChunks++;
          result.rows += hs.n;
          result.differences += diffs.filter((d) => d.kind !== 'unsettled').length;
          diffProgressEvents.emit('progress', { job: o.job, worker: o.worker, table: `${c.table.schema}.${c.table.name}`, rows: hs.n, differences: diffs.length });
          sizer.observe(Math.max(hs.n, 1), performance.now() - started);
          bounds.observe(from, next, Math.max(hs.n, ht.n));
          if (next === null) return true;
          if (o.budget.expired()) return false;
          epochOver = Date.now() - sync.openedAt > v.maxSnapshotSeconds * 1000;
        }
      } finally {
        await closeSyncPoint(s).catch(() => undefined);
      }
    }
  }

  async function compareWhole(c: RangeClaim, columns: HashColumn[]): Promise<boolean> {
    const transactional = (await engineTransactional(s.sourceControl, c.table)) && (await engineTransactional(s.targetControl, c.table));
    const sync = await openSync(c.table, true);
    let whole: SubChunkVerdict['whole'];
    try {
      const timeoutMs = Math.max(30_000, o.budget.remainingMs());
      if (transactional) {
        const sql = chunkHashSql(c.table, null, { lo: null, hi: null }, columns);
        const [hs, ht] = await Promise.all([hashOf(s.sourceSnapshot, sql, timeoutMs), hashOf(s.targetSnapshot, sql, timeoutMs)]);
        whole = { sourceRows: hs.n, targetRows: ht.n, same: hs.n === ht.n && hs.h === ht.h };
      } else {
        const [a, b] = await Promise.all([hashOf(s.sourceSnapshot, countSql(c.table), timeoutMs), hashOf(s.targetSnapshot, countSql(c.table), timeoutMs)]);
        whole = { sourceRows: a.n, targetRows: b.n, same: null };
      }
    } finally {
      await closeSyncPoint(s).catch(() => undefined);
    }
    const verdict: SubChunkVerdict = { ...verdictOf(whole.sourceRows, [], fmt(sync.position), sync.exact), whole };
    await store.commitSubChunk(s.targetControl, c, null, async (tx) => {
      await recordVerdict(tx, o.input.migrationId, o.job, c.table, verdict, { rangeDone: true, reportRows: v.reportRows, maxUnsettled: v.maxRecheckInBlock });
      return { rows: whole!.sourceRows, bytes: 0 };
    });
    result.subChunks++;
    result.rows += whole.sourceRows;
    if (whole.same === false) result.differences++;
    return true;
  }

  /**
   * Settled mode: the target's read was at or past the source's position, so a row that changed in
   * between looks different. Each differing row is read again on both sides (the source first, then
   * the target once it executed past the source position read after it), up to three times. A row
   * that matches once is equal; one that differs every time while its source value never changed is
   * a real difference; one whose source value kept changing is unsettled (rechecked by the cutover).
   */
  async function recheckSettled(table: TableRef, key: WalkKey, columns: HashColumn[], rows: RowDiff[]): Promise<RowDifference[]> {
    let open = rows.map((r) => ({ ...r, sourceSeen: new Set<string>() }));
    let position = '';
    for (let attempt = 1; attempt <= 3 && open.length; attempt++) {
      await sleep(150 * attempt);
      const keys = open.map((r) => r.key);
      const src = await currentHashes(s.sourceControl, table, key, keys, columns, 30_000);
      const at = await binlogStatus(s.sourceControl);
      if (at) {
        position = fmt(at);
        await waitForExecuted(s.targetControl, s.targetDialect, at, Date.now() + 30_000, 24);
      }
      const dst = await currentHashes(s.targetControl, table, key, keys, columns, 30_000);
      open = open.filter((r) => {
        const id = JSON.stringify(r.key);
        const a = src.get(id) ?? null;
        const b = dst.get(id) ?? null;
        r.sourceSeen.add(a ?? 'absent');
        if (a === b) return false;
        r.kind = a === null ? 'extra' : b === null ? 'missing' : 'different';
        return true;
      });
    }
    const stable = open.filter((r) => r.sourceSeen.size === 1);
    await nameColumns({ source: s.sourceControl, target: s.targetControl }, table, key, columns, stable.filter((r) => r.kind === 'different').slice(0, v.reportRows), 30_000);
    return open.map((r) => ({ kind: r.sourceSeen.size === 1 ? r.kind : 'unsettled', key: r.key, ...(r.columns ? { columns: r.columns } : {}), position }));
  }
}

function verdictOf(rows: number, diffs: RowDifference[], position: string, exact: boolean): SubChunkVerdict {
  const count = (k: RowDifference['kind']) => diffs.filter((d) => d.kind === k).length;
  return { rows, chunks: 1, missing: count('missing'), extra: count('extra'), different: count('different'), unsettled: count('unsettled'), position, exact, differences: diffs };
}

async function hashOf(conn: DiffSessions['sourceControl'], sql: string, timeoutMs: number): Promise<{ n: number; h: string }> {
  const [row] = await q<{ n: unknown; h: unknown }>(conn, sql, [], timeoutMs);
  return { n: Number(row?.n ?? 0), h: String(row?.h ?? '0') };
}

async function engineTransactional(conn: DiffSessions['sourceControl'], t: TableRef): Promise<boolean> {
  const [row] = await q<{ e: string | null }>(conn, 'SELECT ENGINE AS e FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [t.schema, t.name]);
  return ['innodb', 'xtradb', 'rocksdb', 'tokudb'].includes(String(row?.e ?? '').toLowerCase());
}

