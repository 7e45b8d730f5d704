// Keeps a session's own writes (crossmove's bookkeeping, a bulk load) out of the server's binlog where
// the account may, so they never travel through reverse replication to the other side:
//   MariaDB, MySQL        SET SESSION sql_log_bin = 0 (SUPER / SYSTEM_VARIABLES_ADMIN or SESSION_VARIABLES_ADMIN)
//   Aurora MySQL 2        CALL mysql.rds_disable_session_binlog (2.12 and later)
//   Aurora MySQL 3        SET SESSION sql_log_bin = 0 only with SESSION_VARIABLES_ADMIN, which the
//                         master user lacks: usually not possible
// Before the cutover that is a saving, not a need (reverse replication starts at the target's
// position taken at the switch); after it, a caller that writes must refuse when this returns false.
import { errnoOf, q, type Conn } from './connection.js';
import type { Dialect } from './dialect.js';

/** Access denied / unknown procedure: the account may not skip the binlog here. */
const REFUSED = new Set([1044, 1045, 1142, 1227, 1305, 1370, 1419, 1621]);

export async function skipBinlog(conn: Conn, dialect: Pick<Dialect, 'engine' | 'aurora'>): Promise<boolean> {
  if (dialect.engine === 'aurora-mysql-2' && (await tryStatement(conn, 'CALL mysql.rds_disable_session_binlog'))) return true;
  return tryStatement(conn, 'SET SESSION sql_log_bin = 0');
}

async function tryStatement(conn: Conn, sql: string): Promise<boolean> {
  try {
    await q(conn, sql);
    return true;
  } catch (err) {
    if (REFUSED.has(errnoOf(err) ?? errnoOf((err as Error).cause) ?? -1)) return false;
    throw err;
  }
}

/** Whether this session's writes go to the binlog now (@@sql_log_bin). */
export async function sessionLogsBinlog(conn: Conn): Promise<boolean> {
  const [row] = await q<{ v: unknown }>(conn, 'SELECT @@SESSION.sql_log_bin AS v');
  return Number(row?.v) === 1;
}
