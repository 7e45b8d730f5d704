// Creates the copied schemas' objects on the target. Tables come first (foreign key checks are off in
// the load session, so their order does not matter); triggers come only after the data, or the load
// itself would fire them; events are created DISABLE ON SLAVE, exactly as replication would create
// them on a replica, so the target does not run them twice while the source is still live (the
// cutover enables them: see the report).
import { type Conn, q } from './connections.js';
import type { SchemaObjects } from './inspect.js';

/** DEFINER=`user`@`host` names a user that may not exist on the target: the loading user becomes the definer. */
export function withoutDefiner(sql: string): string {
  return sql.replace(/\sDEFINER\s*=\s*(`(?:[^`]|``)*`|'(?:[^']|'')*'|[\w.%-]+)@(`(?:[^`]|``)*`|'(?:[^']|'')*'|[\w.%-]+)/i, '');
}

/** An ENABLEd event becomes DISABLE ON SLAVE (MariaDB, and MySQL before 8.0.22 and after as an alias). */
export function asReplicaEvent(sql: string): string {
  return sql.replace(/\bON\s+COMPLETION\s+(NOT\s+)?PRESERVE\s+ENABLE\b/i, (m) => m.replace(/ENABLE$/i, 'DISABLE ON SLAVE'));
}

async function inSchema(conn: Conn, schema: string, sql: string, sqlMode?: string): Promise<void> {
  await conn.query(`USE ${q(schema)}`);
  if (sqlMode !== undefined) await conn.query('SET SESSION sql_mode = ?', [sqlMode]);
  try {
    await conn.query(sql);
  } finally {
    if (sqlMode !== undefined) await conn.query("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'");
  }
}

export async function createTables(conn: Conn, objects: SchemaObjects): Promise<void> {
  await conn.query(objects.createDatabase);
  for (const t of objects.tables) await inSchema(conn, objects.schema, t.create);
}

/** Views may select from other views: create what can be created, repeat until nothing is left. */
export async function createViews(conn: Conn, objects: SchemaObjects): Promise<void> {
  let pending = [...objects.views];
  while (pending.length) {
    const failed: typeof pending = [];
    let lastError: unknown;
    for (const v of pending) {
      try {
        await inSchema(conn, objects.schema, withoutDefiner(v.create));
      } catch (err) {
        failed.push(v);
        lastError = err;
      }
    }
    if (failed.length === pending.length) {
      throw new Error(`cannot create view(s) ${failed.map((v) => `${objects.schema}.${v.name}`).join(', ')}: ${(lastError as Error).message}`);
    }
    pending = failed;
  }
}

export async function createRoutines(conn: Conn, objects: SchemaObjects): Promise<void> {
  for (const r of objects.routines) await inSchema(conn, objects.schema, withoutDefiner(r.create), r.sqlMode);
}

export async function createTriggersAndEvents(conn: Conn, objects: SchemaObjects): Promise<void> {
  for (const t of objects.triggers) await inSchema(conn, objects.schema, withoutDefiner(t.create), t.sqlMode);
  for (const e of objects.events) await inSchema(conn, objects.schema, asReplicaEvent(withoutDefiner(e.create)), e.sqlMode);
}
