// initialLoad.frozenSource kind live: the copy reads the live source through one consistent snapshot
// (snapshot.ts: FTWRL, LOCK TABLES or MariaDB's binlog snapshot) held by the worker of slot 1 on as many
// connections as initialLoad.parallelism. A snapshot lives as long as its connections, i.e. in ONE
// process: locally (crossmove run --local) the same process runs every round, so the copy goes on for
// as long as it needs; on AWS each round is a new Lambda invocation, so a live copy must finish within
// one (plan refuses one estimated above 10 minutes). A snapshot that is gone (the process ended) cannot
// be reopened at the same point: the copy then starts over from a new snapshot ("Plan the copy"), or,
// on AWS, stops with LiveSnapshotLostError naming the frozen sources that outlive an invocation.
// The snapshot holds back the source's purge of old row versions while it is open (InnoDB history
// list): one more reason to keep live copies small.
import { randomUUID } from 'node:crypto';
import { closeQuietly, type Conn } from '../connections.js';
import { openSnapshot, type SnapshotMethod } from '../snapshot.js';
import type { BinlogPosition } from '../../state.js';

export interface LiveSnapshot {
  id: string;
  position: BinlogPosition;
  method: SnapshotMethod;
  lockMs: number;
  /** Connections reading inside the snapshot (one per lane). */
  lanes: Conn[];
  control: Conn;
}

/** Open snapshots of this process by copy job key (migrationId/job). */
const held = new Map<string, LiveSnapshot>();

export const liveKey = (migrationId: string, job: string) => `${migrationId}/${job}`;

/** The snapshot of this job held by this process, if it is the one `id` names. */
export function heldLiveSnapshot(key: string, id?: string | null): LiveSnapshot | undefined {
  const s = held.get(key);
  return s && (id === undefined || s.id === id) ? s : undefined;
}

export async function openLiveSnapshot(
  key: string,
  open: () => Promise<Conn>,
  lanes: number,
  tables: { schema: string; name: string }[],
): Promise<LiveSnapshot> {
  await releaseLiveSnapshot(key);
  const control = await open();
  const conns: Conn[] = [];
  try {
    for (let i = 0; i < lanes; i++) conns.push(await open());
    const snap = await openSnapshot(control, conns, { tables });
    // The MariaDB fallback gives one consistent connection only: the others are not needed.
    await closeQuietly(conns.filter((c) => !snap.workers.includes(c)));
    const live: LiveSnapshot = { id: randomUUID(), position: snap.position, method: snap.method, lockMs: snap.lockMs, lanes: snap.workers, control };
    held.set(key, live);
    return live;
  } catch (err) {
    await closeQuietly([control, ...conns]);
    throw err;
  }
}

/** Ends the snapshot's transactions and closes its connections. */
export async function releaseLiveSnapshot(key: string): Promise<void> {
  const s = held.get(key);
  if (!s) return;
  held.delete(key);
  await closeQuietly([...s.lanes, s.control]);
}

/** Every snapshot this process holds (tests, and a process that ends its runs). */
export async function releaseAllLiveSnapshots(): Promise<void> {
  await Promise.all([...held.keys()].map((k) => releaseLiveSnapshot(k)));
}
