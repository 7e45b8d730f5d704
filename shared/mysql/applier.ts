// The target's applier (the replication SQL thread), paused and resumed for the data comparison's sync
// point, per dialect (functions taking the dialect, beside dialect.ts):
//   mariadb          STOP SLAVE SQL_THREAD / START SLAVE SQL_THREAD UNTIL MASTER_LOG_FILE, MASTER_LOG_POS
//   mysql-8          STOP REPLICA SQL_THREAD / START REPLICA SQL_THREAD UNTIL SOURCE_LOG_FILE, SOURCE_LOG_POS
//   aurora-mysql-3   CALL mysql.rds_stop_replication / CALL mysql.rds_start_replication_until(file, pos)
//                    (3.04 and later; both stop and start the IO thread too)
//   aurora-mysql-2   no UNTIL for file/position: the comparison runs "settled" instead
// Where UNTIL exists, the applier stops with its executed position exactly at the requested one: the
// target then holds the source's data at that position, and a snapshot opened there is comparable to
// the source's snapshot at the same position.
import { q, type Conn } from './connection.js';
import type { Dialect } from './dialect.js';
import type { BinlogPosition } from '../state.js';

/** Stops applying events (the IO thread keeps reading where the dialect allows it). */
export async function stopApplier(conn: Conn, dialect: Dialect): Promise<void> {
  if (dialect.aurora) await q(conn, 'CALL mysql.rds_stop_replication');
  else await q(conn, dialect.engine === 'mysql-8' ? 'STOP REPLICA SQL_THREAD' : 'STOP SLAVE SQL_THREAD');
}

/** Applies events up to exactly `pos`, then the SQL thread stops by itself. */
export async function startApplierUntil(conn: Conn, dialect: Dialect, pos: BinlogPosition): Promise<void> {
  if (dialect.aurora) await q(conn, 'CALL mysql.rds_start_replication_until(?, ?)', [pos.file, pos.position]);
  else if (dialect.engine === 'mysql-8') await q(conn, 'START REPLICA SQL_THREAD UNTIL SOURCE_LOG_FILE = ?, SOURCE_LOG_POS = ?', [pos.file, pos.position]);
  else await q(conn, 'START SLAVE SQL_THREAD UNTIL MASTER_LOG_FILE = ?, MASTER_LOG_POS = ?', [pos.file, pos.position]);
}

/** Resumes normal replication. */
export async function startApplier(conn: Conn, dialect: Dialect): Promise<void> {
  if (dialect.aurora) await q(conn, 'CALL mysql.rds_start_replication');
  else await q(conn, dialect.engine === 'mysql-8' ? 'START REPLICA SQL_THREAD' : 'START SLAVE SQL_THREAD');
}

/** Whether this target can stop its applier at an exact source position. */
export async function untilSupported(conn: Conn, dialect: Dialect): Promise<boolean> {
  if (!dialect.aurora) return true;
  const rows = await q(conn, "SELECT 1 FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'mysql' AND ROUTINE_NAME = 'rds_start_replication_until'");
  return rows.length > 0;
}
