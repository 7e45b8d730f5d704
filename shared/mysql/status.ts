// Replica status rows under the old (Slave_*, *_Master_*: MariaDB, MySQL 5.7, Aurora 2) and the new
// (Replica_*, *_Source_*: MySQL 8.0.22+, Aurora 3) column names, read into one shape.
import type { Conn } from './connection.js';
import { q } from './connection.js';
import type { Dialect } from './dialect.js';

export interface ReplicaStatus {
  /** 'Yes' | 'No' | 'Connecting' (IO thread). */
  ioState: string;
  sqlRunning: boolean;
  ioRunning: boolean;
  sourceHost: string | null;
  sourcePort: number | null;
  sourceUser: string | null;
  /** Where the SQL thread is in the source's binlog (executed). */
  execFile: string | null;
  execPosition: number | null;
  /** Where the IO thread is in the source's binlog (read). */
  readFile: string | null;
  readPosition: number | null;
  secondsBehind: number | null;
  lastIoErrno: number;
  lastIoError: string;
  lastSqlErrno: number;
  lastSqlError: string;
  sqlDelay: number;
}

function pick(row: Record<string, unknown>, ...names: string[]): unknown {
  for (const n of names) if (row[n] !== undefined) return row[n];
  return undefined;
}
const str = (v: unknown) => (v === undefined || v === null || v === '' ? null : String(v));
const num = (v: unknown) => (v === undefined || v === null || v === '' ? null : Number(v));

export function parseReplicaStatus(row: Record<string, unknown>): ReplicaStatus {
  const ioState = String(pick(row, 'Replica_IO_Running', 'Slave_IO_Running') ?? 'No');
  return {
    ioState,
    ioRunning: ioState === 'Yes',
    sqlRunning: String(pick(row, 'Replica_SQL_Running', 'Slave_SQL_Running') ?? 'No') === 'Yes',
    sourceHost: str(pick(row, 'Source_Host', 'Master_Host')),
    sourcePort: num(pick(row, 'Source_Port', 'Master_Port')),
    sourceUser: str(pick(row, 'Source_User', 'Master_User')),
    execFile: str(pick(row, 'Relay_Source_Log_File', 'Relay_Master_Log_File')),
    execPosition: num(pick(row, 'Exec_Source_Log_Pos', 'Exec_Master_Log_Pos')),
    readFile: str(pick(row, 'Source_Log_File', 'Master_Log_File')),
    readPosition: num(pick(row, 'Read_Source_Log_Pos', 'Read_Master_Log_Pos')),
    secondsBehind: num(pick(row, 'Seconds_Behind_Source', 'Seconds_Behind_Master')),
    lastIoErrno: Number(pick(row, 'Last_IO_Errno') ?? 0),
    lastIoError: String(pick(row, 'Last_IO_Error') ?? ''),
    lastSqlErrno: Number(pick(row, 'Last_SQL_Errno') ?? 0),
    lastSqlError: String(pick(row, 'Last_SQL_Error') ?? ''),
    sqlDelay: Number(pick(row, 'SQL_Delay') ?? 0),
  };
}

/** The replica status, or null when no external source is configured. */
export async function readReplicaStatus(conn: Conn, dialect: Dialect): Promise<ReplicaStatus | null> {
  const rows = await q(conn, dialect.statusSql);
  return rows[0] ? parseReplicaStatus(rows[0]) : null;
}
