// The target side of replication (actions): configure the external source at given coordinates and
// start, stop, resume, forget. Idempotent: a replica already configured for the same source is
// started (or left running), never re-pointed to the original coordinates, which would apply
// events twice.
import { readCredentials } from '../secrets.js';
import type { BinlogPosition } from '../state.js';
import { q, type Conn } from './connection.js';
import type { Dialect } from './dialect.js';
import { readReplicaStatus } from './status.js';

export interface ReplicationSpec {
  host: string;
  port: number;
  userSecretRef: string;
  from: BinlogPosition;
  ssl: boolean;
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
  });
  await dialect.start(conn);
  return 'configured';
}

/** a < b in binlog order (file numbers compared as numbers). */
export function isBefore(a: BinlogPosition, b: BinlogPosition): boolean {
  const n = (f: string) => Number(f.slice(f.lastIndexOf('.') + 1));
  if (a.file !== b.file) return n(a.file) < n(b.file);
  return a.position < b.position;
}

/** Keeps applications off a replica (replication threads and admins are not affected). */
export async function setReadOnly(conn: Conn, dialect: Dialect, on: boolean): Promise<boolean> {
  if (!dialect.canSetReadOnly) return false;
  await q(conn, `SET GLOBAL read_only = ${on ? 'ON' : 'OFF'}`);
  return true;
}
