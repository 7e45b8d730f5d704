// The fallback critical section: the cutover run backwards through reverse replication (Vitess
// ReverseTraffic). ONE bounded invocation; steps are logged before they run. Until the point of no
// return every failure rolls back (target writable again, reverse replication resumed) and throws
// FallbackRolledBackError; after it the source is the primary again. A marker table on the source
// (fallback-marker.ts) makes a second invocation return the first one's result and lets an
// invocation after a crash undo or finish what the dead one started. It composes the cutover's pieces
// (check, write blocker, session killer, position wait, verify, grants diff) rather than
// parameterising cutover.ts, whose markers, budget wording and crash recovery are tied to its direction.
import { FallbackNotReadyError, FallbackRollbackFailedError, FallbackRolledBackError } from '../errors.js';
import type { MigrationInput } from '../input/validate.js';
import { logger, logStep } from '../logger.js';
import { redact } from '../redact.js';
import type { BinlogPosition, FallbackResult } from '../state.js';
import { checkReplication } from './check.js';
import type { Conn } from './connection.js';
import { binlogStatus, type Dialect } from './dialect.js';
import { readFallbackMarker, writeFallbackMarker, type FallbackMarker } from './fallback-marker.js';
import { diffGrants } from './grants.js';
import { reverseUserName } from './replication-user.js';
import { readReplicaStatus } from './status.js';
import { killAppSessions } from './sessions.js';
import { verifyData, type TableDiff } from './verify.js';
import { waitForExecuted } from './wait-position.js';
import type { WriteBlocker } from './write-block.js';

export interface FallbackDeps {
  /** The old source: a replica of the target now, the primary again after the fallback. */
  source: Conn;
  target: Conn;
  sourceDialect: Dialect;
  targetDialect: Dialect;
  input: MigrationInput;
  /** Blocks writes on the TARGET. */
  blocker: WriteBlocker;
  /** Makes the source writable again (undoes the cutover's write block). Runs after the point of no return. */
  enableSource: () => Promise<void>;
  /** crossmove's own users (admins, replication users): sessions kept, grants not compared. */
  crossmoveUsers: string[];
  /** Application users whose sessions on the target are not killed. */
  keepUsers?: string[];
  beforeBlock?: () => Promise<void>;
}

class RollBack extends Error {}

export async function runFallback(deps: FallbackDeps): Promise<FallbackResult> {
  const { source, target, input } = deps;
  const schema = input.names.heartbeatSchema;
  const marker = await readFallbackMarker(source, schema, input.migrationId);
  if (marker?.phase === 'done' && marker.result) {
    logger.info('fallback already done for this migration: returning its result', { migrationId: input.migrationId });
    return marker.result;
  }
  if (marker?.phase === 'past-point-of-no-return' && marker.result) return finishAfterCrash(deps, marker.result);
  if (marker?.phase === 'in-progress') await undoAfterCrash(deps, marker);

  const steps: FallbackResult['steps'] = [];
  const step = async <T>(name: string, details: Record<string, unknown>, fn: () => Promise<T>): Promise<T> => {
    logStep(`fallback: ${name}`, details);
    const t = performance.now();
    try {
      return await fn();
    } finally {
      steps.push({ step: name, ms: Math.round((performance.now() - t) * 10) / 10 });
    }
  };

  await step('check that reverse replication is healthy and lag is under the limit', { maxLagSeconds: input.replication.maxLagSeconds }, async () => {
    let check;
    try {
      // Reversed roles: the target writes the heartbeat, the source (its replica) shows it.
      check = await checkReplication(target, source, deps.sourceDialect, input, {
        activeWaitMs: Math.max(1000, input.replication.maxLagSeconds * 2000),
        replicationUser: reverseUserName(input.replication.userName),
      });
    } catch (err) {
      throw new FallbackNotReadyError(
        `Fallback refused, nothing changed: reverse replication (source <- target) is not healthy (${(err as Error).name}: ${redact((err as Error).message)}). Start it with "Start reverse replication" or fix the error, then fall back again.`,
      );
    }
    if (!check.healthy || !check.underLimit) {
      throw new FallbackNotReadyError(
        `Fallback refused, nothing changed: ${!check.healthy ? 'reverse replication is not running' : `reverse heartbeat lag ${check.heartbeatLagMs} ms is above replication.maxLagSeconds (${input.replication.maxLagSeconds} s)`}. Wait for the source to catch up and fall back again.`,
      );
    }
  });

  const budgetMs = input.cutover.catchUpTimeoutSeconds * 1000;
  let blocked = false;
  let replicationStopped = false;
  let blockedAt = 0;
  let finalTargetPosition: BinlogPosition | undefined;
  let sourcePositionAtSwitch: BinlogPosition | null = null;
  let verified = { tablesVerified: 0, checksumsMatch: null as boolean | null };
  let grantLines: string[] = [];
  const deadline = () => blockedAt + budgetMs;
  const overBudget = (what: string) => {
    if (Date.now() > deadline()) throw new RollBack(`the ${input.cutover.catchUpTimeoutSeconds} s budget (cutover.catchUpTimeoutSeconds) ran out ${what}`);
  };

  const blockPlan = await deps.blocker.plan();
  await writeFallbackMarker(source, schema, input.migrationId, { phase: 'in-progress', result: null, blockState: blockPlan });
  try {
    if (deps.beforeBlock) await step('stop the heartbeat writer', {}, deps.beforeBlock);
    blockedAt = Date.now();
    blocked = true; // before the call: a block that half-worked is still undone
    await step('block writes on the target', { method: deps.blocker.method }, () => deps.blocker.block());
    await step("kill the application's sessions on the target", { keepUsers: deps.keepUsers ?? [] }, async () => {
      const killed = await killAppSessions(target, deps.targetDialect, [...(deps.keepUsers ?? []), ...deps.crossmoveUsers], { deadline: deadline() });
      if (!killed.gone) throw new RollBack(`sessions ${killed.remaining.map((r) => `${r.id} (${r.user})`).join(', ')} were still open on the target at the end of the budget (cutover.catchUpTimeoutSeconds)`);
    });
    finalTargetPosition = await step("read the target's final binlog position", {}, async () => {
      const pos = await binlogStatus(target);
      if (!pos) throw new RollBack('SHOW MASTER STATUS returned nothing on the target (binary logging off?)');
      return pos;
    });
    const waited = await step('wait until the source executed that position', { position: finalTargetPosition }, () =>
      waitForExecuted(source, deps.sourceDialect, finalTargetPosition!, deadline(), input.replication.binlogRetentionHours),
    );
    if (!waited.reached) throw new RollBack(waited.why.replace(/the target had executed/, 'the source had executed').replace(/the source's final position/, "the target's final position"));
    await step('stop reverse replication on the source', {}, () => deps.sourceDialect.stop(source));
    replicationStopped = true;
    sourcePositionAtSwitch = await step("capture the source's binlog position", {}, () => binlogStatus(source));
    overBudget('before verification');
    verified = await step('verify the data', { verify: input.cutover.verify }, async () => {
      const r = await verifyData(target, source, input.cutover.verify, {
        excludeSchemas: [schema],
        onlySchemas: input.initialLoad.method === 'logical' ? input.initialLoad.schemas : undefined,
        timeoutMs: Math.max(1000, deadline() - Date.now()),
      });
      // verifyData's first argument (here the target) is the reference.
      if (r.differences.length) throw new RollBack(`VerificationFailedError: target and source differ: ${describeReversed(r.differences)}`);
      return { tablesVerified: r.tablesVerified, checksumsMatch: r.checksumsMatch };
    });
    grantLines = (await step('compare application users and grants', {}, () => diffGrants(target, source, deps.crossmoveUsers))).lines.map((l) =>
      l.replace('exists on the source but not on the target', 'exists on the target but not on the source').replace('lacks on the target', 'lacks on the source'),
    );
    overBudget('after verification');

    await writeFallbackMarker(source, schema, input.migrationId, { phase: 'past-point-of-no-return', result: resultOf(), blockState: blockPlan });
    logger.warn('fallback: POINT OF NO RETURN: forgetting reverse replication and making the source writable; from here the source is the primary again', {
      finalTargetPosition,
      sourcePositionAtSwitch,
    });
    await step('reset reverse replication on the source', {}, () => deps.sourceDialect.reset(source));
    await step('make the source writable', {}, deps.enableSource);
  } catch (err) {
    if (!blocked) throw err;
    const why = err instanceof RollBack ? err.message : `${(err as Error).name}: ${redact((err as Error).message)}`;
    await rollBack(deps, replicationStopped, why);
    throw new FallbackRolledBackError(
      `Fallback rolled back: ${why}. The target is writable again and reverse replication is running; the application stays on the target. ` +
        (/catchUpTimeoutSeconds/.test(why) ? 'Wait until the reverse lag is lower, or raise cutover.catchUpTimeoutSeconds, then fall back again.' : 'Fix the cause, then fall back again.'),
    );
  }
  const result = resultOf();
  await writeFallbackMarker(source, schema, input.migrationId, { phase: 'done', result, blockState: null });
  return result;

  function resultOf(): FallbackResult {
    return {
      ok: true,
      rolledBack: false,
      writeBlockedMs: Date.now() - blockedAt,
      finalTargetPosition: finalTargetPosition!,
      sourcePositionAtSwitch,
      tablesVerified: verified.tablesVerified,
      checksumsMatch: verified.checksumsMatch,
      grantDifferences: grantLines,
      steps: [...steps],
    };
  }
}

async function resumeReverse(deps: FallbackDeps): Promise<void> {
  const status = await readReplicaStatus(deps.source, deps.sourceDialect);
  if (status && (!status.sqlRunning || status.ioState === 'No')) await deps.sourceDialect.start(deps.source);
}

/** A previous invocation died before the point of no return: undo its block, resume reverse replication. */
async function undoAfterCrash(deps: FallbackDeps, marker: FallbackMarker): Promise<void> {
  logStep('fallback: a previous attempt stopped before the point of no return: undo its write block and resume reverse replication', { method: deps.blocker.method });
  try {
    await deps.blocker.undo(marker.blockState);
    await resumeReverse(deps);
    await writeFallbackMarker(deps.source, deps.input.names.heartbeatSchema, deps.input.migrationId, { phase: 'rolled-back', result: null, blockState: null });
  } catch (err) {
    throw new FallbackRollbackFailedError(
      redact(`A previous fallback attempt stopped midway and undoing it failed: ${(err as Error).message}. Act now: make the target writable and start replication on the source by hand.`),
    );
  }
}

/** A previous invocation died after the point of no return: finish switching to the source. */
async function finishAfterCrash(deps: FallbackDeps, result: FallbackResult): Promise<FallbackResult> {
  logStep('fallback: a previous attempt passed the point of no return: finishing it', {});
  const status = await readReplicaStatus(deps.source, deps.sourceDialect);
  if (status) {
    if (status.sqlRunning || status.ioState !== 'No') await deps.sourceDialect.stop(deps.source);
    await deps.sourceDialect.reset(deps.source);
  }
  await deps.enableSource();
  await writeFallbackMarker(deps.source, deps.input.names.heartbeatSchema, deps.input.migrationId, { phase: 'done', result, blockState: null });
  return result;
}

async function rollBack(deps: FallbackDeps, replicationStopped: boolean, why: string): Promise<void> {
  logStep('fallback: roll back', { why });
  const failures: string[] = [];
  if (replicationStopped) await deps.sourceDialect.start(deps.source).catch((e: Error) => failures.push(`restarting reverse replication on the source: ${e.message}`));
  await deps.blocker.unblock().catch((e: Error) => failures.push(`making the target writable (${deps.blocker.method}): ${e.message}`));
  if (!failures.length) {
    await writeFallbackMarker(deps.source, deps.input.names.heartbeatSchema, deps.input.migrationId, { phase: 'rolled-back', result: null, blockState: null }).catch((e: Error) =>
      failures.push(`clearing the in-progress marker on the source: ${e.message}`),
    );
  }
  if (failures.length) {
    throw new FallbackRollbackFailedError(
      redact(`Fallback failed (${why}) AND the rollback failed: ${failures.join('; ')}. Act now: make the target writable and start reverse replication on the source by hand.`),
    );
  }
}

function describeReversed(d: TableDiff[]): string {
  return (
    d
      .slice(0, 10)
      .map((x) => `${x.table}: rows ${x.sourceRows} on the target vs ${x.targetRows ?? 'missing'} on the source` + (x.sourceChecksum !== undefined ? `, checksum ${x.sourceChecksum} vs ${x.targetChecksum}` : ''))
      .join('; ') + (d.length > 10 ? `; and ${d.length - 10} more` : '')
  );
}
