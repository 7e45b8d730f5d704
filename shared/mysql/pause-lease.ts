// "Replication is paused on purpose": a lease row on the target, written by the data comparison
// right before it stops the applier for a sync point (milliseconds) and cleared once it restarted it.
// Readers that find the SQL thread stopped tell a pause (live lease: check again) from a broken or
// stopped replica, and a comparison that died mid-pause (expired lease) from someone's STOP SLAVE.
// The lease lives in the bookkeeping schema crossmove_load, never on the source.
import { q, type Conn } from './connection.js';

const SCHEMA = 'crossmove_load';
const TABLE = `\`${SCHEMA}\`.replication_pause`;

export interface PauseLease {
  owner: string;
  position: string;
  since: string;
  live: boolean;
}

async function ensure(conn: Conn): Promise<void> {
  await q(conn, `CREATE DATABASE IF NOT EXISTS \`${SCHEMA}\``);
  await q(
    conn,
    `CREATE TABLE IF NOT EXISTS ${TABLE} (migration_id VARCHAR(64) NOT NULL PRIMARY KEY, owner VARCHAR(128) NOT NULL,
       position VARCHAR(255) NOT NULL, since DATETIME(3) NOT NULL, lease_until DATETIME(3) NOT NULL) ENGINE=InnoDB`,
  );
}

export async function takePauseLease(conn: Conn, migrationId: string, owner: string, position: string, seconds: number): Promise<void> {
  await ensure(conn);
  await q(
    conn,
    `REPLACE INTO ${TABLE} (migration_id, owner, position, since, lease_until) VALUES (?, ?, ?, NOW(3), NOW(3) + INTERVAL ${Math.max(1, Math.round(seconds))} SECOND)`,
    [migrationId, owner, position],
  );
}

export async function clearPauseLease(conn: Conn, migrationId: string, owner?: string): Promise<void> {
  await q(conn, `DELETE FROM ${TABLE} WHERE migration_id = ?${owner ? ' AND owner = ?' : ''}`, owner ? [migrationId, owner] : [migrationId]).catch((err: Error) => {
    if (!/1146|1049|doesn't exist|Unknown database/.test(err.message)) throw err;
  });
}

/** The migration's pause lease, or null (none, or the table was never created). */
export async function readPauseLease(conn: Conn, migrationId: string): Promise<PauseLease | null> {
  try {
    const [row] = await q<{ owner: string; position: string; since: string; live: number }>(
      conn,
      `SELECT owner, position, CAST(since AS CHAR) AS since, lease_until >= NOW(3) AS live FROM ${TABLE} WHERE migration_id = ?`,
      [migrationId],
    );
    return row ? { owner: row.owner, position: row.position, since: row.since, live: Number(row.live) === 1 } : null;
  } catch (err) {
    if (/1146|1049|doesn't exist|Unknown database/.test((err as Error).message)) return null;
    throw err;
  }
}

/**
 * The SQL thread is stopped without an error because a comparison paused it: 'live' (check again in
 * a moment), 'dead' (the comparison died mid-pause; its next worker resumes it), or null (not a pause).
 */
export async function purposefulPause(conn: Conn, migrationId: string, status: { sqlRunning: boolean; lastSqlErrno: number }): Promise<'live' | 'dead' | null> {
  if (status.sqlRunning || status.lastSqlErrno) return null;
  const lease = await readPauseLease(conn, migrationId);
  return lease ? (lease.live ? 'live' : 'dead') : null;
}
