// Rows on the target that record how far this migration's cutover got, so a second invocation
// (Lambda retry, re-run execution, or a Lambda that died mid-cutover) does the right thing:
//   in-progress              -> the previous attempt died before the point of no return: undo its
//                               write block (from `blockState`) and resume replication, then start over
//   past-point-of-no-return  -> finish it (forget the source, make the target writable)
//   done                     -> return the stored result, change nothing
//   rolled-back              -> nothing pending
// The table is append-only (INSERT, never UPDATE/DELETE) and exists on the source too (made with the
// heartbeat, before the initial load): the rows written after the switch reach the source through
// reverse replication, and plain inserts of new rows always apply there.
import type { CutoverResult } from '../state.js';
import { ident, q, type Conn } from './connection.js';

const TABLE = 'cutover_log';

export type CutoverPhase = 'in-progress' | 'past-point-of-no-return' | 'done' | 'rolled-back';

export interface CutoverMarker {
  phase: CutoverPhase;
  result: CutoverResult | null;
  /** What the write blocker needs to undo its block (e.g. the security-group rules it removes). */
  blockState: unknown;
  /** How long ago the row was written, by the server's clock (read only). */
  ageMs?: number;
}

/**
 * Which server wrote a row: the target, for this migration. Not @@server_id: an Aurora failover
 * promotes another instance with another server_id, and the markers must survive it.
 */
export function targetSide(migrationId: string): string {
  return `target:${migrationId}`;
}

export async function ensureCutoverTable(conn: Conn, schema: string): Promise<void> {
  await q(conn, `CREATE DATABASE IF NOT EXISTS ${ident(schema)}`);
  await q(
    conn,
    `CREATE TABLE IF NOT EXISTS ${ident(schema)}.${TABLE} (
       seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, migration_id VARCHAR(64) NOT NULL, phase VARCHAR(32) NOT NULL,
       result TEXT NULL, block_state TEXT NULL, server_id INT UNSIGNED NOT NULL, side VARCHAR(80) NOT NULL DEFAULT '',
       at DATETIME(6) NOT NULL, KEY (migration_id, seq)) ENGINE=InnoDB`,
  );
  // Tables made before the side column existed get it (information_schema: MySQL 8 has no ADD COLUMN IF NOT EXISTS).
  const [has] = await q<{ n: number }>(
    conn,
    `SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = 'side'`,
    [schema, TABLE],
  );
  if (!Number(has?.n)) await q(conn, `ALTER TABLE ${ident(schema)}.${TABLE} ADD COLUMN side VARCHAR(80) NOT NULL DEFAULT '' AFTER server_id`);
}

/** The latest phase of this migration's cutover, or null when it never started. */
export async function readCutoverMarker(target: Conn, schema: string, migrationId: string): Promise<CutoverMarker | null> {
  try {
    const [row] = await q<{ phase: CutoverPhase; result: string | null; block_state: string | null; age_ms: number | string | null }>(
      target,
      // Only rows the target side wrote: rows that came back from the other side by replication do not count.
      `SELECT phase, result, block_state, TIMESTAMPDIFF(MICROSECOND, at, NOW(6)) / 1000 AS age_ms FROM ${ident(schema)}.${TABLE} WHERE migration_id = ? AND side = ? ORDER BY seq DESC LIMIT 1`,
      [migrationId, targetSide(migrationId)],
    );
    if (!row) return null;
    return {
      phase: row.phase,
      result: row.result ? (JSON.parse(row.result) as CutoverResult) : null,
      blockState: row.block_state ? JSON.parse(row.block_state) : null,
      ...(row.age_ms === null ? {} : { ageMs: Number(row.age_ms) }),
    };
  } catch (err) {
    if (/1146|1049|doesn't exist|Unknown database/.test((err as Error).message)) return null;
    throw err;
  }
}

export async function writeCutoverMarker(target: Conn, schema: string, migrationId: string, marker: CutoverMarker): Promise<void> {
  await ensureCutoverTable(target, schema);
  await q(target, `INSERT INTO ${ident(schema)}.${TABLE} (migration_id, phase, result, block_state, server_id, side, at) VALUES (?, ?, ?, ?, @@server_id, ?, NOW(6))`, [
    migrationId,
    marker.phase,
    marker.result ? JSON.stringify(marker.result) : null,
    marker.blockState === undefined || marker.blockState === null ? null : JSON.stringify(marker.blockState),
    targetSide(migrationId),
  ]);
}

export async function clearCutoverMarker(target: Conn, schema: string, migrationId: string): Promise<void> {
  await writeCutoverMarker(target, schema, migrationId, { phase: 'rolled-back', result: null, blockState: null });
}
