// Rows on the SOURCE that record how far this migration's fallback got (the mirror of
// cutover-marker.ts, which writes on the target): a second invocation returns the first one's result,
// and an invocation after a crash undoes (before the point of no return) or finishes (after it) what
// the dead one started. A table of its own, written only on the source: the source replicates from
// the target until the switch, and rows the target never writes can never collide with replicated ones.
import type { FallbackResult } from '../state.js';
import { ident, q, type Conn } from './connection.js';

export const FALLBACK_TABLE = 'fallback_log';

export type FallbackPhase = 'in-progress' | 'past-point-of-no-return' | 'done' | 'rolled-back';

export interface FallbackMarker {
  phase: FallbackPhase;
  result: FallbackResult | null;
  /** What the target's write blocker needs to undo its block. */
  blockState: unknown;
}

async function ensureTable(conn: Conn, schema: string): Promise<void> {
  await q(conn, `CREATE DATABASE IF NOT EXISTS ${ident(schema)}`);
  await q(
    conn,
    `CREATE TABLE IF NOT EXISTS ${ident(schema)}.${FALLBACK_TABLE} (
       seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, migration_id VARCHAR(64) NOT NULL, phase VARCHAR(32) NOT NULL,
       result TEXT NULL, block_state TEXT NULL, at DATETIME(6) NOT NULL, KEY (migration_id, seq)) ENGINE=InnoDB`,
  );
}

export async function readFallbackMarker(source: Conn, schema: string, migrationId: string): Promise<FallbackMarker | null> {
  try {
    const [row] = await q<{ phase: FallbackPhase; result: string | null; block_state: string | null; age_ms: number | string | null }>(
      source,
      `SELECT phase, result, block_state, TIMESTAMPDIFF(MICROSECOND, at, NOW(6)) / 1000 AS age_ms FROM ${ident(schema)}.${FALLBACK_TABLE} WHERE migration_id = ? ORDER BY seq DESC LIMIT 1`,
      [migrationId],
    );
    if (!row) return null;
    return {
      phase: row.phase,
      result: row.result ? (JSON.parse(row.result) as FallbackResult) : null,
      blockState: row.block_state ? JSON.parse(row.block_state) : null,
      ...(row.age_ms === null ? {} : { ageMs: Number(row.age_ms) }),
    };
  } catch (err) {
    if (/1146|1049|doesn't exist|Unknown database/.test((err as Error).message)) return null;
    throw err;
  }
}

export async function writeFallbackMarker(source: Conn, schema: string, migrationId: string, marker: FallbackMarker): Promise<void> {
  await ensureTable(source, schema);
  await q(source, `INSERT INTO ${ident(schema)}.${FALLBACK_TABLE} (migration_id, phase, result, block_state, at) VALUES (?, ?, ?, ?, NOW(6))`, [
    migrationId,
    marker.phase,
    marker.result ? JSON.stringify(marker.result) : null,
    marker.blockState === undefined || marker.blockState === null ? null : JSON.stringify(marker.blockState),
  ]);
}
