// The bounded critical section that moves the primary from one server to its replica, in either
// direction: the cutover (source -> target) and the fallback (target -> source, through reverse
// replication) are this function with a different direction description (cutover.ts, fallback.ts).
// ONE invocation; steps are logged before they run. Until the point of no return every failure rolls
// back (old primary writable again, replication resumed) and throws the direction's RolledBack error;
// after it, the new primary is the primary and the old one is NEVER unblocked again (two writable
// primaries would split the data): a failure there throws the direction's Incomplete error and the next
// invocation finishes. Marker rows on the new primary make a second invocation return the first one's
// result, and let an invocation after a crash undo or finish what the dead one started.
import { logger, logStep } from '../logger.js';
import { redact } from '../redact.js';
import type { BinlogPosition } from '../state.js';
import { checkReplication } from './check.js';
import { binlogStatus } from './dialect.js';
import { diffGrants, type GrantDiff } from './grants.js';
import type { Conn } from './connection.js';
import { grantReport, logGrantDifferences } from './grant-report.js';
import { killAppSessions, killAppSessionsNow, killLongTransactions, killRunningStatements, LONG_TRANSACTION } from './sessions.js';
import { assertAttemptEnded, guardNewPrimaryWritable, sides, type SwitchOutcome, type SwitchPlan } from './switch-plan.js';
import { finishAfterCrash, rollBack, runAfterSwitch, undoAfterCrash } from './switch-recovery.js';
import type { SideName } from './switch-words.js';
import { checkInBlock } from '../verify/cutover-check.js';
import { waitForExecuted } from './wait-position.js';

class RollBack extends Error {}

/** How long the long transactions killed before the block may take to roll back (writes still flow). */
const LONG_ROLLBACK_WAIT_MS = 30_000;
/** A read_only block still waiting after this long, with the running statements killed, kills every application session. */
const CLEAR_ALL_AFTER_MS = 250;


const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);

export async function switchPrimary<R extends { grantDifferences: string[] }>(d: SwitchPlan<R>): Promise<R> {
  const { input } = d;
  const { oldP, newP, w } = sides(d);
  const [oldN, newN] = [oldP.name, newP.name];
  const marker = await d.markers.read();
  if (marker?.phase === 'done' && marker.result) {
    logger.info(`${w.action} already done for this migration: returning its result`, { migrationId: input.migrationId });
    return marker.result;
  }
  if (marker?.phase === 'past-point-of-no-return' && marker.result) return finishAfterCrash(d, marker.result);
  if (marker?.phase === 'in-progress') {
    // Younger than the longest a critical section can last: its invocation may still be running (a
    // retried Lambda call starts a second one). Undoing its block now would let it switch while the old
    // primary is open; wait (TransientError is retried with backoff) until it ends or is surely dead.
    assertAttemptEnded(marker, input, w.action);
    await undoAfterCrash(d, marker);
  }

  const steps: SwitchOutcome['steps'] = [];
  const step = async <T>(name: string, details: Record<string, unknown>, fn: () => Promise<T>): Promise<T> => {
    logStep(`${w.action}: ${name}`, details);
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
      // The old primary writes the heartbeat, the new one (its replica) shows it.
      check = await checkReplication(oldP.conn, newP.conn, newP.dialect, input, {
        activeWaitMs: Math.max(1000, input.replication.maxLagSeconds * 2000),
        ...(d.replicationUser ? { replicationUser: d.replicationUser } : {}),
      });
    } catch (err) {
      throw new d.errors.notReady(w.notReady({ error: err as Error }, input.replication.maxLagSeconds));
    }
    if (!check.healthy || !check.underLimit) throw new d.errors.notReady(w.notReady({ check }, input.replication.maxLagSeconds));
  });

  // crossmove's own connections on the old primary: never killed.
  const spare = [...(d.spareIds ?? []), oldP.conn.threadId];
  // Before any write is blocked: a long transaction killed at the block would keep every write blocked
  // while it rolls back (about as long as it ran), and a running statement holds a read_only block up.
  // Killed now (the block would kill it anyway), it rolls back while the application still writes.
  await step(`end the application's long transactions on the ${oldN}`, { ...LONG_TRANSACTION }, async () => {
    const ended = await killLongTransactions(oldP.conn, oldP.dialect, d.keepUsers, { spareIds: spare, deadline: Date.now() + LONG_ROLLBACK_WAIT_MS });
    if (!ended.gone) {
      throw new d.errors.notReady(
        `${w.title} refused before blocking any write: long transactions killed on the ${oldN} (${ended.remaining.map((r) => `${r.id} (${r.user})`).join(', ')}) were still rolling back after ${LONG_ROLLBACK_WAIT_MS / 1000} s. Try again when they are gone.`,
      );
    }
  });

  const budgetMs = input.cutover.catchUpTimeoutSeconds * 1000;
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
  const overBudget = (what: string) => {
    if (Date.now() > deadline()) throw new RollBack(`the ${input.cutover.catchUpTimeoutSeconds} s budget (cutover.catchUpTimeoutSeconds) ran out ${what}`);
  };
  const finalKey = `final${cap(oldN)}Position`;

  const blockPlan = await d.blocker.plan();
  await d.markers.write({ phase: 'in-progress', result: null, blockState: blockPlan });

  let diff: GrantDiff | undefined;
  try {
    if (d.beforeBlock) await step('stop the heartbeat writer', {}, d.beforeBlock);
    blockedAt = Date.now();
    blocked = true; // set before the call: a block that half-worked is still undone
    // A block that waits for running statements kills their sessions while it waits (they are killed
    // right after it anyway): under load, waiting for them is a deadlock (write-block.ts). Anything else
    // still holding it up after CLEAR_ALL_AFTER_MS (an explicit table lock): every application session.
    const clearingSince = Date.now();
    const clearTheWay = async (other: Conn, blockerId: number) => {
      const kill = Date.now() - clearingSince < CLEAR_ALL_AFTER_MS ? killRunningStatements : killAppSessionsNow;
      await kill(other, oldP.dialect, d.keepUsers, [...spare, blockerId]);
    };
    await step(`block writes on the ${oldN}`, { method: d.blocker.method }, () => d.blocker.block(deadline(), clearTheWay));
    await step(`kill the application's sessions on the ${oldN}`, { keepUsers: d.keepUsers }, async () => {
      const killed = await killAppSessions(oldP.conn, oldP.dialect, d.keepUsers, { spareIds: d.spareIds, deadline: deadline() });
      if (!killed.gone) {
        throw new RollBack(
          `killed sessions ${killed.remaining.map((r) => `${r.id} (${r.user})`).join(', ')} were still open on the ${oldN} when the ${input.cutover.catchUpTimeoutSeconds} s budget (cutover.catchUpTimeoutSeconds) ran out`,
        );
      }
    });
    finalPosition = await step(`read the ${oldN}'s final binlog position`, {}, async () => {
      const pos = await binlogStatus(oldP.conn);
      if (!pos) throw new RollBack(`SHOW MASTER STATUS returned nothing on the ${oldN} (binary logging off?)`);
      return pos;
    });
    if (d.afterFinalPosition) await d.afterFinalPosition();
    const waited = await step(`wait until the ${newN} executed that position`, { position: finalPosition }, () =>
      waitForExecuted(newP.conn, newP.dialect, finalPosition!, deadline(), input.replication.binlogRetentionHours),
    );
    if (!waited.reached) throw new RollBack(sided(waited.why, oldN, newN));
    replicationStopped = true; // before the call: a stop that failed midway is still restarted on rollback
    await step(`stop ${w.replication} on the ${newN}`, {}, () => newP.dialect.stop(newP.conn));
    newPositionAtSwitch = await step(w.capture, d.captureDetails ?? {}, async () => {
      const pos = await binlogStatus(newP.conn);
      if (!pos && d.capturedPositionRequired) throw new RollBack(d.capturedPositionRequired);
      return pos;
    });
    overBudget('before verification');
    verified = await step('verify the data', { verify: input.cutover.verify }, async () => {
      // O(changes), never O(data): the data was compared before the approval (shared/verify/cutover-check.ts).
      const r = await checkInBlock({ oldConn: oldP.conn, newConn: newP.conn, newDialect: newP.dialect, input, direction: d.direction, timeoutMs: Math.max(1000, deadline() - Date.now()) });
      return { tablesVerified: r.tablesVerified, checksumsMatch: r.checksumsMatch };
    });
    diff = await step('compare application users and grants', {}, () => diffGrants(oldP.conn, newP.conn, d.crossmoveUsers));
    grantLines = diff.lines.map((l) => sided(l, oldN, newN));
    await step(`check that the ${oldN} binlog stopped moving`, { [finalKey]: finalPosition }, async () => {
      // A session the block missed (kept user, a write that slipped in) would be lost after the switch.
      const now = await binlogStatus(oldP.conn);
      if (!now || now.file !== finalPosition!.file || now.position !== finalPosition!.position) {
        throw new RollBack(
          `the ${oldN} binlog moved from ${finalPosition!.file}:${finalPosition!.position} to ${now?.file}:${now?.position} after writes were blocked: a session still writes (check ${w.keepUsersSetting} and the write block)`,
        );
      }
    });
    overBudget('after verification');

    // Set before the write: a write that failed may still have committed (the reply was lost), and a
    // rollback then would reopen the old primary while the marker tells the next attempt to finish the
    // switch. Staying blocked is safe either way: the next attempt reads the marker and undoes or finishes.
    pastPonr = true;
    await d.markers.write({ phase: 'past-point-of-no-return', result: resultOf(), blockState: blockPlan });
    logger.warn(`${w.action}: POINT OF NO RETURN: ${w.pointOfNoReturn}`, { [finalKey]: finalPosition, [`${newN}PositionAtSwitch`]: newPositionAtSwitch });
    await step(w.reset, {}, () => newP.dialect.reset(newP.conn));
    await step(`make the ${newN} writable`, {}, async () => {
      await guardNewPrimaryWritable(d, oldP.conn, `this ${w.action} blocked it and verified its binlog stood still`);
      await d.makeWritable();
    });
  } catch (err) {
    if (!blocked) throw err;
    const why = err instanceof RollBack ? err.message : `${(err as Error).name}: ${redact((err as Error).message)}`;
    if (pastPonr) {
      // Never unblock the old primary here: the new one may already take writes. A retry finishes the switch.
      throw new d.errors.incomplete(
        `${w.title} passed its point of no return but did not finish (${why}). The ${oldN} stays blocked; the next attempt finishes the switch (${w.retry}).`,
      );
    }
    await rollBack(d, blockPlan, replicationStopped, why);
    throw new d.errors.rolledBack(w.rolledBack(why, /catchUpTimeoutSeconds/.test(why)));
  }

  // After the switch: nothing here may undo it, so failures are reported, not thrown.
  afterSwitchProblems = await runAfterSwitch(d, diff, steps);
  if (grantLines.length) logGrantDifferences(w.action, grantLines);
  const result = resultOf();
  try {
    await d.markers.write({ phase: 'done', result, blockState: null });
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

/** Texts written for the cutover's direction (grants diff, position wait), with this direction's sides. */
function sided(text: string, oldN: SideName, newN: SideName): string {
  return text
    .replace('exists on the source but not on the target', `exists on the ${oldN} but not on the ${newN}`)
    .replace('lacks on the target:', `lacks on the ${newN}:`)
    .replace('the target had executed', `the ${newN} had executed`)
    .replace("but not the source's final position", `but not the ${oldN}'s final position`)
    .replace('the target has no external source configured', `the ${newN} has no external source configured`);
}
