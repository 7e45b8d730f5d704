// "Copy the data for one window" on a live source (initialLoad.frozenSource live): one consistent
// snapshot shared by every connection of the copy, and the binlog position it corresponds to. Tried in
// this order, the first the source and its user allow:
//   1. FLUSH TABLES WITH READ LOCK: nothing can commit while it is held, so every connection that opens
//      its snapshot under it sees the same data, and SHOW MASTER STATUS read under the same lock is
//      exactly the position replication must start from.
//   2. LOCK TABLES <every copied table> READ (MySQL 8 / Aurora 3 master users, who may not take the
//      global lock; mydumper's LOCK_ALL, MySQL Shell's dump utilities without RELOAD, Vitess's
//      snapshot_conn.go): the lock is granted only once no transaction that wrote one of these tables
//      is still open, and a transaction is in the binlog before it commits; so under the lock every
//      change to them is at or below SHOW MASTER STATUS, none can be added until UNLOCK, and snapshots
//      opened meanwhile on OTHER connections (LOCK TABLES and START TRANSACTION end each other on one
//      session) see exactly those changes. Other tables commit freely: the copy does not read them.
//   3. MariaDB's Binlog_snapshot_file/position of one consistent snapshot, without any lock, at the
//      price of one connection (several snapshots are consistent with each other only by chance).
// Otherwise the copy is refused, naming the frozen sources that need no lock at all.
// Every lock is held for a few statements only (milliseconds); lock_wait_timeout bounds how long we
// queue behind a long-running statement before giving up.
import type { RowDataPacket } from 'mysql2/promise';
import { errnoOf } from '../mysql/connection.js';
import type { BinlogPosition } from '../state.js';
import { q, type Conn } from './connections.js';
import { binlogPosition } from './inspect.js';

export type SnapshotMethod = 'global-read-lock' | 'lock-tables' | 'mariadb-binlog-snapshot';

export interface Snapshot {
  position: BinlogPosition;
  /** Connections whose transaction sees the snapshot (all, or one in the MariaDB fallback). */
  workers: Conn[];
  lockMs: number;
  method: SnapshotMethod;
}

class SnapshotError extends Error {}

/** Access denied (RELOAD / LOCK TABLES missing); 1045/1142 on some managed services. */
const REFUSED = new Set([1044, 1045, 1142, 1227]);
const refused = (err: unknown) => REFUSED.has(errnoOf(err) ?? errnoOf((err as Error).cause) ?? -1);

export interface SnapshotOptions {
  /** Every table the copy reads (schema, name): the LOCK TABLES fallback locks exactly these. */
  tables: { schema: string; name: string }[];
  lockWaitSeconds?: number;
}

export async function openSnapshot(control: Conn, workers: Conn[], opts: SnapshotOptions): Promise<Snapshot> {
  await Promise.all(workers.map((w) => w.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ')));
  await control.query('SET SESSION lock_wait_timeout = ?', [opts.lockWaitSeconds ?? 60]);
  if (await tryStatement(control, 'FLUSH TABLES WITH READ LOCK')) return underLock(control, workers, 'global-read-lock');
  if (opts.tables.length && (await tryStatement(control, `LOCK TABLES ${opts.tables.map((t) => `${q(t.schema)}.${q(t.name)} READ`).join(', ')}`))) {
    return underLock(control, workers, 'lock-tables');
  }
  const first = workers[0]!;
  await first.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
  const [rows] = await first.query<RowDataPacket[]>("SHOW STATUS LIKE 'binlog_snapshot_%'");
  const file = rows.find((r) => r.Variable_name === 'Binlog_snapshot_file')?.Value as string | undefined;
  const pos = rows.find((r) => r.Variable_name === 'Binlog_snapshot_position')?.Value;
  if (!file) {
    await first.query('ROLLBACK');
    throw new SnapshotError(
      'the source user may neither run FLUSH TABLES WITH READ LOCK (needs RELOAD) nor LOCK TABLES on the copied tables (needs LOCK TABLES and SELECT), and the server does not report Binlog_snapshot_file (not MariaDB): no consistent binlog position can be taken from the live source. ' +
        'Grant LOCK TABLES to the source admin, or copy from a frozen source that needs no lock: initialLoad.frozenSource kind rds-replica (RDS MySQL/MariaDB), source-clone (Aurora) or named-replica (a replica of the source that crossmove pauses)',
    );
  }
  return { position: { file, position: Number(pos) }, workers: [first], lockMs: 0, method: 'mariadb-binlog-snapshot' };
}

async function tryStatement(conn: Conn, sql: string): Promise<boolean> {
  try {
    await conn.query(sql);
    return true;
  } catch (err) {
    if (refused(err)) return false;
    throw err;
  }
}

async function underLock(control: Conn, workers: Conn[], method: SnapshotMethod): Promise<Snapshot> {
  const started = Date.now();
  try {
    await Promise.all(workers.map((w) => w.query('START TRANSACTION WITH CONSISTENT SNAPSHOT')));
    const position = await binlogPosition(control);
    if (!position) throw new SnapshotError('binary logging is off on the source (SHOW MASTER STATUS is empty)');
    return { position, workers, lockMs: Date.now() - started, method };
  } finally {
    await control.query('UNLOCK TABLES');
  }
}
