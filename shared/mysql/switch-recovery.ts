// The critical section's ways back (switch-primary.ts): rolling back before the point of no return,
// undoing or finishing what a crashed invocation left, and the after-switch tasks whose failures are
// reported, never thrown.
import { logStep, logger } from '../logger.js';
import { redact } from '../redact.js';
import type { Conn } from './connection.js';
import type { Dialect } from './dialect.js';
import type { GrantDiff } from './grants.js';
import { withProblems } from './grant-report.js';
import { readReplicaStatus } from './status.js';
import { guardNewPrimaryWritable, guardOldPrimaryReopen, sides, type SwitchMarker, type SwitchOutcome, type SwitchPlan } from './switch-plan.js';

/** A previous invocation died before the point of no return: undo its block, resume replication. */
export async function undoAfterCrash<R>(d: SwitchPlan<R>, marker: SwitchMarker<R>): Promise<void> {
  const { w } = sides(d);
  logStep(`${w.action}: a previous attempt stopped before the point of no return: undo its write block and resume ${w.replication}`, { method: d.blocker.method });
  try {
    await guardOldPrimaryReopen(d);
  } catch (err) {
    throw new d.errors.rollbackFailed(
      `A previous ${w.action} attempt stopped midway and its write block was NOT undone: ${(err as Error).message}`,
    );
  }
  try {
    await d.blocker.undo(marker.blockState);
    await resumeReplication(d);
    await d.markers.clear();
  } catch (err) {
    throw new d.errors.rollbackFailed(
      redact(
        `A previous ${w.action} attempt stopped midway and undoing it failed: ${(err as Error).message}. Act now: make the ${w.oldSide} writable and start ${w.replication} on the ${w.newSide} by hand.`,
      ),
    );
  }
}

/**
 * The part of finishing past the point of no return that needs only the new primary: replication to
 * it stopped and forgotten, then writes allowed. Safe to repeat.
 */
export async function completeOnNewPrimary(conn: Conn, dialect: Dialect, makeWritable: () => Promise<void>): Promise<void> {
  const status = await readReplicaStatus(conn, dialect);
  if (status) {
    if (status.sqlRunning || status.ioState !== 'No') await dialect.stop(conn);
    await dialect.reset(conn);
  }
  await makeWritable();
}

/** A previous invocation died after the point of no return: finish switching to the new primary. */
export async function finishAfterCrash<R extends { grantDifferences: string[] }>(d: SwitchPlan<R>, result: R): Promise<R> {
  const { oldP, newP, w } = sides(d);
  logStep(`${w.action}: a previous attempt passed the point of no return: finishing it`, {});
  await completeOnNewPrimary(newP.conn, newP.dialect, async () => {
    await guardNewPrimaryWritable(d, oldP.conn, `a previous ${w.action} attempt blocked it and verified its binlog stood still before its point of no return`);
    await d.makeWritable();
  });
  // What the dead invocation may not have reached (never fatal: the switch is done).
  const finished = withProblems(result, await runAfterSwitch(d, undefined, []));
  await d.markers.write({ phase: 'done', result: finished, blockState: null });
  return finished;
}

export async function rollBack<R>(d: SwitchPlan<R>, blockPlan: unknown, replicationStopped: boolean, why: string): Promise<void> {
  const { w } = sides(d);
  const [oldN, newN] = [w.oldSide, w.newSide];
  logStep(`${w.action}: roll back`, { why });
  const failures: string[] = [];
  if (replicationStopped) {
    await resumeReplication(d).catch((e: Error) => failures.push(`restarting ${w.replication} on the ${newN}: ${e.message}`));
  }
  // Never while the new primary takes writes itself (it should still follow the old one).
  try {
    await guardOldPrimaryReopen(d);
  } catch (err) {
    throw new d.errors.rollbackFailed(redact(`${w.title} failed (${why}) and the rollback did NOT reopen the ${oldN}: ${(err as Error).message}`));
  }
  // From the stored plan, not from what this invocation believes it did: a block call that failed
  // may still have been applied.
  await d.blocker.undo(blockPlan).catch((e: Error) => failures.push(`making the ${oldN} writable (${d.blocker.method}): ${e.message}`));
  if (!failures.length) {
    await d.markers.clear().catch((e: Error) => failures.push(`clearing the in-progress marker on the ${newN}: ${e.message}`));
  }
  if (failures.length) {
    throw new d.errors.rollbackFailed(
      redact(`${w.title} failed (${why}) AND the rollback failed: ${failures.join('; ')}. Act now: make the ${oldN} writable and start ${w.replication} on the ${newN} by hand.`),
    );
  }
}

/** Starts replication on the new primary if it is not running, and waits (bounded) for the IO thread to connect. */
async function resumeReplication<R>(d: SwitchPlan<R>): Promise<void> {
  const { conn, dialect } = sides(d).newP;
  const status = await readReplicaStatus(conn, dialect);
  if (status && (!status.sqlRunning || status.ioState === 'No')) {
    await dialect.start(conn);
    const end = Date.now() + 5_000;
    while (Date.now() < end) {
      if ((await readReplicaStatus(conn, dialect))?.ioRunning) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export async function runAfterSwitch<R>(d: SwitchPlan<R>, diff: GrantDiff | undefined, steps: SwitchOutcome['steps']): Promise<string[]> {
  if (!d.afterSwitch) return [];
  const lines: string[] = [];
  const action = d.direction;
  await d.afterSwitch(diff, async (name, fn) => {
    logStep(`${action}: ${name}`, {});
    const t = performance.now();
    try {
      await fn();
    } catch (err) {
      lines.push(`could not ${name} (do it by hand): ${(err as Error).name}: ${redact((err as Error).message)}`);
      logger.warn(`${action}: could not ${name}`, { error: redact((err as Error).message) });
    } finally {
      steps.push({ step: name, ms: Math.round((performance.now() - t) * 10) / 10 });
    }
  });
  return lines;
}
