// Cleanup, database half: crossmove's own tables (heartbeat, cutover_log, fallback_log) on one side,
// and their schema when nothing else lives in it (the schema name is fixed, a user may have put
// tables of their own there).
import { logStep } from '../logger.js';
import type { CleanupItem } from '../state.js';
import { ident, q, type Conn } from '../mysql/connection.js';
import { HEARTBEAT_TABLE } from '../mysql/heartbeat.js';
import { FALLBACK_TABLE } from '../mysql/switch-log.js';
import { item } from './types.js';

const CROSSMOVE_TABLES = [HEARTBEAT_TABLE, 'cutover_log', FALLBACK_TABLE];

/**
 * `keep`: crossmove tables left in place on purpose, with why (the source's fallback_log after a
 * fallback: it is what tells a later cleanup that the source is the primary again).
 */
export async function dropCrossmoveObjects(conn: Conn, schema: string, side: 'source' | 'target', keep: { tables: string[]; why: string } = { tables: [], why: '' }): Promise<CleanupItem> {
  const id = `${schema} (${CROSSMOVE_TABLES.join(', ')}) on the ${side}`;
  const [exists] = await q<{ n: number }>(conn, 'SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [schema]);
  if (!Number(exists?.n)) return item('heartbeat-objects', id, null, 'gone');
  const present = (await q<{ t: string }>(conn, 'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?)', [schema, CROSSMOVE_TABLES])).map((r) => r.t);
  const ours = present.filter((t) => !keep.tables.includes(t));
  const kept = present.filter((t) => keep.tables.includes(t));
  if (ours.length) {
    logStep("drop crossmove's tables", { schema, tables: ours, side });
    await q(conn, `DROP TABLE IF EXISTS ${ours.map((t) => `${ident(schema)}.${ident(t)}`).join(', ')}`);
  }
  const [left] = await q<{ n: number }>(conn, 'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [schema]);
  if (Number(left?.n)) {
    const others = Number(left!.n) - kept.length;
    const why = [
      ...(ours.length ? [`dropped ${ours.join(', ')}`] : []),
      ...(kept.length ? [`${kept.join(', ')} kept: ${keep.why}`] : []),
      ...(others > 0 ? [`schema ${schema} kept: it holds ${others} other table(s)`] : [`schema ${schema} kept for it`]),
    ];
    return item('heartbeat-objects', id, null, ours.length ? 'removed' : kept.length ? 'kept' : 'gone', why.join('; '));
  }
  logStep("drop crossmove's schema", { schema, side });
  await q(conn, `DROP DATABASE IF EXISTS ${ident(schema)}`);
  return item('heartbeat-objects', id, null, 'removed', ours.length ? `tables ${ours.join(', ')} and schema ${schema}` : `empty schema ${schema}`);
}
