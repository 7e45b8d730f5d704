// What the two directions of the critical section (switch-primary.ts) call things: the sides, step
// names and operator messages. Both directions sit in one literal, text beside text, so that they cannot
// drift apart unnoticed; existing texts are kept (tests and runbooks search for them).
import { redact } from '../redact.js';
import type { ReplicationCheck } from '../state.js';

/** cutover: source -> target; fallback: target -> source, through reverse replication. */
export type Direction = 'cutover' | 'fallback';
export type SideName = 'source' | 'target';

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
  rolledBack(why: string, budgetRanOut: boolean): string;
}

export function switchWords(direction: Direction): SwitchWords {
  const cutover = direction === 'cutover';
  const [oldSide, newSide]: SideName[] = cutover ? ['source', 'target'] : ['target', 'source'];
  const title = cutover ? 'Cutover' : 'Fallback';
  const reverse = cutover ? '' : 'reverse ';
  const replication = `${reverse}replication`;
  const again = cutover ? 'start the cutover again' : 'fall back again';
  return {
    action: direction,
    title,
    oldSide,
    newSide,
    replication,
    ready: `check that ${replication} is healthy and lag is under the limit`,
    capture: `capture the ${newSide}'s binlog position${cutover ? ' (reverse replication starts there)' : ''}`,
    reset: cutover ? 'reset the external source on the target' : 'reset reverse replication on the source',
    keepUsersSetting: cutover ? 'cutover.writeBlock.keepUsers' : 'fallbackOptions.writeBlock.keepUsers',
    pointOfNoReturn: `forgetting ${cutover ? 'the external source' : 'reverse replication'} and making the ${newSide} writable; from here the ${newSide} is the primary${cutover ? '' : ' again'}`,
    retry: cutover ? 'retry the "Cut over" step' : 'run the fallback again',
    notReady: (cause, maxLagSeconds) =>
      `${title} refused, nothing changed: ` +
      ('error' in cause
        ? `${replication} is not healthy (${cause.error.name}: ${redact(cause.error.message)})` +
          (cutover ? '' : '. Start it with "Start reverse replication" or fix the error, then fall back again.')
        : `${!cause.check.healthy ? `${replication} is not running` : `${reverse}heartbeat lag ${cause.check.heartbeatLagMs} ms is above replication.maxLagSeconds (${maxLagSeconds} s)`}. ` +
          (cutover ? 'Wait for the lag to drop and approve again.' : 'Wait for the source to catch up and fall back again.')),
    rolledBack: (why, budgetRanOut) =>
      `${title} rolled back: ${why}. The ${oldSide} is writable again and ${replication} is running; ${cutover ? 'nothing was switched' : 'the application stays on the target'}. ` +
      (budgetRanOut ? `Wait until the ${reverse}lag is lower, or raise cutover.catchUpTimeoutSeconds, then ${again}.` : `Fix the cause, then ${again}.`),
  };
}
