// The cutover critical section: ONE bounded invocation (Vitess SwitchTraffic / RDS Blue/Green style).
// Steps are logged before they run. Until the point of no return every failure rolls back (source
// writable again, replication resumed) and throws CutoverRolledBackError; after it, the target is the
// primary and the source is NEVER unblocked again (two writable primaries would split the data): a
// failure there throws the retryable CutoverIncompleteError and the next invocation finishes. A marker row on the target (cutover-marker.ts) makes a second invocation return the first
// one's result, and lets an invocation after a crash undo or finish what the dead one started.
import { CutoverIncompleteError, CutoverNotReadyError, CutoverRollbackFailedError, CutoverRolledBackError } from '../errors.js';
import type { MigrationInput } from '../input/validate.js';
import { logger, logStep } from '../logger.js';
import { redact } from '../redact.js';
import type { BinlogPosition, CutoverResult } from '../state.js';
import { checkReplication } from './check.js';
import type { Conn } from './connection.js';
import { clearCutoverMarker, readCutoverMarker, writeCutoverMarker, type CutoverMarker } from './cutover-marker.js';
import { binlogStatus, type Dialect } from './dialect.js';
import { enableCopiedEvents } from './events.js';
import { applyGrantDiff, diffGrants } from './grants.js';
import { setReadOnly } from './replication.js';
import { readReplicaStatus } from './status.js';
import { killAppSessions } from './sessions.js';
import { describeDifferences, verifyData } from './verify.js';
import { waitForExecuted } from './wait-position.js';
import type { WriteBlocker } from './write-block.js';

export interface CutoverDeps {
  source: Conn;
  target: Conn;
  sourceDialect: Dialect;
  targetDialect: Dialect;
  input: MigrationInput;
  blocker: WriteBlocker;
  /** Users whose grants are crossmove's (admin users, replication users): left out of the grants diff. */
  crossmoveUsers: string[];
  /** Connection ids on the source that are crossmove's own (besides `source`): never killed. */
  spareSourceIds?: number[];
  /** Local/bench: stop a background heartbeat writer before writes are blocked. */
  beforeBlock?: () => Promise<void>;
}

class RollBack extends Error {}

export async function runCutover(deps: CutoverDeps): Promise<CutoverResult> {
  const { source, target, input } = deps;
  const schema = input.names.heartbeatSchema;
  const marker = await readCutoverMarker(target, schema, input.migrationId);
  if (marker?.phase === 'done' && marker.result) {
    logger.info('cutover already done for this migration: returning its result', { migrationId: input.migrationId });
    return marker.result;
  }
  if (marker?.phase === 'past-point-of-no-return' && marker.result) return finishAfterCrash(deps, marker.result);
  if (marker?.phase === 'in-progress') await undoAfterCrash(deps, marker);

  const steps: CutoverResult['steps'] = [];
  const step = async <T>(name: string, details: Record<string, unknown>, fn: () => Promise<T>): Promise<T> => {
    logStep(`cutover: ${name}`, details);
    const t = performance.now();
    try {
      return await fn();
    } finally {
      steps.push({ step: name, ms: Math.round((performance.now() - t) * 10) / 10 });
    }
  };

  await step('check that replication is healthy and lag is under the limit', { maxLagSeconds: input.replication.maxLagSeconds }, async () => {
    let check;
    try {
      check = await checkReplication(source, target, deps.targetDialect, input, { activeWaitMs: Math.max(1000, input.replication.maxLagSeconds * 2000) });
    } catch (err) {
      throw new CutoverNotReadyError(`Cutover refused, nothing changed: replication is not healthy (${(err as Error).name}: ${redact((err as Error).message)})`);
    }
    if (!check.healthy || !check.underLimit) {
      throw new CutoverNotReadyError(
        `Cutover refused, nothing changed: ${!check.healthy ? 'replication is not running' : `heartbeat lag ${check.heartbeatLagMs} ms is above replication.maxLagSeconds (${input.replication.maxLagSeconds} s)`}. Wait for the lag to drop and approve again.`,
      );
    }
  });

  const budgetMs = input.cutover.catchUpTimeoutSeconds * 1000;
  const reverse = input.cutover.reverseReplication;
  let blocked = false;
  let replicationStopped = false;
  let pastPonr = false;
  let blockedAt = 0;
  let finalSourcePosition: BinlogPosition | undefined;
  let targetPositionAtSwitch: BinlogPosition | null = null;
  let verified = { tablesVerified: 0, checksumsMatch: null as boolean | null };
  let grantLines: string[] = [];

  const deadline = () => blockedAt + budgetMs;
  const overBudget = (what: string) => {
    if (Date.now() > deadline()) throw new RollBack(`the ${input.cutover.catchUpTimeoutSeconds} s budget (cutover.catchUpTimeoutSeconds) ran out ${what}`);
  };

  const blockPlan = await deps.blocker.plan();
  await writeCutoverMarker(target, schema, input.migrationId, { phase: 'in-progress', result: null, blockState: blockPlan });

  let diff: Awaited<ReturnType<typeof diffGrants>> | undefined;
  try {
    if (deps.beforeBlock) await step('stop the heartbeat writer', {}, deps.beforeBlock);
    blockedAt = Date.now();
    blocked = true; // set before the call: a block that half-worked is still undone
    await step('block writes on the source', { method: deps.blocker.method }, () => deps.blocker.block(deadline()));
    await step("kill the application's sessions on the source", { keepUsers: input.cutover.writeBlock?.keepUsers ?? [] }, async () => {
      const killed = await killAppSessions(source, deps.sourceDialect, input.cutover.writeBlock?.keepUsers ?? [], { spareIds: deps.spareSourceIds, deadline: deadline() });
      if (!killed.gone) {
        throw new RollBack(
          `killed sessions ${killed.remaining.map((r) => `${r.id} (${r.user})`).join(', ')} were still open on the source when the ${input.cutover.catchUpTimeoutSeconds} s budget (cutover.catchUpTimeoutSeconds) ran out`,
        );
      }
    });
    finalSourcePosition = await step("read the source's final binlog position", {}, async () => {
      const pos = await binlogStatus(source);
      if (!pos) throw new RollBack('SHOW MASTER STATUS returned nothing on the source (binary logging off?)');
      return pos;
    });
    const waited = await step('wait until the target executed that position', { position: finalSourcePosition }, () =>
      waitForExecuted(target, deps.targetDialect, finalSourcePosition!, deadline(), input.replication.binlogRetentionHours),
    );
    if (!waited.reached) throw new RollBack(waited.why);
    replicationStopped = true; // before the call: a stop that failed midway is still restarted on rollback
    await step('stop replication on the target', {}, () => deps.targetDialect.stop(target));
    targetPositionAtSwitch = await step("capture the target's binlog position (reverse replication starts there)", { reverseReplication: reverse }, async () => {
      const pos = await binlogStatus(target);
      // Only reverse replication needs the target's binlog.
      if (!pos && reverse) throw new RollBack('SHOW MASTER STATUS returned nothing on the target: enable binary logging on the target for reverse replication (or set cutover.reverseReplication to false)');
      return pos;
    });
    overBudget('before verification');
    verified = await step('verify the data', { verify: input.cutover.verify }, async () => {
      const r = await verifyData(source, target, input.cutover.verify, {
        excludeSchemas: [schema],
        onlySchemas: input.initialLoad.method === 'logical' ? input.initialLoad.schemas : undefined,
        timeoutMs: Math.max(1000, deadline() - Date.now()),
      });
      if (r.differences.length) throw new RollBack(`VerificationFailedError: source and target differ: ${describeDifferences(r.differences)}`);
      return { tablesVerified: r.tablesVerified, checksumsMatch: r.checksumsMatch };
    });
    diff = await step('compare application users and grants', {}, () => diffGrants(source, target, deps.crossmoveUsers));
    grantLines = diff.lines;
    await step('check that the source binlog stopped moving', { finalSourcePosition }, async () => {
      // A session the block missed (kept user, a write that slipped in) would be lost after the switch.
      const now = await binlogStatus(source);
      if (!now || now.file !== finalSourcePosition!.file || now.position !== finalSourcePosition!.position) {
        throw new RollBack(
          `the source binlog moved from ${finalSourcePosition!.file}:${finalSourcePosition!.position} to ${now?.file}:${now?.position} after writes were blocked: a session still writes (check cutover.writeBlock.keepUsers and the write block)`,
        );
      }
    });
    overBudget('after verification');

    await writeCutoverMarker(target, schema, input.migrationId, {
      phase: 'past-point-of-no-return',
      result: resultOf(),
      blockState: blockPlan,
    });
    pastPonr = true;
    logger.warn('cutover: POINT OF NO RETURN: forgetting the external source and making the target writable; from here the target is the primary', {
      finalSourcePosition,
      targetPositionAtSwitch,
    });
    await step('reset the external source on the target', {}, () => deps.targetDialect.reset(target));
    await step('make the target writable', {}, () => setReadOnly(target, deps.targetDialect, false));
  } catch (err) {
    if (!blocked) throw err;
    const why = err instanceof RollBack ? err.message : `${(err as Error).name}: ${redact((err as Error).message)}`;
    if (pastPonr) {
      // Never unblock the source here: the target may already take writes. A retry finishes the switch.
      throw new CutoverIncompleteError(
        `Cutover passed its point of no return but did not finish (${why}). The source stays blocked; the next attempt finishes the switch (retry the "Cut over" step).`,
      );
    }
    await rollBack(deps, blockPlan, replicationStopped, why);
    throw new CutoverRolledBackError(
      `Cutover rolled back: ${why}. The source is writable again and replication is running; nothing was switched. ` +
        (/catchUpTimeoutSeconds/.test(why)
          ? 'Wait until the lag is lower, or raise cutover.catchUpTimeoutSeconds, then start the cutover again.'
          : 'Fix the cause, then start the cutover again.'),
    );
  }

  // After the switch: nothing here may undo it, so failures are reported, not thrown.
  grantLines = [...grantLines, ...(await afterSwitch(deps, diff, steps))];
  const result = resultOf();
  try {
    await writeCutoverMarker(target, schema, input.migrationId, { phase: 'done', result, blockState: null });
  } catch (err) {
    throw new CutoverIncompleteError(`Cutover switched to the target but could not record it (${(err as Error).name}: ${redact((err as Error).message)}); retry the "Cut over" step.`);
  }
  return result;

  function resultOf(): CutoverResult {
    return {
      ok: true,
      rolledBack: false,
      writeBlockedMs: Date.now() - blockedAt,
      finalSourcePosition: finalSourcePosition!,
      // null only when the target has no binlog and reverse replication is off.
      targetPositionAtSwitch,
      tablesVerified: verified.tablesVerified,
      checksumsMatch: verified.checksumsMatch,
      grantDifferences: grantLines,
      steps: [...steps],
    };
  }
}

/** A previous invocation died before the point of no return: undo its block, resume replication. */
async function undoAfterCrash(deps: CutoverDeps, marker: CutoverMarker): Promise<void> {
  logStep('cutover: a previous attempt stopped before the point of no return: undo its write block and resume replication', {
    method: deps.blocker.method,
  });
  try {
    await deps.blocker.undo(marker.blockState);
    await resumeReplication(deps);
    await clearCutoverMarker(deps.target, deps.input.names.heartbeatSchema, deps.input.migrationId);
  } catch (err) {
    throw new CutoverRollbackFailedError(
      redact(`A previous cutover attempt stopped midway and undoing it failed: ${(err as Error).message}. Act now: make the source writable and start replication on the target by hand.`),
    );
  }
}

async function waitForIoThread(deps: CutoverDeps, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if ((await readReplicaStatus(deps.target, deps.targetDialect))?.ioRunning) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A previous invocation died after the point of no return: finish switching to the target. */
async function finishAfterCrash(deps: CutoverDeps, result: CutoverResult): Promise<CutoverResult> {
  logStep('cutover: a previous attempt passed the point of no return: finishing it', {});
  const status = await readReplicaStatus(deps.target, deps.targetDialect);
  if (status) {
    if (status.sqlRunning || status.ioState !== 'No') await deps.targetDialect.stop(deps.target);
    await deps.targetDialect.reset(deps.target);
  }
  await setReadOnly(deps.target, deps.targetDialect, false);
  // What the dead invocation may not have reached (never fatal: the switch is done).
  const diff = deps.input.cutover.applyMissingGrants ? await diffGrants(deps.source, deps.target, deps.crossmoveUsers).catch(() => undefined) : undefined;
  const finished = { ...result, grantDifferences: [...result.grantDifferences, ...(await afterSwitch(deps, diff, []))] };
  await writeCutoverMarker(deps.target, deps.input.names.heartbeatSchema, deps.input.migrationId, { phase: 'done', result: finished, blockState: null });
  return finished;
}

async function rollBack(deps: CutoverDeps, blockPlan: unknown, replicationStopped: boolean, why: string): Promise<void> {
  logStep('cutover: roll back', { why });
  const failures: string[] = [];
  if (replicationStopped) {
    await resumeReplication(deps).catch((e: Error) => failures.push(`restarting replication on the target: ${e.message}`));
  }
  // From the stored plan, not from what this invocation believes it did: a block call that failed
  // may still have been applied.
  await deps.blocker.undo(blockPlan).catch((e: Error) => failures.push(`making the source writable (${deps.blocker.method}): ${e.message}`));
  if (!failures.length) {
    await clearCutoverMarker(deps.target, deps.input.names.heartbeatSchema, deps.input.migrationId).catch((e: Error) =>
      failures.push(`clearing the in-progress marker on the target: ${e.message}`),
    );
  }
  if (failures.length) {
    throw new CutoverRollbackFailedError(
      redact(`Cutover failed (${why}) AND the rollback failed: ${failures.join('; ')}. Act now: make the source writable and start replication on the target by hand.`),
    );
  }
}

/** Starts replication if it is not running, and waits (bounded) for the IO thread to connect. */
async function resumeReplication(deps: CutoverDeps): Promise<void> {
  const status = await readReplicaStatus(deps.target, deps.targetDialect);
  if (status && (!status.sqlRunning || status.ioState === 'No')) {
    await deps.targetDialect.start(deps.target);
    await waitForIoThread(deps, 5_000);
  }
}

/** Missing users/grants applied (when asked) and events enabled, after the switch; returns report lines for what failed. */
async function afterSwitch(deps: CutoverDeps, diff: Awaited<ReturnType<typeof diffGrants>> | undefined, steps: CutoverResult['steps']): Promise<string[]> {
  const lines: string[] = [];
  const timed = async (name: string, fn: () => Promise<void>) => {
    logStep(`cutover: ${name}`, {});
    const t = performance.now();
    try {
      await fn();
    } catch (err) {
      lines.push(`could not ${name} (do it by hand): ${(err as Error).name}: ${redact((err as Error).message)}`);
      logger.warn(`cutover: could not ${name}`, { error: redact((err as Error).message) });
    } finally {
      steps.push({ step: name, ms: Math.round((performance.now() - t) * 10) / 10 });
    }
  };
  if (deps.input.cutover.applyMissingGrants && diff && (diff.missingUsers.length || diff.missingGrants.length)) {
    await timed('apply missing users and grants on the target', () => applyGrantDiff(deps.source, deps.target, diff));
  }
  if (deps.input.initialLoad.method === 'logical') {
    await timed('enable the events the copy created DISABLE ON SLAVE', async () => {
      const enabled = await enableCopiedEvents(deps.source, deps.target, deps.input.initialLoad.schemas ?? []);
      if (enabled.length) logger.info('cutover: events enabled on the target', { events: enabled });
    });
  }
  return lines;
}
