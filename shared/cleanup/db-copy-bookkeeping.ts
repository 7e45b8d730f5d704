// Cleanup, database half: the logical copy's bookkeeping schema crossmove_load (the copy's marker,
// and the cursors of the chunked copy and of the chunked comparison). It lives on the target; it is
// looked for on the source too, where reverse replication may have carried it. Once the migration is
// done nothing reads it, so the whole schema goes, unless its marker shows another migration still
// using it (two migrations into one server): then only this migration's marker row is removed.
import { logStep } from '../logger.js';
import type { CleanupItem } from '../state.js';
import { ident, q, type Conn } from '../mysql/connection.js';
import { MARKER_SCHEMA } from '../initial-load/inspect.js';
import { item } from './types.js';

const MARKER_TABLE = 'copies';

export async function dropCopyBookkeeping(conn: Conn, migrationId: string, side: 'source' | 'target'): Promise<CleanupItem> {
  const id = `schema ${MARKER_SCHEMA} on the ${side}`;
  const tables = (await q<{ t: string }>(conn, 'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME', [MARKER_SCHEMA])).map((r) => r.t);
  const [schema] = await q<{ n: number }>(conn, 'SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [MARKER_SCHEMA]);
  if (!Number(schema?.n)) return item('copy-bookkeeping', id, null, 'gone');

  const others = tables.includes(MARKER_TABLE)
    ? (await q<{ m: string }>(conn, `SELECT migration_id AS m FROM ${ident(MARKER_SCHEMA)}.${ident(MARKER_TABLE)} WHERE migration_id <> ? ORDER BY migration_id`, [migrationId])).map((r) => r.m)
    : [];
  if (others.length) {
    const [mine] = await q<{ n: number }>(conn, `SELECT COUNT(*) AS n FROM ${ident(MARKER_SCHEMA)}.${ident(MARKER_TABLE)} WHERE migration_id = ?`, [migrationId]);
    const kept = `schema ${MARKER_SCHEMA} kept: migration(s) ${others.join(', ')} still use it`;
    if (!Number(mine?.n)) return item('copy-bookkeeping', id, null, 'gone', kept);
    logStep("remove this migration's copy marker", { schema: MARKER_SCHEMA, side, others });
    await q(conn, `DELETE FROM ${ident(MARKER_SCHEMA)}.${ident(MARKER_TABLE)} WHERE migration_id = ?`, [migrationId]);
    return item('copy-bookkeeping', id, null, 'removed', `marker row of ${migrationId}; ${kept}`);
  }
  logStep("drop the copy's bookkeeping schema", { schema: MARKER_SCHEMA, side, tables });
  await q(conn, `DROP DATABASE IF EXISTS ${ident(MARKER_SCHEMA)}`);
  return item('copy-bookkeeping', id, null, 'removed', tables.length ? `tables ${tables.join(', ')} and the schema` : 'the empty schema');
}
