// Events of a logical copy: the copy creates them DISABLE ON SLAVE (ddl.ts) so the target does not run
// them while the source still does. Once the target is the primary, the ones enabled on the source are
// enabled on the target (MariaDB says SLAVESIDE_DISABLED, MySQL 8.0.22+ REPLICA_SIDE_DISABLED).
import { ident, q, type Conn } from './connection.js';

const SYSTEM_SCHEMAS = ['mysql', 'information_schema', 'performance_schema', 'sys'];

interface EventRow {
  s: string;
  n: string;
  st: string;
}

async function events(conn: Conn, schemas: string[]): Promise<EventRow[]> {
  const filter = schemas.length ? 'EVENT_SCHEMA IN (?)' : 'EVENT_SCHEMA NOT IN (?)';
  return q<EventRow>(conn, `SELECT EVENT_SCHEMA AS s, EVENT_NAME AS n, STATUS AS st FROM information_schema.EVENTS WHERE ${filter}`, [
    schemas.length ? schemas : SYSTEM_SCHEMAS,
  ]);
}

/** Enables on the target the replica-side-disabled events that are enabled on the source; returns them. */
export async function enableCopiedEvents(source: Conn, target: Conn, schemas: string[]): Promise<string[]> {
  const enabledOnSource = new Set((await events(source, schemas)).filter((e) => e.st === 'ENABLED').map((e) => `${e.s}.${e.n}`));
  const done: string[] = [];
  for (const e of await events(target, schemas)) {
    if (!/SIDE_DISABLED$/i.test(e.st) || !enabledOnSource.has(`${e.s}.${e.n}`)) continue;
    await q(target, `ALTER EVENT ${ident(e.s)}.${ident(e.n)} ENABLE`);
    done.push(`${e.s}.${e.n}`);
  }
  return done;
}
