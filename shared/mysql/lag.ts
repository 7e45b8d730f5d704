// The three lag figures (inspection only, apart from the one heartbeat row it writes on the source).
import type { LagFigures } from '../state.js';
import type { Conn } from './connection.js';
import { binlogStatus } from './dialect.js';
import { activeHeartbeatLagMs, passiveHeartbeatLagMs } from './heartbeat.js';
import type { ReplicaStatus } from './status.js';

/** Bytes between the source's binlog end and what the target executed; null across files. */
export function byteDistance(source: { file: string; position: number } | null, status: ReplicaStatus): number | null {
  if (!source || status.execFile !== source.file || status.execPosition === null) return null;
  return Math.max(0, source.position - status.execPosition);
}

export interface LagOptions {
  heartbeatSchema: string;
  /** Active: write a beat and wait for it at most this long. Passive (a background writer runs): omit. */
  activeWaitMs?: number;
}

export async function measureLag(source: Conn, target: Conn, status: ReplicaStatus, opts: LagOptions): Promise<LagFigures> {
  const heartbeatLagMs =
    opts.activeWaitMs === undefined
      ? await passiveHeartbeatLagMs(source, target, opts.heartbeatSchema)
      : await activeHeartbeatLagMs(source, target, opts.heartbeatSchema, opts.activeWaitMs);
  return {
    heartbeatLagMs: heartbeatLagMs === null ? null : Math.round(heartbeatLagMs * 10) / 10,
    byteLag: byteDistance(await binlogStatus(source), status),
    secondsBehind: status.secondsBehind,
  };
}
