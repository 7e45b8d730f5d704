// The bounded critical section that moves the primary from one server to its replica, in either
// direction: the cutover (source -> target) and the fallback (target -> source, through reverse
// replication) are this function with a different direction description (cutover.ts, fallback.ts).
// ONE invocation; steps are logged before they run. The procedure acts only through a Switcher
// (switcher.ts): the servers (switcher-live.ts), or plan's recorder, which prints what it would do. Until the point of no return every failure rolls
// back (old primary writable again, replication resumed) and throws the direction's RolledBack error;
// after it, the new primary is the primary and the old one is NEVER unblocked again (two writable
// primaries would split the data): a failure there throws the direction's Incomplete error and the next
// invocation finishes. Marker rows on the new primary make a second invocation return the first one's
// result, and let an invocation after a crash undo or finish what the dead one started.
import { redact } from '../redact.js';
import type { BinlogPosition } from '../state.js';
import type { GrantDiff } from './grants.js';
import { grantReport, logGrantDifferences } from './grant-report.js';
import { LONG_TRANSACTION } from './sessions.js';
import { assertAttemptEnded, type SwitchDirection, type SwitchOutcome, type SwitchPlan } from './switch-plan.js';
import { switchWords, type RollbackReason } from './switch-words.js';
import type { Switcher } from './switcher.js';
import { liveSwitcher } from './switcher-live.js';
import { logger } from '../logger.js';

/** Before the point of no return: undo the block, resume replication, say why (the advice follows the kind). */
class RollBack extends Error {
  constructor(readonly reason: RollbackReason) {
    super(reason.kind);
  }
}

/** How long the long transactions killed before the block may take to roll back (writes still flow). */
const LONG_ROLLBACK_WAIT_MS = 30_000;

const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);

/** The switch on the direction's two servers. */
export async function switchPrimary<R extends { grantDifferences: string[] }>(d: SwitchPlan<R>): Promise<R> {
  return runSwitch(d, liveSwitcher(d));
}

/** The switch procedure: every action through `sw`, in order; the real switch and `plan` both run it. */
export async function runSwitch<R extends { grantDifferences: string[] }>(d: SwitchDirection<R>, sw: Switcher<R>): Promise<R> {
  const { input } = d;
  const w = switchWords(d.direction);
  const [oldN, newN] = [w.oldSide, w.newSide];
  const marker = await sw.readMarker();
  if (marker?.phase === 'done' && marker.result) {
    logger.info(`${w.action} already done for this migration: returning its result`, { migrationId: input.migrationId });
    return marker.result;
  }
  if (marker?.phase === 'past-point-of-no-return' && marker.result) return sw.finishAfterCrash(marker.result);
  if (marker?.phase === 'in-progress') {
    // Younger than the longest a critical section can last: its invocation may still be running (a
    // retried Lambda call starts a second one). Undoing its block now would let it switch while the old
    // primary is open; wait (TransientError is retried with backoff) until it ends or is surely dead.
    assertAttemptEnded(marker, input, w.action);
    await sw.undoAfterCrash(marker);
  }

  const steps: SwitchOutcome['steps'] = [];
  const step = async <T>(name: string, details: Record<string, unknown>, fn: () => Promise<T>): Promise<T> => {
    sw.announce(name, details);
    const t = performance.now();
    try {
      return await fn();
    } finally {
      steps.push({ step: name, ms: Math.round((performance.now() - t) * 10) / 10 });
    }
  };

  await step(w.ready, { maxLagSeconds: input.replication.maxLagSeconds }, async () => {
    let check;
    try {
      check = await sw.checkReplication();
    } catch (err) {
      throw new d.errors.notReady(w.notReady({ error: err as Error }, input.replication.maxLagSeconds));
    }
    if (!check.healthy || !check.underLimit) throw new d.errors.notReady(w.notReady({ check }, input.replication.maxLagSeconds));
  });

  // Before any write is blocked: a long transaction killed at the block would keep every write blocked
  // while it rolls back (about as long as it ran), and a running statement holds a read_only block up.
  // Killed now (the block would kill it anyway), it rolls back while the application still writes.
  await step(`end the application's long transactions on the ${oldN}`, { ...LONG_TRANSACTION }, async () => {
    const ended = await sw.endLongTransactions(Date.now() + LONG_ROLLBACK_WAIT_MS);
    if (!ended.gone) {
      throw new d.errors.notReady(
        `${w.title} refused before blocking any write: long transactions killed on the ${oldN} (${ended.remaining.map((r) => `${r.id} (${r.user})`).join(', ')}) were still rolling back after ${LONG_ROLLBACK_WAIT_MS / 1000} s. Try again when they are gone.`,
      );
    }
  });

  const seconds = input.cutover.catchUpTimeoutSeconds;
  const budgetMs = seconds * 1000;
  let blocked = false;
  let replicationStopped = false;
  let pastPonr = false;
  let blockedAt = 0;
  let finalPosition: BinlogPosition | undefined;
  let newPositionAtSwitch: BinlogPosition | null = null;
  let verified = { tablesVerified: 0, checksumsMatch: null as boolean | null };
  let grantLines: string[] = [];
  let afterSwitchProblems: string[] = [];

  const deadline = () => blockedAt + budgetMs;
  const overBudget = (when: 'before verification' | 'after verification') => {
    if (Date.now() > deadline()) throw new RollBack({ kind: 'budget', seconds, when });
  };
  const finalKey = `final${cap(oldN)}Position`;

  const blockPlan = await sw.planBlock();
  await sw.writeMarker({ phase: 'in-progress', result: null, blockState: blockPlan });

  let diff: GrantDiff | undefined;
  try {
    if (sw.stopHeartbeatWriter) await step('stop the heartbeat writer', {}, sw.stopHeartbeatWriter);
    blockedAt = Date.now();
    blocked = true; // set before the call: a block that half-worked is still undone
    await step(`block writes on the ${oldN}`, { method: sw.blockMethod }, () => sw.blockWrites(deadline()));
    await step(`kill the application's sessions on the ${oldN}`, { keepUsers: d.keepUsers }, async () => {
      const killed = await sw.killSessions(deadline());
      if (!killed.gone) throw new RollBack({ kind: 'sessions-still-open', seconds, sessions: killed.remaining });
    });
    finalPosition = await step(`read the ${oldN}'s final binlog position`, {}, async () => {
      const pos = await sw.readOldPosition();
      if (!pos) throw new RollBack({ kind: 'no-final-position' });
      return pos;
    });
    if (sw.afterFinalPosition) await sw.afterFinalPosition();
    const waited = await step(`wait until the ${newN} executed that position`, { position: finalPosition }, () => sw.waitForPosition(finalPosition!, deadline()));
    if (!waited.reached) throw new RollBack(waited.reason);
    replicationStopped = true; // before the call: a stop that failed midway is still restarted on rollback
    await step(`stop ${w.replication} on the ${newN}`, {}, () => sw.stopReplication());
    newPositionAtSwitch = await step(w.capture, d.captureDetails ?? {}, async () => {
      const pos = await sw.readNewPosition();
      if (!pos && d.newPositionRequired) throw new RollBack({ kind: 'no-new-position' });
      return pos;
    });
    overBudget('before verification');
    verified = await step('verify the data', { verify: input.cutover.verify }, () => sw.verifyData(Math.max(1000, deadline() - Date.now())));
    diff = await step('compare application users and grants', {}, () => sw.compareGrants());
    grantLines = diff.lines;
    await step(`check that the ${oldN} binlog stopped moving`, { [finalKey]: finalPosition }, async () => {
      // A session the block missed (kept user, a write that slipped in) would be lost after the switch.
      const now = await sw.readOldPosition();
      if (!now || now.file !== finalPosition!.file || now.position !== finalPosition!.position) {
        throw new RollBack({ kind: 'binlog-moved', from: finalPosition!, to: now });
      }
    });
    overBudget('after verification');

    // Set before the write: a write that failed may still have committed (the reply was lost), and a
    // rollback then would reopen the old primary while the marker tells the next attempt to finish the
    // switch. Staying blocked is safe either way: the next attempt reads the marker and undoes or finishes.
    pastPonr = true;
    await sw.writeMarker({ phase: 'past-point-of-no-return', result: resultOf(), blockState: blockPlan });
    sw.pointOfNoReturn(w.pointOfNoReturn, { [finalKey]: finalPosition, [`${newN}PositionAtSwitch`]: newPositionAtSwitch });
    await step(w.reset, {}, () => sw.resetReplication());
    await step(`make the ${newN} writable`, {}, () => sw.makeWritable());
  } catch (err) {
    if (!blocked) throw err;
    const reason: RollbackReason = err instanceof RollBack ? err.reason : { kind: 'failed', errorName: (err as Error).name, message: (err as Error).message };
    const why = w.why(reason);
    if (pastPonr) {
      // Never unblock the old primary here: the new one may already take writes. A retry finishes the switch.
      throw new d.errors.incomplete(
        `${w.title} passed its point of no return but did not finish (${why}). The ${oldN} stays blocked; the next attempt finishes the switch (${w.retry}).`,
      );
    }
    await sw.rollBack(blockPlan, replicationStopped, why);
    throw new d.errors.rolledBack(w.rolledBack(reason));
  }

  // After the switch: nothing here may undo it, so failures are reported, not thrown.
  afterSwitchProblems = await sw.afterSwitch(diff, steps);
  if (grantLines.length) logGrantDifferences(w.action, grantLines);
  const result = resultOf();
  try {
    await sw.writeMarker({ phase: 'done', result, blockState: null });
  } catch (err) {
    throw new d.errors.incomplete(`${w.title} switched to the ${newN} but could not record it (${(err as Error).name}: ${redact((err as Error).message)}); ${w.retry}.`);
  }
  return result;

  function resultOf(): R {
    return d.result({
      writeBlockedMs: Date.now() - blockedAt,
      finalPosition: finalPosition!,
      newPositionAtSwitch,
      tablesVerified: verified.tablesVerified,
      checksumsMatch: verified.checksumsMatch,
      ...grantReport(w.action, grantLines, { missingUsers: diff?.missingUsers.length ?? 0, missingGrants: diff?.missingGrants.length ?? 0 }, afterSwitchProblems),
      steps: [...steps],
    });
  }
}
