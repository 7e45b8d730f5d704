// Makes the copy idempotent. A row per migration in crossmove_load.copies on the TARGET (written with
// sql_log_bin=0 where allowed, never copied back) says which schemas this migration created and
// whether the copy finished. Re-invoked after it finished: the stored result (same binlog position)
// is returned and nothing is copied again. Re-invoked after a crash mid-copy: the schemas this
// migration created are dropped and copied again. A non-empty schema it did not create is never
// touched: that is a ResourceConflictError.
import type { RowDataPacket } from 'mysql2/promise';
import type { BinlogPosition, LogicalCopyResult } from '../state.js';
import type { Conn } from './connections.js';
import { MARKER_SCHEMA } from './inspect.js';

export interface Marker {
  schemas: string[];
  status: 'copying' | 'done';
  result: LogicalCopyResult | null;
}

const TABLE = `\`${MARKER_SCHEMA}\`.copies`;

export async function readMarker(conn: Conn, migrationId: string): Promise<Marker | null> {
  const [exists] = await conn.query<RowDataPacket[]>('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [
    MARKER_SCHEMA,
    'copies',
  ]);
  if (!exists.length) return null;
  const [rows] = await conn.query<RowDataPacket[]>(`SELECT schemas_json, status, result_json FROM ${TABLE} WHERE migration_id = ?`, [migrationId]);
  const r = rows[0];
  if (!r) return null;
  return { schemas: JSON.parse(r.schemas_json), status: r.status, result: r.result_json ? JSON.parse(r.result_json) : null };
}

export async function writeMarker(conn: Conn, migrationId: string, marker: Marker): Promise<void> {
  await conn.query(`CREATE DATABASE IF NOT EXISTS \`${MARKER_SCHEMA}\``);
  await conn.query(
    `CREATE TABLE IF NOT EXISTS ${TABLE} (migration_id VARCHAR(64) PRIMARY KEY, schemas_json TEXT NOT NULL,
       status VARCHAR(16) NOT NULL, result_json TEXT NULL, updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))`,
  );
  await conn.query(
    `REPLACE INTO ${TABLE} (migration_id, schemas_json, status, result_json, updated_at) VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP(3))`,
    [migrationId, JSON.stringify(marker.schemas), marker.status, marker.result ? JSON.stringify(marker.result) : null],
  );
}

/** Objects in a target schema (0 = absent or empty). */
export async function objectCount(conn: Conn, schema: string): Promise<number | null> {
  const [s] = await conn.query<RowDataPacket[]>('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [schema]);
  if (!s.length) return null;
  const [rows] = await conn.query<RowDataPacket[]>(
    `SELECT (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?)
          + (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?)
          + (SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?) AS n`,
    [schema, schema, schema],
  );
  return Number(rows[0]!.n);
}

/**
 * The copy's binlog file is gone from the source AND the target is not replicating past it (no replica,
 * or its IO thread stopped): the copy is useless and must run again. A replica that runs is past the
 * file, so a purge then is normal.
 */
export async function copyPositionPurged(source: Conn, target: Conn, position: BinlogPosition): Promise<boolean> {
  const [logs] = await source.query<RowDataPacket[]>('SHOW BINARY LOGS');
  if (logs.some((l) => l.Log_name === position.file)) return false;
  let replica: RowDataPacket | undefined;
  try {
    [[replica]] = (await target.query<RowDataPacket[]>('SHOW SLAVE STATUS')) as unknown as [RowDataPacket[]];
  } catch {
    [[replica]] = (await target.query<RowDataPacket[]>('SHOW REPLICA STATUS')) as unknown as [RowDataPacket[]];
  }
  const io = replica ? String(replica.Slave_IO_Running ?? replica.Replica_IO_Running ?? 'No') : 'No';
  return io !== 'Yes';
}
