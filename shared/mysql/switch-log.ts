// The switch's marker log: rows on the new primary that record how far a switch got, so that a second
// invocation (Lambda retry, re-run execution, or a Lambda that died mid-switch) does the right thing:
//   in-progress              -> the previous attempt died before the point of no return: undo its
//                               write block (from `blockState`) and resume replication, then start over
//   past-point-of-no-return  -> finish it (forget the old primary, make the new one writable)
//   done                     -> return the stored result, change nothing
//   rolled-back              -> nothing pending
// One store, one row format and one phase type for both directions; each direction has its own table:
// - cutover_log, written on the target. It exists on the source too (made with the heartbeat, before
//   the initial load): rows written after the switch reach the source through reverse replication, and
//   plain inserts of new rows always apply there, so rows are told apart by `side`.
// - fallback_log, written only on the source: the source replicates from the target until the fallback
//   switches, and rows the target never writes can never collide with replicated ones.
// Append-only (INSERT, never UPDATE/DELETE).
import type { CutoverResult, FallbackResult } from '../state.js';
import { ident, q, type Conn } from './connection.js';
import type { MarkerStore, SwitchMarker } from './switch-plan.js';

export interface SwitchLog {
  table: string;
  /** Which server wrote a row, for this migration. */
  side: (migrationId: string) => string;
  /** Rows written before `side` existed count as this side's (the table is written on one side only). */
  unsidedRowsAreOurs: boolean;
}

/**
 * Not @@server_id: an Aurora failover promotes another instance with another server_id, and the
 * markers must survive it.
 */
function targetSide(migrationId: string): string {
  return `target:${migrationId}`;
}

export const CUTOVER_LOG: SwitchLog = { table: 'cutover_log', side: targetSide, unsidedRowsAreOurs: false };
export const FALLBACK_LOG: SwitchLog = { table: 'fallback_log', side: (id) => `source:${id}`, unsidedRowsAreOurs: true };
export const FALLBACK_TABLE = FALLBACK_LOG.table;

async function ensureSwitchLog(conn: Conn, schema: string, log: SwitchLog): Promise<void> {
  await q(conn, `CREATE DATABASE IF NOT EXISTS ${ident(schema)}`);
  await q(
    conn,
    `CREATE TABLE IF NOT EXISTS ${ident(schema)}.${ident(log.table)} (
       seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, migration_id VARCHAR(64) NOT NULL, phase VARCHAR(32) NOT NULL,
       result TEXT NULL, block_state TEXT NULL, server_id INT UNSIGNED NOT NULL DEFAULT 0, side VARCHAR(80) NOT NULL DEFAULT '',
       at DATETIME(6) NOT NULL, KEY (migration_id, seq)) ENGINE=InnoDB`,
  );
  // Tables an older version made lack these columns (information_schema: MySQL 8 has no ADD COLUMN IF NOT EXISTS).
  const rows = await q<{ c: string }>(
    conn,
    `SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME IN ('server_id', 'side')`,
    [schema, log.table],
  );
  const has = new Set(rows.map((r) => r.c.toLowerCase()));
  if (!has.has('server_id')) await q(conn, `ALTER TABLE ${ident(schema)}.${ident(log.table)} ADD COLUMN server_id INT UNSIGNED NOT NULL DEFAULT 0 AFTER block_state`);
  if (!has.has('side')) await q(conn, `ALTER TABLE ${ident(schema)}.${ident(log.table)} ADD COLUMN side VARCHAR(80) NOT NULL DEFAULT '' AFTER server_id`);
}

/** The latest marker this side wrote (optionally of one phase), or null when there is none. */
export async function readSwitchMarker<R>(conn: Conn, schema: string, migrationId: string, log: SwitchLog, phase?: SwitchMarker<R>['phase']): Promise<SwitchMarker<R> | null> {
  const sides = log.unsidedRowsAreOurs ? [log.side(migrationId), ''] : [log.side(migrationId)];
  const select = (bySide: boolean) =>
    q<{ phase: SwitchMarker<R>['phase']; result: string | null; block_state: string | null; age_ms: number | string | null }>(
      conn,
      // Only rows this side wrote: rows that came back from the other side by replication do not count.
      `SELECT phase, result, block_state, TIMESTAMPDIFF(MICROSECOND, at, NOW(6)) / 1000 AS age_ms FROM ${ident(schema)}.${ident(log.table)}
        WHERE migration_id = ?${bySide ? ' AND side IN (?)' : ''}${phase ? ' AND phase = ?' : ''} ORDER BY seq DESC LIMIT 1`,
      [migrationId, ...(bySide ? [sides] : []), ...(phase ? [phase] : [])],
    );
  try {
    const [row] = await select(true).catch((err: Error) => {
      // A log an older version made, not written since (reads never alter it): all its rows are ours.
      if (log.unsidedRowsAreOurs && /1054|Unknown column 'side'/.test(err.message)) return select(false);
      throw err;
    });
    if (!row) return null;
    return {
      phase: row.phase,
      result: row.result ? (JSON.parse(row.result) as R) : null,
      blockState: row.block_state ? JSON.parse(row.block_state) : null,
      ...(row.age_ms === null ? {} : { ageMs: Number(row.age_ms) }),
    };
  } catch (err) {
    if (/1146|1049|doesn't exist|Unknown database/.test((err as Error).message)) return null;
    throw err;
  }
}

async function writeSwitchMarker<R>(conn: Conn, schema: string, migrationId: string, log: SwitchLog, marker: SwitchMarker<R>): Promise<void> {
  await ensureSwitchLog(conn, schema, log);
  await q(conn, `INSERT INTO ${ident(schema)}.${ident(log.table)} (migration_id, phase, result, block_state, server_id, side, at) VALUES (?, ?, ?, ?, @@server_id, ?, NOW(6))`, [
    migrationId,
    marker.phase,
    marker.result ? JSON.stringify(marker.result) : null,
    marker.blockState === undefined || marker.blockState === null ? null : JSON.stringify(marker.blockState),
    log.side(migrationId),
  ]);
}

/** The store the switch (switch-primary.ts) keeps its markers in, for one direction. */
export function switchMarkerStore<R>(conn: Conn, schema: string, migrationId: string, log: SwitchLog): MarkerStore<R> {
  return {
    read: () => readSwitchMarker<R>(conn, schema, migrationId, log),
    write: (m) => writeSwitchMarker(conn, schema, migrationId, log, m),
    clear: () => writeSwitchMarker<R>(conn, schema, migrationId, log, { phase: 'rolled-back', result: null, blockState: null }),
  };
}

// The two directions, by name (read by the resume and cleanup steps).
export const readCutoverMarker = (target: Conn, schema: string, migrationId: string) => readSwitchMarker<CutoverResult>(target, schema, migrationId, CUTOVER_LOG);
export const writeCutoverMarker = (target: Conn, schema: string, migrationId: string, m: SwitchMarker<CutoverResult>) => writeSwitchMarker(target, schema, migrationId, CUTOVER_LOG, m);
export const readFallbackMarker = (source: Conn, schema: string, migrationId: string) => readSwitchMarker<FallbackResult>(source, schema, migrationId, FALLBACK_LOG);
export const writeFallbackMarker = (source: Conn, schema: string, migrationId: string, m: SwitchMarker<FallbackResult>) => writeSwitchMarker(source, schema, migrationId, FALLBACK_LOG, m);
export const ensureCutoverTable = (conn: Conn, schema: string) => ensureSwitchLog(conn, schema, CUTOVER_LOG);
