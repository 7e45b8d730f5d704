// Application sessions on the source, and killing them at cutover. Never killed: this connection,
// crossmove's admin user (its own sessions), replication (binlog dump threads, the replication users),
// system threads and cutover.writeBlock.keepUsers.
import { errnoOf, q, type Conn } from './connection.js';
import type { Dialect } from './dialect.js';

const SYSTEM_USERS = ['system user', 'event_scheduler', 'rdsadmin', 'unauthenticated user', 'mariadb.sys', 'mysql.session'];
const KEEP_COMMANDS = ['Binlog Dump', 'Binlog Dump GTID', 'Daemon', 'Slave_IO', 'Slave_SQL', 'Slave_worker'];

export interface Session {
  id: number;
  user: string;
}

export async function appSessions(conn: Conn, keepUsers: string[]): Promise<Session[]> {
  const keep = [...SYSTEM_USERS, ...keepUsers];
  const rows = await q<{ id: number; user: string }>(
    conn,
    `SELECT ID AS id, USER AS user FROM information_schema.PROCESSLIST
      WHERE ID <> CONNECTION_ID() AND USER NOT IN (?) AND USER <> SUBSTRING_INDEX(CURRENT_USER(), '@', 1)
        AND COALESCE(COMMAND, '') NOT IN (?)`,
    [keep, KEEP_COMMANDS],
  );
  return rows.map((r) => ({ id: Number(r.id), user: String(r.user) }));
}

/** Kills every application session; returns how many. Sessions gone meanwhile are not an error. */
export async function killAppSessions(conn: Conn, dialect: Dialect, keepUsers: string[]): Promise<number> {
  const sessions = await appSessions(conn, keepUsers);
  await Promise.all(
    sessions.map(async (s) => {
      try {
        await dialect.kill(conn, s.id);
      } catch (err) {
        if (errnoOf((err as Error).cause) !== 1094 && !/unknown thread/i.test((err as Error).message)) throw err;
      }
    }),
  );
  return sessions.length;
}
