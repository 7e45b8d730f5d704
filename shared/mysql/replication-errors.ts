// Turns the last IO/SQL error of a replica into a typed error with a message that says what broke and
// what to do. Returns null when replication is fine or only reconnecting (a source restart).
import { BinlogPurgedError, ReplicationAuthError, ReplicationBrokenError, ReplicationConflictError } from '../errors.js';
import { redact } from '../redact.js';
import type { ReplicaStatus } from './status.js';

export interface ErrorContext {
  /** Retention configured on the source (input.replication.binlogRetentionHours). */
  binlogRetentionHours: number;
  replicationUser?: string;
}

/** IO errors that end on their own when the source is back (restart, network blip). */
const RECONNECT_ERRNOS = new Set([2003, 2013, 2006, 1053, 2002, 1158, 1159, 1160, 1161]);

export function replicationError(status: ReplicaStatus, ctx: ErrorContext): ReplicationBrokenError | null {
  const ioMsg = redact(status.lastIoError);
  const sqlMsg = redact(status.lastSqlError);
  if (status.lastIoErrno === 1236 || /error 1236/i.test(ioMsg)) {
    const file = status.readFile ?? '(unknown file)';
    return new BinlogPurgedError(
      `The source no longer has binlog ${file} at position ${status.readPosition ?? '?'} that the target needs (IO error 1236: ${ioMsg}). ` +
        `It was purged before the target read it: set replication.binlogRetentionHours higher than the time between the initial load and the start of replication ` +
        `(now ${ctx.binlogRetentionHours} h, at most 2160), then start the migration again from a new initial load.`,
    );
  }
  if (status.lastIoErrno === 2061 || /requires secure connection/i.test(ioMsg)) {
    const user = status.sourceUser ?? ctx.replicationUser ?? '(unknown user)';
    return new ReplicationAuthError(
      `The target cannot log in to the source ${status.sourceHost ?? ''}:${status.sourcePort ?? ''} as replication user '${user}': it authenticates with caching_sha2_password, which over a plain connection needs the source's RSA public key, and this replica cannot ask for it (IO error 2061: ${ioMsg}). ` +
        `Set replication.ssl to true (the default), or enable mysql_native_password on the source and run "Create the replication user" again (crossmove then uses it).`,
    );
  }
  if (status.lastIoErrno === 1045 || /access denied/i.test(ioMsg)) {
    const user = status.sourceUser ?? ctx.replicationUser ?? '(unknown user)';
    return new ReplicationAuthError(
      `The target cannot log in to the source ${status.sourceHost ?? ''}:${status.sourcePort ?? ''} as replication user '${user}' (IO error ${status.lastIoErrno}: ${ioMsg}). ` +
        `Run "Create the replication user" again (it resets the password in its secret), check that the user exists on the source and, with replication.ssl, that the target connects with TLS.`,
    );
  }
  if (!status.sqlRunning && status.lastSqlErrno) {
    const table = /on table ([^\s;]+)/i.exec(sqlMsg)?.[1] ?? '(unknown table)';
    const event = /execute (\w+?)(?:_v\d)? event/i.exec(sqlMsg)?.[1] ?? 'event';
    const at = /end_log_pos (\d+)/i.exec(sqlMsg)?.[1];
    const where = `${status.execFile ?? '?'}${at ? ` end_log_pos ${at}` : ` position ${status.execPosition ?? '?'}`}`;
    if (status.lastSqlErrno === 1062 || status.lastSqlErrno === 1032) {
      const what = status.lastSqlErrno === 1062 ? 'a row that already exists on the target (duplicate key)' : 'a row that does not exist on the target';
      return new ReplicationConflictError(
        `Replication stopped applying ${event} on table ${table}: it touches ${what}, error ${status.lastSqlErrno}, source binlog ${where}. ` +
          `Something wrote to the target outside replication; the target no longer matches the source. Find who writes to ${table} on the target, ` +
          `then redo the initial load (safe) or fix the row and restart replication. (${sqlMsg})`,
      );
    }
    return new ReplicationBrokenError(
      `Replication SQL thread stopped with error ${status.lastSqlErrno} at source binlog ${where}: ${sqlMsg}. Fix the cause on the target, then start replication again.`,
    );
  }
  if (status.ioState === 'No' && status.lastIoErrno && !RECONNECT_ERRNOS.has(status.lastIoErrno)) {
    return new ReplicationBrokenError(
      `Replication IO thread stopped with error ${status.lastIoErrno}: ${ioMsg}. Check the source, the network and the replication user, then start replication again.`,
    );
  }
  return null;
}

/** The IO thread is retrying a lost connection (e.g. the source restarted): not healthy, not an error. */
export function isReconnecting(status: ReplicaStatus): boolean {
  // MariaDB 10.11 shows 'Preparing' for a moment after START SLAVE, before 'Connecting'/'Yes'.
  return status.sqlRunning && (status.ioState === 'Connecting' || status.ioState === 'Preparing');
}
