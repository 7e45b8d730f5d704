// Which frozen source this migration's copy uses, kept on the TARGET beside the cursor store
// (crossmove_load.frozen_sources), so that a re-run finds the replica crossmove paused (and resumes it
// when the copy is done, or cleanup does) and its position, whatever the previous run's payload held.
import { q, type Conn } from '../../mysql/connection.js';
import { STORE_SCHEMA } from '../../chunks/cursor-store.js';
import type { BinlogPosition, FrozenSourceKind } from '../../state.js';

const TABLE = `\`${STORE_SCHEMA}\`.frozen_sources`;

export interface FrozenRecord {
  kind: FrozenSourceKind;
  host: string;
  port: number;
  position: BinlogPosition | null;
  pausedByCrossmove: boolean;
  pausedAt: string | null;
  resumedAt: string | null;
}

async function ensure(conn: Conn): Promise<void> {
  await q(conn, `CREATE DATABASE IF NOT EXISTS \`${STORE_SCHEMA}\``);
  await q(
    conn,
    `CREATE TABLE IF NOT EXISTS ${TABLE} (migration_id VARCHAR(64) NOT NULL PRIMARY KEY, kind VARCHAR(16) NOT NULL,
       host VARCHAR(255) NOT NULL, port INT NOT NULL, position_file VARCHAR(255) NULL, position_pos BIGINT NULL,
       paused_by_crossmove TINYINT NOT NULL DEFAULT 0, paused_at DATETIME(3) NULL, resumed_at DATETIME(3) NULL) ENGINE=InnoDB`,
  );
}

export async function readFrozenRecord(conn: Conn, migrationId: string): Promise<FrozenRecord | null> {
  const exists = await q(conn, 'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [STORE_SCHEMA, 'frozen_sources']);
  if (!exists.length) return null;
  const [r] = await q<Record<string, unknown>>(
    conn,
    `SELECT kind, host, port, position_file, position_pos, paused_by_crossmove, CAST(paused_at AS CHAR) AS paused_at, CAST(resumed_at AS CHAR) AS resumed_at FROM ${TABLE} WHERE migration_id = ?`,
    [migrationId],
  );
  if (!r) return null;
  return {
    kind: r.kind as FrozenSourceKind,
    host: String(r.host),
    port: Number(r.port),
    position: r.position_file ? { file: String(r.position_file), position: Number(r.position_pos) } : null,
    pausedByCrossmove: Number(r.paused_by_crossmove) === 1,
    pausedAt: (r.paused_at as string | null) ?? null,
    resumedAt: (r.resumed_at as string | null) ?? null,
  };
}

export async function writeFrozenRecord(conn: Conn, migrationId: string, r: Omit<FrozenRecord, 'pausedAt' | 'resumedAt'>): Promise<void> {
  await ensure(conn);
  await q(
    conn,
    `REPLACE INTO ${TABLE} (migration_id, kind, host, port, position_file, position_pos, paused_by_crossmove, paused_at, resumed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, IF(? = 1, NOW(3), NULL), NULL)`,
    [migrationId, r.kind, r.host, r.port, r.position?.file ?? null, r.position?.position ?? null, r.pausedByCrossmove ? 1 : 0, r.pausedByCrossmove ? 1 : 0],
  );
}

export async function markFrozenResumed(conn: Conn, migrationId: string): Promise<void> {
  await q(conn, `UPDATE ${TABLE} SET resumed_at = NOW(3) WHERE migration_id = ?`, [migrationId]);
}
