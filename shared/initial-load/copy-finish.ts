// "Finish the copy" (polled until done): once every range of the copy is done, the triggers and events
// are created (only now, so the load neither fired triggers nor raced events; events DISABLE ON SLAVE,
// as replication would create them), the frozen source is let go (a live snapshot closed; a named
// replica started again by the caller), and the secondary keys are built (secondary-keys.ts, across
// as many polls as a huge table needs). Then the copy is recorded done on the target with its result:
// the binlog position replication starts from.
import { LogicalCopyError } from '../errors.js';
import { logger } from '../logger.js';
import type { CopyFinishResult, LogicalCopyResult } from '../state.js';
import { closeQuietly, openConnection, type Conn } from './connections.js';
import { COPY_JOB, copyPosition, openStore, readCopyPlan } from './copy-job.js';
import type { DbSide } from './copy-plan.js';
import { createTriggersAndEvents } from './ddl.js';
import { liveKey, releaseLiveSnapshot } from './frozen-source/live.js';
import { readSchemaObjects } from './inspect.js';
import { readMarker, writeMarker } from './marker.js';
import { buildSecondaryKeys } from './secondary-keys.js';
import { targetSession } from './target-session.js';

export interface FinishCopyOptions {
  migrationId: string;
  from: DbSide;
  target: DbSide;
  /** ALTERs at once. */
  parallel: number;
  /** How long this call may wait for the keys (the rest of the Lambda budget; Infinity in-process). */
  waitMs: number;
  attempts: number;
  /** Called once the rows are all in, before the keys (the named replica is started again). */
  releaseFrozen?: () => Promise<void>;
  onPhase?: (phase: 'objects' | 'keys' | 'done') => void;
}

export async function finishCopy(opts: FinishCopyOptions): Promise<CopyFinishResult> {
  const conns: Conn[] = [];
  const open = async (side: DbSide, name: 'source' | 'target') => {
    const c = await openConnection(side.endpoint, side.credentials, name);
    conns.push(c);
    return c;
  };
  try {
    const dst = await open(opts.target, 'target');
    await targetSession(dst);
    const store = await openStore(dst, opts.migrationId);
    const stored = await readCopyPlan(store);
    if (!stored) throw new LogicalCopyError(`migration ${opts.migrationId} has no copy planned on the target`);
    const plan = stored.plan;
    const progress = await store.progress(COPY_JOB);
    if (!progress.done) {
      throw new LogicalCopyError(`the copy is not done: ${progress.rangesTotal - progress.rangesDone} of ${progress.rangesTotal} ranges are left ("Copy the data for one window" runs until none is)`);
    }
    const position = copyPosition(plan);
    if (!position) throw new LogicalCopyError('the copy has no binlog position (no frozen point and no snapshot)');
    const marker = await readMarker(dst, opts.migrationId);
    const result = (): LogicalCopyResult => ({
      position,
      tables: plan.totals.tables,
      rows: progress.rows,
      bytes: progress.bytes,
      ms: Math.max(0, Date.now() - new Date(plan.startedAt).getTime()),
    });
    if (stored.state === 'done' && marker?.status === 'done' && marker.result) {
      return { done: true, attempts: opts.attempts, status: 'copied', keys: { tables: plan.deferred.length, built: plan.deferred.length, building: 0 }, ...marker.result };
    }

    if (!plan.objectsCreated) {
      opts.onPhase?.('objects');
      const src = await open(opts.from, 'source');
      for (const schema of plan.schemas) {
        const objects = await readSchemaObjects(src, schema);
        try {
          await createTriggersAndEvents(dst, objects);
        } catch (err) {
          throw new LogicalCopyError(`creating the triggers and events of ${schema} on the target failed: ${(err as Error).message}`);
        }
      }
      plan.objectsCreated = true;
      await store.updatePlan(COPY_JOB, plan);
    }
    // The rows are all in: the source no longer needs to stay frozen (or its snapshot open).
    await releaseLiveSnapshot(liveKey(opts.migrationId, COPY_JOB));
    await opts.releaseFrozen?.();

    opts.onPhase?.('keys');
    const keys = await buildSecondaryKeys(
      dst,
      // Not in `conns`: closing it would wait for its ALTER; secondary-keys.ts closes it when it ends.
      async () => {
        const c = await openConnection(opts.target.endpoint, opts.target.credentials, 'target');
        await targetSession(c);
        return c;
      },
      opts.migrationId,
      plan.deferred,
      { parallel: Math.max(1, opts.parallel), waitMs: opts.waitMs },
    );
    if (keys.built < keys.tables) {
      return { done: false, attempts: opts.attempts, status: `building the secondary keys of ${keys.tables - keys.built} table(s)`, keys };
    }
    const done = result();
    await writeMarker(dst, opts.migrationId, { schemas: plan.schemas, status: 'done', result: done });
    await store.markDone(COPY_JOB);
    logger.info('copy finished', { ...done, chunksCopiedTwice: progress.chunksCopiedTwice });
    opts.onPhase?.('done');
    return { done: true, attempts: opts.attempts, status: 'copied', keys, ...done };
  } finally {
    await closeQuietly(conns);
  }
}
