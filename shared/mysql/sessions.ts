// Application sessions on the old primary, and killing them at cutover (on the source) and at fallback
// (on the target). Spared: crossmove's own connection ids (not its whole admin user: an admin session
// bypasses read_only and would keep writing), replication by its command (the binlog dump thread of the
// replica, e.g. the source's reverse replication IO thread on the target), system threads and the
// configured keepUsers. Long transactions are ended before the block (switch-primary.ts), so that
// their rollback does not keep writes blocked.
import { logger } from '../logger.js';
import { redact } from '../redact.js';
import { errnoOf, q, type Conn } from './connection.js';
import type { Dialect } from './dialect.js';

const SYSTEM_USERS = ['system user', 'event_scheduler', 'rdsadmin', 'unauthenticated user', 'mariadb.sys', 'mysql.session'];
const KEEP_COMMANDS = ['Binlog Dump', 'Binlog Dump GTID', 'Daemon', 'Slave_IO', 'Slave_SQL', 'Slave_worker'];

export interface Session {
  id: number;
  user: string;
}

async function appSessions(conn: Conn, keepUsers: string[], spareIds: number[] = []): Promise<Session[]> {
  return sessionsWhere(conn, keepUsers, spareIds, 'TRUE', []);
}

/** A long transaction: open or running a statement for this long, or with this many rows changed. */
export const LONG_TRANSACTION = { seconds: 1, rowsModified: 10_000 };

/**
 * Application sessions whose transaction is long: killing them at the block would keep writes blocked
 * while they roll back (about as long as they took), and a statement that runs holds a read_only block
 * up until it ends.
 */
async function longTransactionSessions(conn: Conn, keepUsers: string[], spareIds: number[] = []): Promise<Session[]> {
  return sessionsWhere(
    conn,
    keepUsers,
    spareIds,
    `((p.COMMAND = 'Query' AND p.TIME >= ?) OR p.ID IN (SELECT trx_mysql_thread_id FROM information_schema.INNODB_TRX
       WHERE trx_started <= NOW() - INTERVAL ? SECOND OR trx_rows_modified >= ?))`,
    // trx_started has whole seconds: one more keeps a transaction a few ms old out.
    [LONG_TRANSACTION.seconds, LONG_TRANSACTION.seconds + 1, LONG_TRANSACTION.rowsModified],
  );
}

async function sessionsWhere(conn: Conn, keepUsers: string[], spareIds: number[], condition: string, params: unknown[]): Promise<Session[]> {
  const keep = [...SYSTEM_USERS, ...keepUsers];
  const rows = await q<{ id: number; user: string }>(
    conn,
    `SELECT p.ID AS id, p.USER AS user FROM information_schema.PROCESSLIST p
      WHERE p.ID <> CONNECTION_ID() AND p.ID NOT IN (?) AND p.USER NOT IN (?) AND COALESCE(p.COMMAND, '') NOT IN (?) AND ${condition}`,
    [spareIds.length ? spareIds : [-1], keep, KEEP_COMMANDS, ...params],
  );
  return rows.map((r) => ({ id: Number(r.id), user: String(r.user) }));
}

/** States of a statement queued behind a global read lock (MariaDB's backup lock, MySQL's read lock). */
const QUEUED_BEHIND_BLOCK = ['Waiting for backup lock', 'Waiting for global read lock', 'Waiting for commit lock'];

/**
 * Kills, without waiting, the application sessions running a statement that is not queued behind the
 * block: the ones a read_only block waits for (a statement queued behind it holds nothing it needs).
 */
export async function killRunningStatements(conn: Conn, dialect: Dialect, keepUsers: string[], spareIds: number[] = []): Promise<Session[]> {
  return kill(conn, dialect, await sessionsWhere(conn, keepUsers, spareIds, "p.COMMAND = 'Query' AND COALESCE(p.STATE, '') NOT IN (?)", [QUEUED_BEHIND_BLOCK]));
}

/** Kills every application session without waiting for them to end; returns the sessions killed. */
export async function killAppSessionsNow(conn: Conn, dialect: Dialect, keepUsers: string[], spareIds: number[] = []): Promise<Session[]> {
  return kill(conn, dialect, await appSessions(conn, keepUsers, spareIds));
}

async function kill(conn: Conn, dialect: Dialect, sessions: Session[]): Promise<Session[]> {
  if (!sessions.length) return sessions;
  if (dialect.killMany) {
    try {
      await dialect.killMany(conn, sessions.map((s) => s.id));
      return sessions;
    } catch (err) {
      // One by one instead, each error with the session it concerns.
      logger.warn('killing the sessions in one statement failed; killing them one by one', { error: redact((err as Error).message) });
    }
  }
  await Promise.all(
    sessions.map(async (s) => {
      try {
        await dialect.kill(conn, s.id);
      } catch (err) {
        if (errnoOf((err as Error).cause) !== 1094 && !/unknown thread/i.test((err as Error).message)) throw err;
      }
    }),
  );
  return sessions;
}

export interface KillOptions {
  /** Connection ids that are crossmove's own (besides the one doing the killing). */
  spareIds?: number[];
  /** Epoch ms by which the killed sessions must be gone. */
  deadline: number;
  pollMs?: number;
}

export type KillOutcome = { killed: number; gone: true } | { killed: number; gone: false; remaining: Session[] };

/**
 * Kills every application session and waits until they are gone: KILL only flags a thread, which may
 * still commit its current statement (and write the binlog) before it notices.
 */
export async function killAppSessions(conn: Conn, dialect: Dialect, keepUsers: string[], opts: KillOptions): Promise<KillOutcome> {
  return awaitEnd(conn, await killAppSessionsNow(conn, dialect, keepUsers, opts.spareIds), opts);
}

/** Kills the application's long transactions (longTransactionSessions) and waits until they are gone. */
export async function killLongTransactions(conn: Conn, dialect: Dialect, keepUsers: string[], opts: KillOptions): Promise<KillOutcome> {
  return awaitEnd(conn, await kill(conn, dialect, await longTransactionSessions(conn, keepUsers, opts.spareIds)), opts);
}

async function awaitEnd(conn: Conn, sessions: Session[], opts: KillOptions): Promise<KillOutcome> {
  const ids = sessions.map((s) => s.id);
  for (;;) {
    if (!ids.length) return { killed: 0, gone: true };
    const left = await q<{ id: number; user: string }>(conn, 'SELECT ID AS id, USER AS user FROM information_schema.PROCESSLIST WHERE ID IN (?)', [ids]);
    if (!left.length) return { killed: ids.length, gone: true };
    if (Date.now() >= opts.deadline) return { killed: ids.length, gone: false, remaining: left.map((r) => ({ id: Number(r.id), user: String(r.user) })) };
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 5));
  }
}
