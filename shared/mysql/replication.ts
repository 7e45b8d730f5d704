// The target side of replication (actions): configure the external source at given coordinates and
// start, stop, resume, forget. Idempotent: a replica already configured for the same source is
// started (or left running), never re-pointed to the original coordinates, which would apply
// events twice.
import { readCredentials } from '../secrets.js';
import type { BinlogPosition } from '../state.js';
import type { Conn } from './connection.js';
import type { Dialect } from './dialect.js';
import { readReplicaStatus } from './status.js';

export interface ReplicationSpec {
  host: string;
  port: number;
  userSecretRef: string;
  from: BinlogPosition;
  ssl: boolean;
  /** Aurora MySQL 3: client material imported on the replica (ssl_encryption=1 instead of rds_set_binlog_source_ssl). */
  sslMaterialImported?: boolean;
}

export type StartOutcome = 'configured' | 'resumed' | 'already-running';

export async function configureAndStart(conn: Conn, dialect: Dialect, spec: ReplicationSpec): Promise<StartOutcome> {
  const status = await readReplicaStatus(conn, dialect);
  const sameSource = status && status.sourceHost === spec.host && status.sourcePort === spec.port;
  // Resumed only when the replica already executed from these coordinates on; a replica behind them
  // (a newer initial load) or stuck on a purged binlog (error 1236) is configured afresh.
  const resumable = sameSource && status.execFile && status.lastIoErrno !== 1236 && !isBefore({ file: status.execFile, position: status.execPosition ?? 0 }, spec.from);
  if (resumable) {
    if (status.sqlRunning && status.ioState !== 'No') return 'already-running';
    await dialect.start(conn);
    return 'resumed';
  }
  if (status && (status.sqlRunning || status.ioRunning)) await dialect.stop(conn);
  const creds = await readCredentials(spec.userSecretRef);
  await dialect.configureSource(conn, {
    host: spec.host,
    port: spec.port,
    user: creds.username,
    password: creds.password,
    file: spec.from.file,
    position: spec.from.position,
    ssl: spec.ssl,
    sslMaterialImported: spec.sslMaterialImported,
  });
  await dialect.start(conn);
  return 'configured';
}

/** a < b in binlog order (file numbers compared as numbers). */
function isBefore(a: BinlogPosition, b: BinlogPosition): boolean {
  const n = (f: string) => Number(f.slice(f.lastIndexOf('.') + 1));
  if (a.file !== b.file) return n(a.file) < n(b.file);
  return a.position < b.position;
}

/**
 * Keeps applications off a replica, or lets them write again (replication threads and admins are not
 * affected): SET GLOBAL read_only, or mysql.rds_set_read_only on Aurora MySQL 3.06+. False when the
 * server has no way to do it (Aurora MySQL 2, older 3.x, RDS for MySQL): nothing changed.
 */
export async function setReadOnly(conn: Conn, dialect: Dialect, on: boolean): Promise<boolean> {
  return dialect.setReadOnly(conn, on);
}
