// "Plan the copy": creates the copied schemas' tables (plain secondary keys left for "Finish the copy"),
// views and routines on the target, and plans the rows as key ranges in the target's cursor store
// (job `copy`): tables split by bytes so that every worker stays busy to the end, the longest ranges
// first. Idempotent: a job already planned for the same frozen point is reused as it stands (a re-run
// resumes at the ranges not done); a job for another point (the frozen source moved on, or a live
// snapshot that is gone) is discarded with the schemas it created, and planned again.
import { LogicalCopyError, ResourceConflictError, ResourceNotFoundError } from '../errors.js';
import { logger, logStep } from '../logger.js';
import type { Endpoint } from '../endpoints.js';
import type { DbCredentials } from '../secrets.js';
import { describeSchemaTables, type TableFacts } from '../chunks/keys.js';
import { longestFirst, planRanges } from '../chunks/planner.js';
import type { PlannedRange } from '../chunks/cursor-store.js';
import type { BinlogPosition, CopyPlanResult, FrozenFingerprint, FrozenSourceKind } from '../state.js';
import { closeQuietly, openConnection, q, type Conn } from './connections.js';
import { createRoutines, createTables, createViews, type DeferredKeys } from './ddl.js';
import { describeTables, listSchemas, readSchemaObjects } from './inspect.js';
import { copyPositionPurged, objectCount, readMarker, writeMarker } from './marker.js';
import { COPY_JOB, copyPosition, openStore, readCopyPlan, tableKey, type CopyJobPlan } from './copy-job.js';
import { heldLiveSnapshot, liveKey, releaseLiveSnapshot } from './frozen-source/live.js';
import { localInfileAllowed, maxAllowedPacket, targetSession } from './target-session.js';
import { rangeBytesFor } from './range-sizing.js';
import type { RowFormat } from './values.js';

export interface DbSide {
  endpoint: Endpoint;
  credentials: DbCredentials;
}

export interface PlanCopyOptions {
  migrationId: string;
  /** Where the rows are read: the frozen source (or the live source). */
  from: DbSide;
  /** The source the target will replicate from (its binlogs must still hold the copy's position). */
  source: DbSide;
  target: DbSide;
  frozen: { kind: FrozenSourceKind; position: BinlogPosition | null; fingerprint: FrozenFingerprint | null };
  /** Default: every non-system schema of the source. */
  schemas?: string[];
  parallelism: number;
  /** Bytes per sub-chunk (one target transaction). */
  chunkBytes: number;
  /** Rows per sub-chunk at most. */
  maxRows: number;
  /** One multi-row INSERT or LOAD DATA (default DEFAULT_BATCH_BYTES, capped by the target's max_allowed_packet). */
  batchBytes?: number;
  /** How rows are written (default: LOAD DATA LOCAL when the target allows it, else INSERT). */
  format?: RowFormat;
}

/**
 * One LOAD DATA (or multi-row INSERT) by default. A lane reads its next batch while the target loads
 * the one before, so the target waits for the first batch of every sub-chunk and the source for the
 * last: with 2 MiB batches a sub-chunk of 50,000 rows was only 2-3 batches, mostly those waits. At
 * 256 KiB the pipeline stays full (bench:load, two interleaved pairs of runs: 10-15% less wall time, no more CPU).
 */
const DEFAULT_BATCH_BYTES = 256 * 1024;

export async function planCopy(opts: PlanCopyOptions): Promise<CopyPlanResult> {
  const conns: Conn[] = [];
  const open = async (side: DbSide, name: 'source' | 'target') => {
    const c = await openConnection(side.endpoint, side.credentials, name).catch((err: Error) => {
      throw new LogicalCopyError(`cannot connect to the ${name} ${side.endpoint.host}:${side.endpoint.port}: ${err.message}`);
    });
    conns.push(c);
    return c;
  };
  try {
    const src = await open(opts.from, 'source');
    const dst = await open(opts.target, 'target');
    await targetSession(dst);
    const storeConn = await open(opts.target, 'target');
    await targetSession(storeConn);
    const store = await openStore(storeConn, opts.migrationId);

    const existing = await readCopyPlan(store);
    if (existing) {
      const reason = await obsolete(existing.plan, existing.state, opts, () => open(opts.source, 'source'), dst);
      if (!reason) return summary(existing.plan, true);
      logStep('discard the copy planned before', { reason });
      await releaseLiveSnapshot(liveKey(opts.migrationId, COPY_JOB));
      await store.deleteJob(COPY_JOB);
    }

    const schemas = await listSchemas(src, opts.schemas).catch((err: { missing?: string[] }) => {
      if (err.missing) throw new ResourceNotFoundError(`initialLoad.schemas: schema(s) ${err.missing.join(', ')} do not exist on the source`);
      throw err;
    });
    const marker = await readMarker(dst, opts.migrationId);
    for (const schema of schemas) {
      const count = await objectCount(dst, schema);
      if (count === null) continue;
      if (count > 0 && !marker?.schemas.includes(schema)) {
        throw new ResourceConflictError(
          `schema ${schema} already exists on the target with ${count} object(s) not copied by migration ${opts.migrationId}: drop it or choose other schemas (initialLoad.schemas)`,
        );
      }
      // Ours from an interrupted or obsolete plan, or empty: start it afresh.
      await dst.query(`DROP DATABASE ${q(schema)}`);
    }
    await writeMarker(dst, opts.migrationId, { schemas, status: 'copying', result: null });
    await store.createJob(COPY_JOB, 'copy', { planning: true });

    const deferred: DeferredKeys[] = [];
    for (const schema of schemas) {
      const objects = await readSchemaObjects(src, schema);
      await step(`creating the tables of ${schema}`, async () => void deferred.push(...(await createTables(dst, objects))));
      await step(`creating the views of ${schema}`, () => createViews(dst, objects));
      await step(`creating the routines of ${schema}`, () => createRoutines(dst, objects));
    }

    const columns = await describeTables(src, schemas);
    const facts: TableFacts[] = [];
    for (const schema of schemas) facts.push(...(await describeSchemaTables(src, schema)));
    const totalBytes = facts.reduce((n, t) => n + t.dataBytes, 0);
    const rangeBytes = rangeBytesFor(totalBytes, opts.parallelism, opts.chunkBytes);
    const planned: PlannedRange[] = [];
    const wholeTables: string[] = [];
    for (const t of facts) {
      const key = t.choice.usable ? t.choice.key : null;
      if (!key) {
        wholeTables.push(`${tableKey(t.table)} (${(t.choice as { detail: string }).detail})`);
        planned.push({ table: t.table, key: null, range: { lo: null, hi: null }, estimatedRows: t.estimatedRows, estimatedBytes: t.dataBytes });
        continue;
      }
      let pieces = Math.max(1, Math.ceil(t.dataBytes / rangeBytes));
      // Split points of a key that does not start with an integer cost one index walk each: bounded.
      if (!key.integerLeading) pieces = Math.min(pieces, 4 * Math.max(1, opts.parallelism));
      const ranges = await planRanges(src, t.table, key, { pieces, estimatedRows: t.estimatedRows });
      for (const range of ranges) {
        planned.push({ table: t.table, key, range, estimatedRows: t.estimatedRows / ranges.length, estimatedBytes: t.dataBytes / ranges.length });
      }
    }
    const ordered = longestFirst(planned);
    await store.addRanges(COPY_JOB, ordered);

    const maxPacket = await maxAllowedPacket(dst);
    const plan: CopyJobPlan = {
      frozen: opts.frozen,
      schemas,
      tables: Object.fromEntries(
        columns.map((c) => {
          const f = facts.find((x) => x.table.schema === c.schema && x.table.name === c.name);
          return [tableKey(c), { columns: c.columns, columnTypes: c.columnTypes, avgRowBytes: f?.avgRowBytes ?? 100 }];
        }),
      ),
      deferred,
      format: opts.format ?? ((await localInfileAllowed(dst)) ? 'load' : 'insert'),
      batchBytes: Math.max(64 * 1024, Math.min(opts.batchBytes ?? DEFAULT_BATCH_BYTES, Math.floor(maxPacket / 2))),
      maxStatementBytes: Math.floor(maxPacket * 0.9),
      chunkBytes: opts.chunkBytes,
      maxRows: opts.maxRows,
      totals: {
        tables: facts.length,
        ranges: ordered.length,
        rows: Math.round(facts.reduce((n, t) => n + t.estimatedRows, 0)),
        bytes: Math.round(totalBytes),
      },
      wholeTables,
      startedAt: new Date().toISOString(),
    };
    await store.markReady(COPY_JOB, plan);
    logger.info('copy planned', { ...plan.totals, wholeTables: wholeTables.length, format: plan.format });
    return summary(plan, false);
  } finally {
    await closeQuietly(conns);
  }
}

/** Why a stored plan cannot be resumed (null: it can). */
async function obsolete(plan: CopyJobPlan, state: string, opts: PlanCopyOptions, openSource: () => Promise<Conn>, target: Conn): Promise<string | null> {
  if (state === 'planning' || !plan.frozen) return 'its planning did not finish';
  if (plan.frozen.kind !== opts.frozen.kind) return `it copies from a ${plan.frozen.kind} source, this run from a ${opts.frozen.kind} one`;
  const a = plan.frozen.position;
  const b = opts.frozen.position;
  if ((a?.file ?? null) !== (b?.file ?? null) || (a?.position ?? null) !== (b?.position ?? null)) {
    return `it copies the frozen point ${a ? `${a.file}:${a.position}` : '(none)'}, the frozen source now stands at ${b ? `${b.file}:${b.position}` : '(none)'}`;
  }
  if (plan.live && !heldLiveSnapshot(liveKey(opts.migrationId, COPY_JOB), plan.live.snapshotId) && state !== 'done') {
    return 'its live snapshot ended with the process that held it';
  }
  // A finished copy whose position the source no longer holds, and that no running replica is past,
  // cannot be replicated from (replication failed with BinlogPurgedError): copy again.
  const position = copyPosition(plan);
  if (state === 'done' && position && (await copyPositionPurged(await openSource(), target, position))) return `its binlog position ${position.file} is purged from the source`;
  return null;
}

function summary(plan: CopyJobPlan, reused: boolean): CopyPlanResult {
  return {
    job: COPY_JOB,
    schemas: plan.schemas,
    tables: plan.totals.tables,
    ranges: plan.totals.ranges,
    estimatedRows: plan.totals.rows,
    estimatedBytes: plan.totals.bytes,
    wholeTables: plan.wholeTables,
    reused,
  };
}

async function step(what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    throw new LogicalCopyError(`${what} on the target failed: ${(err as Error).message}`);
  }
}
