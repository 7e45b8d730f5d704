// "Read the clone's binlog position": the clone's writer reports where the source's binlog stood at the
// clone point in an RDS event, `Binlog position from crash recovery is mysql-bin-changelog.000013 77991983`.
// SHOW MASTER STATUS on the clone is wrong (its reboot rotates logs), so the event is the only source.
import type { Event } from '@aws-sdk/client-rds';
import type { BinlogPosition, BinlogPositionPoll, MigrationState } from '../state.js';
import { clusterEvents, instanceEvents, targetRdsClient } from './rds.js';

const MARKER = 'Binlog position from crash recovery is';
/** RDS keeps events 14 days; asking further back is an error. */
const EVENT_RETENTION_MS = 14 * 24 * 3600_000;
/** Look back a little before the instance/cluster creation time (clock skew, event timestamps). */
const LOOK_BACK_MS = 60 * 60_000;

/** File, then position: the message's last two tokens. Null when it is not that message. */
export function parseBinlogPositionMessage(message: string | undefined): BinlogPosition | null {
  if (!message?.includes(MARKER)) return null;
  const tokens = message.trim().split(/\s+/);
  const file = tokens.at(-2);
  const position = Number(tokens.at(-1));
  if (!file || file === 'is' || !Number.isSafeInteger(position) || position < 0) return null;
  return { file, position };
}

/** The first (oldest) crash-recovery position: later ones would follow a reboot of the clone. */
export function firstBinlogPosition(events: Event[]): BinlogPosition | null {
  const sorted = [...events].sort((a, b) => (a.Date ? new Date(a.Date).getTime() : 0) - (b.Date ? new Date(b.Date).getTime() : 0));
  for (const e of sorted) {
    const pos = parseBinlogPositionMessage(e.Message);
    if (pos) return pos;
  }
  return null;
}

export function lookBackStart(state: Pick<MigrationState, 'clone' | 'writer'>, now = Date.now()): Date {
  const anchors = [state.clone?.createdAt, state.writer?.createdAt].filter(Boolean).map((t) => new Date(t!).getTime());
  const from = anchors.length ? Math.min(...anchors) - LOOK_BACK_MS : now - EVENT_RETENTION_MS;
  return new Date(Math.max(from, now - EVENT_RETENTION_MS + 60_000));
}

export async function readBinlogPositionFromEvents(
  state: Pick<MigrationState, 'input' | 'clone' | 'writer' | 'binlogPosition'>,
): Promise<BinlogPositionPoll> {
  const attempts = (state.binlogPosition?.attempts ?? 0) + 1;
  const instanceId = state.writer?.instanceIdentifier ?? state.input.names.targetWriterIdentifier;
  const rds = targetRdsClient(state.input);
  const from = lookBackStart(state);
  // A cluster restored from a snapshot reports the position the same way (crash recovery of its first
  // writer); it is read from the writer's events and, should RDS file it under the cluster, from those.
  const snapshot = state.input.initialLoad.method === 'snapshot';
  const origin = snapshot ? 'snapshot-events' : 'describe-events';
  let position = firstBinlogPosition(await instanceEvents(rds, instanceId, from));
  if (!position && snapshot) {
    const clusterId = state.clone?.clusterIdentifier ?? state.input.names.targetClusterIdentifier;
    position = firstBinlogPosition(await clusterEvents(rds, clusterId, from));
  }
  if (!position) return { done: false, attempts, status: 'waiting-for-event', origin };
  return { done: true, attempts, status: 'found', position, origin };
}
