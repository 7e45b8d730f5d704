// Creates the copied schemas' objects on the target. Tables come first (foreign key checks are off in
// the load session, so their order does not matter); triggers come only after the data, or the load
// itself would fire them; events are created DISABLE ON SLAVE, exactly as replication would create
// them on a replica, so the target does not run them twice while the source is still live (the
// cutover enables them: see the report).
import { type Conn, q, TARGET_SQL_MODE } from './connections.js';
import type { SchemaObjects } from './inspect.js';

/** DEFINER=`user`@`host` names a user that may not exist on the target: the loading user becomes the definer. */
function withoutDefiner(sql: string): string {
  return sql.replace(/\sDEFINER\s*=\s*(`(?:[^`]|``)*`|'(?:[^']|'')*'|[\w.%-]+)@(`(?:[^`]|``)*`|'(?:[^']|'')*'|[\w.%-]+)/i, '');
}

/** An ENABLEd event becomes DISABLE ON SLAVE (MariaDB, and MySQL before 8.0.22 and after as an alias). */
function asReplicaEvent(sql: string): string {
  return sql.replace(/\bON\s+COMPLETION\s+(NOT\s+)?PRESERVE\s+ENABLE\b/i, (m) => m.replace(/ENABLE$/i, 'DISABLE ON SLAVE'));
}

async function inSchema(conn: Conn, schema: string, sql: string, sqlMode?: string): Promise<void> {
  await conn.query(`USE ${q(schema)}`);
  if (sqlMode !== undefined) await conn.query('SET SESSION sql_mode = ?', [sqlMode]);
  try {
    await conn.query(sql);
  } finally {
    if (sqlMode !== undefined) await conn.query(`SET SESSION sql_mode = '${TARGET_SQL_MODE}'`);
  }
}

/** Secondary keys left out of a table's CREATE, added once its rows are loaded. */
export interface DeferredKeys {
  schema: string;
  table: string;
  /** Key definitions as SHOW CREATE TABLE prints them, e.g. "KEY `k` (`c`)". */
  keys: string[];
}

const DEFINITION = /^\s+(`|PRIMARY KEY |UNIQUE KEY |KEY |FULLTEXT KEY |SPATIAL KEY |CONSTRAINT |CHECK |PERIOD |INDEX )/;

/**
 * As myloader does: plain (non-unique) secondary keys are built once after the load, by sorting,
 * instead of row by row while the rows arrive (measured with the load bench). Only where it is plainly
 * safe: SHOW CREATE TABLE prints one definition per line, the table has no foreign key and no table of
 * the schema references it (a foreign key may rely on any of its keys).
 */
function splitSecondaryKeys(create: string, referenced: boolean): { create: string; keys: string[] } {
  const lines = create.split('\n');
  const body = lines.slice(1, -1);
  const last = lines[lines.length - 1] ?? '';
  if (referenced || lines.length < 3 || !last.startsWith(')') || !body.every((l) => DEFINITION.test(l)) || /\bFOREIGN KEY\b/.test(create)) {
    return { create, keys: [] };
  }
  const definitions = body.map((l) => l.replace(/,$/, ''));
  const keys = definitions.filter((d) => /^\s+KEY /.test(d));
  if (!keys.length || keys.length === definitions.length) return { create, keys: [] };
  const kept = definitions.filter((d) => !/^\s+KEY /.test(d));
  return { create: [lines[0], kept.join(',\n'), last].join('\n'), keys: keys.map((k) => k.trim()) };
}

/** Creates the tables; returns the keys left out to be added after the load (addDeferredKeys). */
export async function createTables(conn: Conn, objects: SchemaObjects): Promise<DeferredKeys[]> {
  await conn.query(objects.createDatabase);
  const deferred: DeferredKeys[] = [];
  for (const t of objects.tables) {
    const referenced = objects.tables.some((o) => o.create.includes(`REFERENCES ${q(t.name)}`) || o.create.includes(`REFERENCES ${q(objects.schema)}.${q(t.name)}`));
    const split = splitSecondaryKeys(t.create, referenced);
    await inSchema(conn, objects.schema, split.create);
    if (split.keys.length) deferred.push({ schema: objects.schema, table: t.name, keys: split.keys });
  }
  return deferred;
}

export async function addDeferredKeys(conn: Conn, d: DeferredKeys): Promise<void> {
  await conn.query(`ALTER TABLE ${q(d.schema)}.${q(d.table)} ${d.keys.map((k) => `ADD ${k}`).join(', ')}`);
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
