// The description of one direction of the critical section (switch-primary.ts): the connections, the
// marker store, what differs by direction, and the outcome it shapes into the direction's result.
import { TransientError } from '../errors.js';
import type { MigrationInput } from '../input/validate.js';
import type { BinlogPosition } from '../state.js';
import type { Conn } from './connection.js';
import type { Dialect } from './dialect.js';
import type { GrantDiff } from './grants.js';
import type { GrantDifferenceCounts } from './grant-report.js';
import { switchWords, type Direction, type SideName, type SwitchWords } from './switch-words.js';
import type { WriteBlocker } from './write-block.js';
import { assertNoOtherWritablePrimary } from './primary-guard.js';

export interface Side {
  conn: Conn;
  dialect: Dialect;
  name: SideName;
}

type SwitchPhase = 'in-progress' | 'past-point-of-no-return' | 'done' | 'rolled-back';

export interface SwitchMarker<R> {
  phase: SwitchPhase;
  result: R | null;
  /** The write blocker's plan, stored before the block so that any later invocation can undo it. */
  blockState: unknown;
  /** How long ago the marker was written (read only; absent where the store cannot tell). */
  ageMs?: number;
}

/** The direction's marker rows (kept on the new primary; each direction keeps its own table format). */
export interface MarkerStore<R> {
  read(): Promise<SwitchMarker<R> | null>;
  write(marker: SwitchMarker<R>): Promise<void>;
  /** Nothing pending any more (a rolled-back row). */
  clear(): Promise<void>;
}

/** What the critical section measured, shaped into the direction's result. */
export interface SwitchOutcome {
  writeBlockedMs: number;
  /** The old primary's binlog position once its writes were blocked (the new one executed up to it). */
  finalPosition: BinlogPosition;
  /** The new primary's own binlog position at the switch (null when it has none and none is needed). */
  newPositionAtSwitch: BinlogPosition | null;
  tablesVerified: number;
  checksumsMatch: boolean | null;
  /** Bounded (grant-report.ts): the first lines, with the counts beside them. */
  grantDifferences: string[];
  grantDifferenceCounts: GrantDifferenceCounts;
  steps: { step: string; ms: number }[];
}

/** The result fields both directions share (each adds its two positions under its own names). */
export function sharedResult(o: SwitchOutcome) {
  const { writeBlockedMs, tablesVerified, checksumsMatch, grantDifferences, grantDifferenceCounts, steps } = o;
  return { ok: true, rolledBack: false, writeBlockedMs, tablesVerified, checksumsMatch, grantDifferences, grantDifferenceCounts, steps };
}

/** Runs one after-switch task: its failure becomes a report line, never an exception. */
type Timed = (name: string, fn: () => Promise<void>) => Promise<void>;

type ErrorClass = new (message: string) => Error;

/** What runCutover and runFallback are given. */
export interface SwitchDeps {
  source: Conn;
  target: Conn;
  sourceDialect: Dialect;
  targetDialect: Dialect;
  input: MigrationInput;
  /** Blocks writes on the old primary (the source at cutover, the target at fallback). */
  blocker: WriteBlocker;
  /** crossmove's own users (admins, replication users): left out of the grants diff. Their sessions are NOT spared (an admin session bypasses read_only). */
  crossmoveUsers: string[];
  /** Local/bench: stop a background heartbeat writer before writes are blocked. */
  beforeBlock?: () => Promise<void>;
  /** Test/bench seam, never set in production code paths: runs right after the old primary's final position was read. */
  afterFinalPosition?: () => Promise<void>;
  /** host:port of each side as crossmove reaches it, for the two-primaries guard's messages (default: read from the server). */
  addresses?: { source: string | null; target: string | null };
}

/**
 * What the switch procedure (switch-primary.ts) reads of a direction besides its actions: the same for
 * the real switch and for plan's recording of it (no connections).
 */
export interface SwitchDirection<R> {
  direction: Direction;
  input: MigrationInput;
  /** Application users whose sessions on the old primary are not killed. */
  keepUsers: string[];
  /** The direction's marker table on the new primary (switch-log.ts). */
  markerTable: string;
  /** The new primary must have a binlog position at the switch (reverse replication starts there): else roll back. */
  newPositionRequired?: boolean;
  captureDetails?: Record<string, unknown>;
  errors: { notReady: ErrorClass; rolledBack: ErrorClass; rollbackFailed: ErrorClass; incomplete: ErrorClass };
  result: (outcome: SwitchOutcome) => R;
}

/** The direction's tasks after the switch (diff undefined when finishing a crashed attempt): failures are reported, not thrown. */
export type AfterSwitch = (diff: GrantDiff | undefined, timed: Timed) => Promise<void>;

/** One direction of the switch on the two servers: the deps plus what differs by direction. */
export interface SwitchPlan<R> extends SwitchDeps, SwitchDirection<R> {
  markers: MarkerStore<R>;
  /** crossmove's own connection ids on the old primary (besides its connection): never killed. */
  spareIds?: number[];
  /** Replication user for the readiness check's error mapping (reverse replication has its own). */
  replicationUser?: string;
  /** Makes the new primary writable, after its replication was reset. */
  makeWritable: () => Promise<void>;
  afterSwitch?: AfterSwitch;
}

/** The old and the new primary of a direction. */
export function sides(d: SwitchPlan<unknown>): { oldP: Side; newP: Side; w: SwitchWords } {
  const w = switchWords(d.direction);
  const source: Side = { conn: d.source, dialect: d.sourceDialect, name: 'source' };
  const target: Side = { conn: d.target, dialect: d.targetDialect, name: 'target' };
  return w.oldSide === 'source' ? { oldP: source, newP: target, w } : { oldP: target, newP: source, w };
}

/**
 * The two-primaries guard before the new primary is made writable: the old one must be blocked
 * (read_only, or its network block checked now). `knownBlocked` says why an old primary crossmove cannot
 * read is still known to be blocked (the switch blocked it and verified its binlog before the point of no return).
 */
export async function guardNewPrimaryWritable(d: SwitchPlan<unknown>, oldConn: Conn | null, knownBlocked: string): Promise<void> {
  const { oldP, newP } = sides(d);
  await assertNoOtherWritablePrimary(
    { name: newP.name, address: d.addresses?.[newP.name] ?? null },
    {
      name: oldP.name,
      address: d.addresses?.[oldP.name] ?? null,
      conn: oldConn,
      dialect: oldP.dialect,
      ...(d.blocker.inPlace ? { networkBlock: { method: d.blocker.method, inPlace: () => d.blocker.inPlace!() } } : {}),
      knownBlocked,
    },
    `make the ${newP.name} writable`,
  );
}

/**
 * The two-primaries guard before the old primary is reopened (rollback, undo after a crash): the new
 * one must still follow it (a replica) or be read-only; before the point of no return crossmove never
 * made it writable.
 */
export async function guardOldPrimaryReopen(d: SwitchPlan<unknown>): Promise<void> {
  const { oldP, newP } = sides(d);
  await assertNoOtherWritablePrimary(
    { name: oldP.name, address: d.addresses?.[oldP.name] ?? null },
    {
      name: newP.name,
      address: d.addresses?.[newP.name] ?? null,
      conn: newP.conn,
      dialect: newP.dialect,
      replicaOfBecoming: true,
      knownBlocked: 'the switch stopped before its point of no return, so crossmove never made it writable',
    },
    `make the ${oldP.name} writable again (undo the write block)`,
  );
}

/** Beyond catchUpTimeoutSeconds: blocking, killing and verification time the budget does not cover. */
const LEASE_MARGIN_SECONDS = 60;

/**
 * An in-progress marker younger than the longest a critical section can last may belong to an
 * invocation that is still running (a retried Lambda call starts a second one). Undoing its block then
 * would let it switch while the old primary is open: wait instead (TransientError is retried with
 * backoff) until it ends or is surely dead.
 */
export function assertAttemptEnded(marker: { ageMs?: number }, input: MigrationInput, action: string): void {
  const leaseMs = (input.cutover.catchUpTimeoutSeconds + LEASE_MARGIN_SECONDS) * 1000;
  if (marker.ageMs === undefined || marker.ageMs >= leaseMs) return;
  throw new TransientError(
    `Another ${action} attempt started ${Math.round(marker.ageMs / 1000)} s ago and may still be in its critical section; this one waits (the step is retried) rather than undo its write block. After ${Math.round(leaseMs / 1000)} s without an end it is taken as dead and undone.`,
  );
}
