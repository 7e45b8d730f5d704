// One sync point of the data comparison: a consistent read of some tables on the source, its binlog
// position P, and a consistent read on the target holding exactly the source's data at P, opened
// while replication keeps running (it is paused only for the instant the target's read is opened).
//
// Source side, no global lock (Aurora's master user has no SUPER / FLUSH TABLES WITH READ LOCK):
//   MariaDB  START TRANSACTION WITH CONSISTENT SNAPSHOT reports the binlog position of that very
//            snapshot (Binlog_snapshot_file/position): no lock at all.
//   others   LOCK TABLES t... READ on a control connection (granted only once every transaction that
//            changed t has committed, so t is complete up to the position read under it), SHOW MASTER
//            STATUS, the snapshot opened on ANOTHER connection, UNLOCK TABLES. The application's
//            writes to t wait for those few milliseconds (lock_wait_timeout bounds the queueing).
// Target side, exact (Vitess VDiff's order): stop the applier first (it is then at or behind the
// source), read P on the source, START ... UNTIL P, wait until the SQL thread stopped with its
// executed position exactly P, open the target's snapshot, restart the applier.
// Target side, settled (no UNTIL: Aurora 2, Aurora 3 before 3.04): wait until the target executed P
// or beyond, then open its snapshot; rows that changed in between are rechecked (diff-worker.ts).
// Pauses are serialised per migration by a named lock on the target (the cutover takes it too) and
// announced by a pause lease, so lag checks do not take the pause for a broken replica.
import { TransientError } from '../errors.js';
import { errnoOf, ident, q, type Conn } from '../mysql/connection.js';
import { binlogStatus, type Dialect } from '../mysql/dialect.js';
import { startApplier, startApplierUntil, stopApplier } from '../mysql/applier.js';
import { clearPauseLease, readPauseLease, takePauseLease } from '../mysql/pause-lease.js';
import { replicationError } from '../mysql/replication-errors.js';
import { readReplicaStatus } from '../mysql/status.js';
import { waitForExecuted } from '../mysql/wait-position.js';
import { logger } from '../logger.js';
import type { BinlogPosition } from '../state.js';
import type { TableRef } from '../chunks/keys.js';

export interface SyncConnections {
  /** Source connection for LOCK TABLES / SHOW MASTER STATUS (never the snapshot). */
  sourceControl: Conn;
  sourceSnapshot: Conn;
  /** Target connection for the applier, the named lock and the pause lease (never the snapshot). */
  targetControl: Conn;
  targetSnapshot: Conn;
  sourceDialect: Dialect;
  targetDialect: Dialect;
}

export interface SyncOptions {
  migrationId: string;
  owner: string;
  tables: TableRef[];
  mode: 'exact' | 'settled';
  /** Longest the applier may stay paused (exact) or the target may take to reach P (settled). */
  pauseBudgetMs?: number;
  lockWaitSeconds?: number;
  /** Take the per-table lock even on MariaDB (tests of the lock path). */
  forceLockTables?: boolean;
}

export interface SyncPoint {
  position: BinlogPosition;
  /** The target's read is at exactly the position (false: settled, at or past it). */
  exact: boolean;
  method: 'binlog-snapshot' | 'lock-tables';
  lockMs: number;
  pausedMs: number;
  openedAt: number;
}

/** Could not pause exactly at P (overshoot, applier error, budget): nothing is left paused. */
export class SyncPointMissedError extends Error {
  name = 'SyncPointMissedError';
}

export const applierLockName = (migrationId: string) => `crossmove:${migrationId}:applier`;
const fmt = (p: BinlogPosition) => `${p.file}:${p.position}`;

export async function openSyncPoint(c: SyncConnections, opts: SyncOptions): Promise<SyncPoint> {
  for (const conn of [c.sourceSnapshot, c.targetSnapshot]) {
    await q(conn, 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
  }
  return opts.mode === 'exact' ? exactSyncPoint(c, opts) : settledSyncPoint(c, opts);
}

/** Ends both reads (nothing was written in them). */
export async function closeSyncPoint(c: Pick<SyncConnections, 'sourceSnapshot' | 'targetSnapshot'>): Promise<void> {
  await Promise.all([q(c.sourceSnapshot, 'COMMIT'), q(c.targetSnapshot, 'COMMIT')]);
}

async function exactSyncPoint(c: SyncConnections, opts: SyncOptions): Promise<SyncPoint> {
  const budget = opts.pauseBudgetMs ?? 10_000;
  const lock = applierLockName(opts.migrationId);
  const [got] = await q<{ got: number | null }>(c.targetControl, 'SELECT GET_LOCK(?, 10) AS got', [lock]);
  if (Number(got?.got) !== 1) throw new TransientError(`replication could not be paused: another crossmove session holds ${lock} (a cutover or another comparison worker)`);
  let paused = false;
  let pausedAt = 0;
  try {
    await assertHealthy(c, opts);
    await takePauseLease(c.targetControl, opts.migrationId, opts.owner, 'pending', Math.ceil(budget / 1000) + 20);
    pausedAt = performance.now();
    paused = true;
    await stopApplier(c.targetControl, c.targetDialect);
    const source = await openSourceSnapshot(c, opts);
    await takePauseLease(c.targetControl, opts.migrationId, opts.owner, fmt(source.position), Math.ceil(budget / 1000) + 20);
    await startApplierUntil(c.targetControl, c.targetDialect, source.position);
    const deadline = Date.now() + budget;
    for (;;) {
      const status = await readReplicaStatus(c.targetControl, c.targetDialect);
      if (!status) throw new SyncPointMissedError('the target has no replication configured any more');
      if (!status.sqlRunning) {
        if (status.lastSqlErrno) throw new SyncPointMissedError(`the applier stopped with error ${status.lastSqlErrno}: ${status.lastSqlError}`);
        if (status.execFile !== source.position.file || status.execPosition !== source.position.position) {
          throw new SyncPointMissedError(`the applier stopped at ${status.execFile}:${status.execPosition}, not at ${fmt(source.position)}`);
        }
        break;
      }
      if (Date.now() > deadline) throw new SyncPointMissedError(`the applier did not reach ${fmt(source.position)} within ${budget} ms`);
      await new Promise((r) => setTimeout(r, 2));
    }
    await q(c.targetSnapshot, 'START TRANSACTION WITH CONSISTENT SNAPSHOT');
    await startApplier(c.targetControl, c.targetDialect);
    paused = false;
    const pausedMs = performance.now() - pausedAt;
    await clearPauseLease(c.targetControl, opts.migrationId, opts.owner);
    return { position: source.position, exact: true, method: source.method, lockMs: source.lockMs, pausedMs, openedAt: Date.now() };
  } catch (err) {
    await q(c.sourceSnapshot, 'ROLLBACK').catch(() => undefined);
    await q(c.targetSnapshot, 'ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    if (paused) {
      // Never leave the replica paused: restart it whatever went wrong (a failed restart is logged
      // with the lease left in place, so the next check names it).
      try {
        await startApplier(c.targetControl, c.targetDialect);
        await clearPauseLease(c.targetControl, opts.migrationId, opts.owner);
      } catch (err) {
        logger.error('data comparison: could not restart the applier after a sync point', { error: (err as Error).message });
      }
    }
    await q(c.targetControl, 'SELECT RELEASE_LOCK(?)', [lock]).catch(() => undefined);
  }
}

async function settledSyncPoint(c: SyncConnections, opts: SyncOptions): Promise<SyncPoint> {
  const budget = opts.pauseBudgetMs ?? 30_000;
  try {
    await assertHealthy(c, opts);
    const source = await openSourceSnapshot(c, opts);
    const waited = await waitForExecuted(c.targetControl, c.targetDialect, source.position, Date.now() + budget, 24);
    if (!waited.reached) throw new TransientError(`the target did not reach the source position ${fmt(source.position)} within ${budget} ms (${waited.why})`);
    await q(c.targetSnapshot, 'START TRANSACTION WITH CONSISTENT SNAPSHOT');
    return { position: source.position, exact: false, method: source.method, lockMs: source.lockMs, pausedMs: 0, openedAt: Date.now() };
  } catch (err) {
    await q(c.sourceSnapshot, 'ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** The replica must be replicating (or paused by a dead comparison, which is resumed here). */
async function assertHealthy(c: SyncConnections, opts: SyncOptions): Promise<void> {
  const status = await readReplicaStatus(c.targetControl, c.targetDialect);
  if (!status) throw new TransientError('the target has no replication configured: the comparison runs while the target replicates from the source');
  const broken = replicationError(status, { binlogRetentionHours: 24 });
  if (broken) throw broken;
  if (!status.sqlRunning) {
    const lease = await readPauseLease(c.targetControl, opts.migrationId);
    if (lease && !lease.live) {
      logger.warn('data comparison: a previous comparison died while replication was paused; resuming the applier', { owner: lease.owner, since: lease.since });
      await startApplier(c.targetControl, c.targetDialect);
      await clearPauseLease(c.targetControl, opts.migrationId);
      return;
    }
    throw new TransientError('the target replication SQL thread is not running: start replication before comparing');
  }
}

async function openSourceSnapshot(c: SyncConnections, opts: SyncOptions): Promise<{ position: BinlogPosition; method: SyncPoint['method']; lockMs: number }> {
  if (c.sourceDialect.engine === 'mariadb' && !opts.forceLockTables) {
    await q(c.sourceSnapshot, 'START TRANSACTION WITH CONSISTENT SNAPSHOT');
    const rows = await q<{ Variable_name: string; Value: string }>(c.sourceSnapshot, "SHOW STATUS LIKE 'binlog_snapshot_%'");
    const file = rows.find((r) => r.Variable_name === 'Binlog_snapshot_file')?.Value;
    const pos = rows.find((r) => r.Variable_name === 'Binlog_snapshot_position')?.Value;
    if (file) return { position: { file, position: Number(pos) }, method: 'binlog-snapshot', lockMs: 0 };
    await q(c.sourceSnapshot, 'ROLLBACK');
  }
  await q(c.sourceControl, 'SET SESSION lock_wait_timeout = ?', [opts.lockWaitSeconds ?? 3]);
  const list = opts.tables.map((t) => `${ident(t.schema)}.${ident(t.name)} READ`).join(', ');
  const started = performance.now();
  try {
    await q(c.sourceControl, `LOCK TABLES ${list}`);
  } catch (err) {
    if (errnoOf(err) === 1205 || err instanceof TransientError) {
      throw new TransientError(`LOCK TABLES ${opts.tables.map((t) => `${t.schema}.${t.name}`).join(', ')} READ waited longer than ${opts.lockWaitSeconds ?? 3} s behind a long transaction on the source; trying again later`);
    }
    throw err;
  }
  try {
    const position = await binlogStatus(c.sourceControl);
    if (!position) throw new Error('SHOW MASTER STATUS is empty on the source (binary logging off)');
    await q(c.sourceSnapshot, 'START TRANSACTION WITH CONSISTENT SNAPSHOT');
    return { position, method: 'lock-tables', lockMs: performance.now() - started };
  } finally {
    await q(c.sourceControl, 'UNLOCK TABLES');
  }
}
