// What made a chunk worker fail, kept on the target beside the cursor store. On AWS the copy's Map runs
// each worker slot as a child execution of a Distributed Map, and a failed child fails the Map with
// States.ExceedToleratedFailureThreshold only (its own error stays in the child's history): "Explain
// the failed copy round" reads the worker's error from here and fails with it, so the report names the
// table, the range and the MySQL error, as it does locally where the inline Map passes the error on.
import { q, type Conn } from '../mysql/connection.js';
import { STORE_SCHEMA } from '../chunks/cursor-store.js';

const TABLE = `\`${STORE_SCHEMA}\`.copy_failures`;

export interface CopyFailure {
  worker: number;
  error: string;
  message: string;
  at: string;
}

export async function recordCopyFailure(conn: Conn, migrationId: string, f: Omit<CopyFailure, 'at'>): Promise<void> {
  await q(conn, `CREATE DATABASE IF NOT EXISTS \`${STORE_SCHEMA}\``);
  await q(
    conn,
    `CREATE TABLE IF NOT EXISTS ${TABLE} (migration_id VARCHAR(64) NOT NULL, at DATETIME(3) NOT NULL, worker INT NOT NULL,
       error VARCHAR(128) NOT NULL, message TEXT NOT NULL, PRIMARY KEY (migration_id, at, worker)) ENGINE=InnoDB`,
  );
  await q(conn, `INSERT IGNORE INTO ${TABLE} (migration_id, at, worker, error, message) VALUES (?, UTC_TIMESTAMP(3), ?, ?, ?)`, [migrationId, f.worker, f.error, f.message.slice(0, 8000)]);
}

/** The newest failure recorded at or after `since` (ISO time), or null. */
export async function latestCopyFailure(conn: Conn, migrationId: string, since: string): Promise<CopyFailure | null> {
  const exists = await q(conn, 'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [STORE_SCHEMA, 'copy_failures']);
  if (!exists.length) return null;
  const at = since.replace('T', ' ').replace('Z', '').slice(0, 23);
  const [r] = await q<Record<string, unknown>>(
    conn,
    `SELECT worker, error, message, CAST(at AS CHAR) AS at FROM ${TABLE} WHERE migration_id = ? AND at >= ? ORDER BY at DESC LIMIT 1`,
    [migrationId, at],
  );
  return r ? { worker: Number(r.worker), error: String(r.error), message: String(r.message), at: String(r.at) } : null;
}
