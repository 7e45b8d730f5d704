// "Copy chunks until the time budget": one worker slot of the copy's Map. It claims a range of the
// cursor store under a lease and copies it sub-chunk by sub-chunk, each sub-chunk's rows and the
// range's cursor committed in ONE target transaction (CursorStore.commitSubChunk), so a worker killed
// at any moment loses only its open sub-chunk and nothing is ever committed twice; it renews its lease
// with every commit, gives its range back when its time budget is spent, and resumes its own range
// first when its slot is retried. Sub-chunks are sized by bytes (initialLoad.chunkBytes, from the
// rows actually read) and capped in rows (initialLoad.chunkRows).
// Frozen sources: one connection pair per slot; the frozen source's fingerprint is read before each
// claim and before each commit (FrozenSourceMovedError). Live source: slot 1 alone, reading through the
// process's consistent snapshot on initialLoad.parallelism connections (frozen-source/live.ts); the
// other slots have nothing to do.
import { FrozenSourceMovedError, LiveSnapshotLostError, LogicalCopyError, TransientError } from '../errors.js';
import { logger } from '../logger.js';
import type { Budget } from '../chunks/budget.js';
import type { CursorStore, RangeClaim } from '../chunks/cursor-store.js';
import { displayTuple } from '../chunks/key-values.js';
import { detectEngine, dialectFor, type Dialect } from '../mysql/dialect.js';
import type { FrozenFingerprint, FrozenSourceKind } from '../state.js';
import { closeQuietly, openConnection, type Conn } from './connections.js';
import { COPY_JOB, LEASE_SECONDS, openStore, readCopyPlan, tableKey, type CopyJobPlan } from './copy-job.js';
import type { DbSide } from './copy-plan.js';
import { assertStillFrozen } from './frozen-source/fingerprint.js';
import { heldLiveSnapshot, liveKey, openLiveSnapshot, releaseLiveSnapshot } from './frozen-source/live.js';
import { copyRange, type CopyLimits } from './rows.js';
import { startKeysIfTableDone } from './early-keys.js';
import { clearRest } from './take-over.js';
import { targetSession } from './target-session.js';

export interface CopyWorkerOptions {
  migrationId: string;
  /** The Map's worker slot, 1..parallelism. */
  worker: number;
  /** Live source: connections slot 1 reads the snapshot with (initialLoad.parallelism). */
  lanes: number;
  from: DbSide;
  target: DbSide;
  frozen: { kind: FrozenSourceKind; fingerprint: FrozenFingerprint | null };
  budget: Budget;
  /**
   * On AWS every round is a new invocation: a live copy that is not done when its budget is spent
   * could never resume its snapshot, so it stops with LiveSnapshotLostError instead of handing over.
   */
  liveMustFinish: boolean;
  /** Called once the live snapshot is open (or found), before the rows are read. */
  onSnapshot?: () => void;
  /** Rows and bytes as each sub-chunk commits (the local progress line). */
  onCommitted?: (rows: number, bytes: number) => void;
  /** Runs inside each sub-chunk's transaction just before it commits (tests inject failures here). */
  beforeCommit?: (sub: { seq: number; table: string; rows: number }) => Promise<void> | void;
}

export interface CopyWorkerResult {
  worker: number;
  ranges: number;
  subChunks: number;
  rows: number;
  bytes: number;
  /** Why it returned: nothing left to claim, its budget spent, or (live) another slot holds the snapshot. */
  stoppedBy: 'nothing-to-claim' | 'budget' | 'live-slot-1-copies';
}

/** mysql2 codes of a dropped connection or a lock the other side held too long: the slot is retried. */
const TRANSIENT_CODES = new Set(['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ECONNREFUSED']);

export async function runCopyWorker(opts: CopyWorkerOptions): Promise<CopyWorkerResult> {
  const result: CopyWorkerResult = { worker: opts.worker, ranges: 0, subChunks: 0, rows: 0, bytes: 0, stoppedBy: 'nothing-to-claim' };
  const live = opts.frozen.kind === 'live';
  if (live && opts.worker !== 1) return { ...result, stoppedBy: 'live-slot-1-copies' };
  const owned: Conn[] = [];
  const open = async (side: DbSide, name: 'source' | 'target') => {
    const c = await openConnection(side.endpoint, side.credentials, name).catch((err: Error & { code?: string }) => {
      const text = `cannot connect to the ${name} ${side.endpoint.host}:${side.endpoint.port}: ${err.message}`;
      throw TRANSIENT_CODES.has(err.code ?? '') ? new TransientError(text) : new LogicalCopyError(text);
    });
    owned.push(c);
    return c;
  };
  let failed = false;
  try {
    const storeConn = await open(opts.target, 'target');
    await targetSession(storeConn);
    const store = await openStore(storeConn, opts.migrationId);
    const stored = await readCopyPlan(store);
    if (!stored || stored.state === 'planning') throw new LogicalCopyError(`migration ${opts.migrationId} has no copy planned on the target ("Plan the copy" runs first)`);
    const plan = stored.plan;
    // Nothing left (a slot retried after the job was finished): no snapshot is needed.
    if ((await store.progress(COPY_JOB)).done) return result;

    let sources: Conn[];
    let dialect: Dialect | null = null;
    const key = liveKey(opts.migrationId, COPY_JOB);
    if (live) {
      const held = heldLiveSnapshot(key, plan.live?.snapshotId ?? undefined);
      if (held) sources = held.lanes;
      else if (plan.live) throw lostSnapshot('its snapshot was opened by another invocation, which has ended');
      else {
        const tables = Object.keys(plan.tables).map((t) => ({ schema: t.slice(0, t.indexOf('.')), name: t.slice(t.indexOf('.') + 1) }));
        const snap = await openLiveSnapshot(key, () => openConnection(opts.from.endpoint, opts.from.credentials, 'source'), Math.max(1, opts.lanes), tables);
        plan.live = { snapshotId: snap.id, position: snap.position, method: snap.method, lockMs: snap.lockMs, openedAt: new Date().toISOString() };
        await store.updatePlan(COPY_JOB, plan);
        logger.info('live snapshot opened', { method: snap.method, lockMs: snap.lockMs, position: snap.position, connections: snap.lanes.length });
        sources = snap.lanes;
      }
    } else {
      const src = await open(opts.from, 'source');
      dialect = dialectFor(await detectEngine(src));
      sources = [src];
    }

    // Not in `owned`: closing it would wait for its ALTER; secondary-keys.ts closes it when the ALTER ends.
    const openTarget = async () => {
      const c = await openConnection(opts.target.endpoint, opts.target.credentials, 'target');
      await targetSession(c);
      return c;
    };
    opts.onSnapshot?.();
    const limits: CopyLimits = { batchBytes: plan.batchBytes, maxStatementBytes: plan.maxStatementBytes, format: plan.format };
    const where = `${opts.from.endpoint.host}:${opts.from.endpoint.port}`;
    const stops = await Promise.all(
      sources.map(async (src, i) => {
        const dst = await open(opts.target, 'target');
        await targetSession(dst);
        const owner = live ? `w1.${i + 1}` : `w${opts.worker}`;
        const frozenCheck = !live && opts.frozen.fingerprint ? () => assertStillFrozen(src, dialect!, opts.frozen.fingerprint!, where) : async () => undefined;
        return lane({ store, plan, src, dst, owner, limits, frozenCheck, opts, result, isFailed: () => failed, openTarget });
      }),
    );
    result.stoppedBy = stops.includes('budget') ? 'budget' : 'nothing-to-claim';
    if (live && result.stoppedBy === 'budget' && opts.liveMustFinish) {
      throw lostSnapshot(`it was not done within one invocation (${result.rows.toLocaleString('en')} rows copied in it); the next could not read the same snapshot`);
    }
    return result;
  } catch (err) {
    failed = true;
    // A live snapshot whose copy failed is not reused: the connections may be broken.
    if (live) await releaseLiveSnapshot(liveKey(opts.migrationId, COPY_JOB));
    throw classify(err);
  } finally {
    await closeQuietly(owned);
  }
}

function lostSnapshot(why: string): LiveSnapshotLostError {
  return new LiveSnapshotLostError(
    `The copy from the live source cannot go on: ${why}. A consistent snapshot lives only as long as the process that opened it. ` +
      'Copy from a frozen source that outlives an invocation (initialLoad.frozenSource kind rds-replica for RDS MySQL/MariaDB, source-clone for Aurora, named-replica for a replica crossmove may pause), or run it locally (crossmove run --local). Starting the migration again starts this copy over.',
  );
}

interface LaneContext {
  store: CursorStore;
  plan: CopyJobPlan;
  src: Conn;
  dst: Conn;
  owner: string;
  limits: CopyLimits;
  frozenCheck: () => Promise<void>;
  opts: CopyWorkerOptions;
  result: CopyWorkerResult;
  isFailed: () => boolean;
  /** A new target connection in the load session's settings (an ALTER of early keys). */
  openTarget: () => Promise<Conn>;
}

async function lane(ctx: LaneContext): Promise<'nothing-to-claim' | 'budget'> {
  const { store, plan, opts, result } = ctx;
  while (!ctx.isFailed()) {
    if (opts.budget.expired()) return 'budget';
    await ctx.frozenCheck();
    const claim = await store.claim(COPY_JOB, ctx.owner, LEASE_SECONDS, { resumeOwn: true });
    if (!claim) return 'nothing-to-claim';
    result.ranges++;
    const table = plan.tables[tableKey(claim.table)];
    if (!table) throw new LogicalCopyError(`range ${claim.seq} names table ${tableKey(claim.table)}, which the copy's plan does not hold`);
    let bytesPerRow = Math.max(1, table.avgRowBytes);
    let first = true;
    for (;;) {
      if (ctx.isFailed()) return 'nothing-to-claim';
      if (opts.budget.expired()) {
        await store.release(claim);
        return 'budget';
      }
      const from = claim.cursor ?? claim.range.lo;
      const maxRows = Math.max(1, Math.min(plan.maxRows, Math.floor(plan.chunkBytes / bytesPerRow)));
      const label = describeRange(claim, from);
      let copied = { rows: 0, bytes: 0, next: null as string[] | null };
      const outcome = await store
        .commitSubChunk(
          ctx.dst,
          claim,
          null,
          async (tx) => {
            // A range taken over from a worker that died: nothing past the cursor may be there (take-over.ts).
            if (first && claim.attempts > 1) await clearRest(tx, claim, from);
            copied = await copyRange(ctx.src, tx, { table: { schema: claim.table.schema, name: claim.table.name, ...table }, key: claim.key, from, hi: claim.range.hi, maxRows }, ctx.limits, () => undefined);
            // The rows read must be the frozen point's: checked before they commit.
            await ctx.frozenCheck();
            await opts.beforeCommit?.({ seq: claim.seq, table: tableKey(claim.table), rows: copied.rows });
            return { rows: copied.rows, bytes: copied.bytes, next: copied.next };
          },
          { leaseSeconds: LEASE_SECONDS },
        )
        .catch((err) => {
          throw classify(err, label);
        });
      first = false;
      if (outcome !== 'committed') break; // another worker took the range over (its lease ran out)
      result.subChunks++;
      result.rows += copied.rows;
      result.bytes += copied.bytes;
      opts.onCommitted?.(copied.rows, copied.bytes);
      if (copied.rows) bytesPerRow = Math.max(1, copied.bytes / copied.rows);
      if (copied.next === null) {
        // The range is done: if its table is too, its secondary keys need not wait for the others.
        await startKeysIfTableDone({ store, migrationId: opts.migrationId, planned: plan.startedAt, table: claim.table, deferred: plan.deferred, control: ctx.dst, open: ctx.openTarget });
        break;
      }
    }
  }
  return 'nothing-to-claim';
}

function describeRange(claim: RangeClaim, from: string[] | null): string {
  const name = tableKey(claim.table);
  if (!claim.key) return `${name} (all rows)`;
  const lo = from ? displayTuple(claim.key, from) : 'the first row';
  const hi = claim.range.hi ? ` up to ${displayTuple(claim.key, claim.range.hi)}` : '';
  return `${name} (range ${claim.seq}, from ${lo}${hi})`;
}

function classify(err: unknown, where?: string): Error {
  if (err instanceof LogicalCopyError || err instanceof FrozenSourceMovedError || err instanceof LiveSnapshotLostError || err instanceof TransientError) return err;
  const e = err as { code?: string; cause?: { code?: string }; message?: string; name?: string };
  const code = e.code ?? e.cause?.code;
  const text = where ? `copying ${where} failed: ${e.message ?? String(err)}` : (e.message ?? String(err));
  if (code && TRANSIENT_CODES.has(code)) return new TransientError(`${text} (the slot is retried; it resumes at the range's cursor)`, { cause: err });
  if (e.name === 'TransientError') return err as Error;
  return new LogicalCopyError(text, { cause: err });
}
