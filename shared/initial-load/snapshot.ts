// One consistent snapshot shared by every worker, and the binlog position it corresponds to.
// Under FLUSH TABLES WITH READ LOCK nothing can commit, so every worker that opens its snapshot while
// the lock is held sees the same data, and SHOW MASTER STATUS read under the same lock is exactly the
// position replication must start from. The lock is held only for those few statements (milliseconds);
// lock_wait_timeout bounds how long we queue behind a long-running statement before giving up.
// Where the admin user may not take the global lock, MariaDB still gives a consistent position for a
// single snapshot (Binlog_snapshot_file/position), at the price of one worker.
import type { RowDataPacket } from 'mysql2/promise';
import type { BinlogPosition } from '../state.js';
import type { Conn } from './connections.js';
import { binlogPosition } from './inspect.js';

export interface Snapshot {
  position: BinlogPosition;
  /** Workers whose transaction sees the snapshot (all, or one in the fallback). */
  workers: Conn[];
  lockMs: number;
  method: 'global-read-lock' | 'mariadb-binlog-snapshot';
}

export class SnapshotError extends Error {}

export async function openSnapshot(control: Conn, workers: Conn[], lockWaitSeconds = 60): Promise<Snapshot> {
  await Promise.all(workers.map((w) => w.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ')));
  await control.query('SET SESSION lock_wait_timeout = ?', [lockWaitSeconds]);
  let locked = false;
  try {
    await control.query('FLUSH TABLES WITH READ LOCK');
    locked = true;
  } catch (err) {
    const code = (err as { errno?: number }).errno;
    // 1227 access denied (needs RELOAD), 1045/1142 likewise on some services; anything else is real.
    if (code !== 1227 && code !== 1045 && code !== 1142) throw err;
  }
  if (locked) {
    const started = Date.now();
    try {
      await Promise.all(workers.map((w) => w.query('START TRANSACTION WITH CONSISTENT SNAPSHOT')));
      const position = await binlogPosition(control);
      if (!position) throw new SnapshotError('binary logging is off on the source (SHOW MASTER STATUS is empty)');
      return { position, workers, lockMs: Date.now() - started, method: 'global-read-lock' };
    } finally {
      await control.query('UNLOCK TABLES');
    }
  }
  const first = workers[0]!;
  await first.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
  const [rows] = await first.query<RowDataPacket[]>("SHOW STATUS LIKE 'binlog_snapshot_%'");
  const file = rows.find((r) => r.Variable_name === 'Binlog_snapshot_file')?.Value as string | undefined;
  const pos = rows.find((r) => r.Variable_name === 'Binlog_snapshot_position')?.Value;
  if (!file) {
    throw new SnapshotError(
      'the source user may not run FLUSH TABLES WITH READ LOCK (grant RELOAD) and the server does not report Binlog_snapshot_file (not MariaDB): no consistent binlog position can be taken',
    );
  }
  return { position: { file, position: Number(pos) }, workers: [first], lockMs: 0, method: 'mariadb-binlog-snapshot' };
}
