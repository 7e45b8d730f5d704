// The cutover critical section: ONE bounded invocation (Vitess SwitchTraffic / RDS Blue/Green style).
// Steps are logged before they run. Until the point of no return every failure rolls back (source
// writable again, replication resumed) and throws CutoverRolledBackError; after it, the target is the
// primary. A marker row on the target (cutover-marker.ts) makes a second invocation return the first
// one's result, and lets an invocation after a crash undo or finish what the dead one started.
import { CutoverNotReadyError, CutoverRollbackFailedError, CutoverRolledBackError } from '../errors.js';
import type { MigrationInput } from '../input/validate.js';
import { logger, logStep } from '../logger.js';
import { redact } from '../redact.js';
import type { BinlogPosition, CutoverResult } from '../state.js';
import { checkReplication } from './check.js';
import type { Conn } from './connection.js';
import { clearCutoverMarker, readCutoverMarker, writeCutoverMarker, type CutoverMarker } from './cutover-marker.js';
import { binlogStatus, type Dialect } from './dialect.js';
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
  /** Users whose sessions and grants are crossmove's (admin users, replication users). */
  crossmoveUsers: string[];
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
  let blocked = false;
  let replicationStopped = false;
  let blockedAt = 0;
  let finalSourcePosition: BinlogPosition | undefined;
  let targetPositionAtSwitch: BinlogPosition | undefined;
  let verified = { tablesVerified: 0, checksumsMatch: null as boolean | null };
  let grantLines: string[] = [];

  const deadline = () => blockedAt + budgetMs;
  const overBudget = (what: string) => {
    if (Date.now() > deadline()) throw new RollBack(`the ${input.cutover.catchUpTimeoutSeconds} s budget (cutover.catchUpTimeoutSeconds) ran out ${what}`);
  };

  const blockPlan = await deps.blocker.plan();
  await writeCutoverMarker(target, schema, input.migrationId, { phase: 'in-progress', result: null, blockState: blockPlan });

  try {
    if (deps.beforeBlock) await step('stop the heartbeat writer', {}, deps.beforeBlock);
    blockedAt = Date.now();
    blocked = true; // set before the call: a block that half-worked is still undone
    await step('block writes on the source', { method: deps.blocker.method }, () => deps.blocker.block());
    await step("kill the application's sessions on the source", { keepUsers: input.cutover.writeBlock?.keepUsers ?? [] }, () =>
      killAppSessions(source, deps.sourceDialect, [...(input.cutover.writeBlock?.keepUsers ?? []), ...deps.crossmoveUsers]),
    );
    finalSourcePosition = await step("read the source's final binlog position", {}, async () => {
      const pos = await binlogStatus(source);
      if (!pos) throw new RollBack('SHOW MASTER STATUS returned nothing on the source (binary logging off?)');
      return pos;
    });
    const waited = await step('wait until the target executed that position', { position: finalSourcePosition }, () =>
      waitForExecuted(target, deps.targetDialect, finalSourcePosition!, deadline(), input.replication.binlogRetentionHours),
    );
    if (!waited.reached) throw new RollBack(waited.why);
    await step('stop replication on the target', {}, () => deps.targetDialect.stop(target));
    replicationStopped = true;
    targetPositionAtSwitch = await step("capture the target's binlog position (reverse replication starts there)", {}, async () => {
      const pos = await binlogStatus(target);
      if (!pos) throw new RollBack('SHOW MASTER STATUS returned nothing on the target: enable binary logging on the target for reverse replication');
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
    const diff = await step('compare application users and grants', {}, () => diffGrants(source, target, deps.crossmoveUsers));
    grantLines = diff.lines;
    overBudget('after verification');

    await writeCutoverMarker(target, schema, input.migrationId, {
      phase: 'past-point-of-no-return',
      result: resultOf(),
      blockState: blockPlan,
    });
    logger.warn('cutover: POINT OF NO RETURN: forgetting the external source and making the target writable; from here the target is the primary', {
      finalSourcePosition,
      targetPositionAtSwitch,
    });
    await step('reset the external source on the target', {}, () => deps.targetDialect.reset(target));
    if (input.cutover.applyMissingGrants && (diff.missingUsers.length || diff.missingGrants.length)) {
      await step('apply missing users and grants on the target', { count: diff.lines.length }, () => applyGrantDiff(source, target, diff));
    }
    await step('make the target writable', {}, () => setReadOnly(target, deps.targetDialect, false));
  } catch (err) {
    if (!blocked) throw err;
    const why = err instanceof RollBack ? err.message : `${(err as Error).name}: ${redact((err as Error).message)}`;
    await rollBack(deps, replicationStopped, why);
    throw new CutoverRolledBackError(
      `Cutover rolled back: ${why}. The source is writable again and replication is running; nothing was switched. ` +
        (/catchUpTimeoutSeconds/.test(why)
          ? 'Wait until the lag is lower, or raise cutover.catchUpTimeoutSeconds, then start the cutover again.'
          : 'Fix the cause, then start the cutover again.'),
    );
  }

  const result = resultOf();
  await writeCutoverMarker(target, schema, input.migrationId, { phase: 'done', result, blockState: null });
  return result;

  function resultOf(): CutoverResult {
    return {
      ok: true,
      rolledBack: false,
      writeBlockedMs: Date.now() - blockedAt,
      finalSourcePosition: finalSourcePosition!,
      targetPositionAtSwitch: targetPositionAtSwitch!,
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
    const status = await readReplicaStatus(deps.target, deps.targetDialect);
    if (status && (!status.sqlRunning || status.ioState === 'No')) {
      await deps.targetDialect.start(deps.target);
      await waitForIoThread(deps, 5_000);
    }
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
  await writeCutoverMarker(deps.target, deps.input.names.heartbeatSchema, deps.input.migrationId, { phase: 'done', result, blockState: null });
  return result;
}

async function rollBack(deps: CutoverDeps, replicationStopped: boolean, why: string): Promise<void> {
  logStep('cutover: roll back', { why });
  const failures: string[] = [];
  if (replicationStopped) {
    await deps.targetDialect.start(deps.target).catch((e: Error) => failures.push(`restarting replication on the target: ${e.message}`));
  }
  await deps.blocker.unblock().catch((e: Error) => failures.push(`making the source writable (${deps.blocker.method}): ${e.message}`));
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

