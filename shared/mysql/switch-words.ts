// What the two directions of the critical section (switch-primary.ts) call things: the sides, step
// names and operator messages. Both directions sit in one literal, text beside text, so that they cannot
// drift apart unnoticed; existing texts are kept (tests and runbooks search for them).
import { redact } from '../redact.js';
import type { BinlogPosition, ReplicationCheck } from '../state.js';
import { sidesOf, type Direction, type SideName } from './switch-sides.js';
import { waitFailureText, type WaitFailure } from './wait-position.js';

export type { Direction, SideName } from './switch-sides.js';

/**
 * Why a switch rolled back, before its point of no return. The advice of the rollback message is
 * chosen from the kind: the budget ran out (wait for less lag, or a larger budget) or something else
 * went wrong (fix it).
 */
export type RollbackReason =
  | WaitFailure
  | { kind: 'budget'; seconds: number; when: 'before verification' | 'after verification' }
  | { kind: 'sessions-still-open'; seconds: number; sessions: { id: number; user: string }[] }
  | { kind: 'no-final-position' }
  /** The new primary has no binlog and reverse replication needs one. */
  | { kind: 'no-new-position' }
  | { kind: 'binlog-moved'; from: BinlogPosition; to: BinlogPosition | null }
  /** Any other error on the way (a failed statement, a data check that failed): its class name apart. */
  | { kind: 'failed'; errorName: string; message: string };

const BUDGET_KINDS: ReadonlySet<RollbackReason['kind']> = new Set(['budget', 'sessions-still-open', 'timeout']);

/** The rollback ran out of cutover.catchUpTimeoutSeconds (rather than failing on something to fix). */
export function budgetRanOut(reason: RollbackReason): boolean {
  return BUDGET_KINDS.has(reason.kind);
}

export interface SwitchWords {
  /** Log prefix, lower case. */
  action: Direction;
  /** Sentence start. */
  title: string;
  /** The old primary (blocked) and the new one (made writable). */
  oldSide: SideName;
  newSide: SideName;
  /** The replication old -> new primary. */
  replication: string;
  ready: string;
  capture: string;
  reset: string;
  /** Where the kept users of the old primary are configured (named when its binlog still moves). */
  keepUsersSetting: string;
  pointOfNoReturn: string;
  /** How to run it again after the point of no return. */
  retry: string;
  notReady(cause: { error: Error } | { check: ReplicationCheck }, maxLagSeconds: number): string;
  /** The reason in words, as the rollback and incomplete messages quote it. */
  why(reason: RollbackReason): string;
  rolledBack(reason: RollbackReason): string;
}

export function switchWords(direction: Direction): SwitchWords {
  const cutover = direction === 'cutover';
  const sides = sidesOf(direction);
  const { oldSide, newSide } = sides;
  const title = cutover ? 'Cutover' : 'Fallback';
  const reverse = cutover ? '' : 'reverse ';
  const replication = `${reverse}replication`;
  const again = cutover ? 'start the cutover again' : 'fall back again';
  const keepUsersSetting = cutover ? 'cutover.writeBlock.keepUsers' : 'fallbackOptions.writeBlock.keepUsers';
  const why = (reason: RollbackReason): string => {
    switch (reason.kind) {
      case 'timeout':
      case 'applier-error':
      case 'no-external-source':
        return waitFailureText(reason, sides);
      case 'budget':
        return `the ${reason.seconds} s budget (cutover.catchUpTimeoutSeconds) ran out ${reason.when}`;
      case 'sessions-still-open':
        return `killed sessions ${reason.sessions.map((r) => `${r.id} (${r.user})`).join(', ')} were still open on the ${oldSide} when the ${reason.seconds} s budget (cutover.catchUpTimeoutSeconds) ran out`;
      case 'no-final-position':
        return `SHOW MASTER STATUS returned nothing on the ${oldSide} (binary logging off?)`;
      case 'no-new-position':
        return `SHOW MASTER STATUS returned nothing on the ${newSide}: enable binary logging on the ${newSide} for reverse replication (or set cutover.reverseReplication to false)`;
      case 'binlog-moved':
        return `the ${oldSide} binlog moved from ${reason.from.file}:${reason.from.position} to ${reason.to?.file}:${reason.to?.position} after writes were blocked: a session still writes (check ${keepUsersSetting} and the write block)`;
      case 'failed':
        return `${reason.errorName}: ${redact(reason.message)}`;
    }
  };
  return {
    action: direction,
    title,
    oldSide,
    newSide,
    replication,
    ready: `check that ${replication} is healthy and lag is under the limit`,
    capture: `capture the ${newSide}'s binlog position${cutover ? ' (reverse replication starts there)' : ''}`,
    reset: cutover ? 'reset the external source on the target' : 'reset reverse replication on the source',
    keepUsersSetting,
    pointOfNoReturn: `forgetting ${cutover ? 'the external source' : 'reverse replication'} and making the ${newSide} writable; from here the ${newSide} is the primary${cutover ? '' : ' again'}`,
    retry: cutover ? 'retry the "Cut over" step' : 'run the fallback again',
    notReady: (cause, maxLagSeconds) =>
      `${title} refused, nothing changed: ` +
      ('error' in cause
        ? `${replication} is not healthy (${cause.error.name}: ${redact(cause.error.message)})` +
          (cutover ? '' : '. Start it with "Start reverse replication" or fix the error, then fall back again.')
        : `${!cause.check.healthy ? `${replication} is not running` : `${reverse}heartbeat lag ${cause.check.heartbeatLagMs} ms is above replication.maxLagSeconds (${maxLagSeconds} s)`}. ` +
          (cutover ? 'Wait for the lag to drop and approve again.' : 'Wait for the source to catch up and fall back again.')),
    why,
    rolledBack: (reason) =>
      `${title} rolled back: ${why(reason)}. The ${oldSide} is writable again and ${replication} is running; ${cutover ? 'nothing was switched' : 'the application stays on the target'}. ` +
      (budgetRanOut(reason) ? `Wait until the ${reverse}lag is lower, or raise cutover.catchUpTimeoutSeconds, then ${again}.` : `Fix the cause, then ${again}.`),
  };
}
