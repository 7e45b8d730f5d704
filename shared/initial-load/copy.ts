// The logical initial load: a consistent copy of the selected schemas at ONE binlog position.
//   1. N source connections open their snapshot under a brief global read lock; the lock also yields
//      the binlog position (snapshot.ts).
//   2. Schemas, tables, views and routines are created on the target (ddl.ts).
//   3. The data of every table is copied by N workers, each on its own snapshot connection, in primary
//      key ranges of about chunkRows rows (chunks.ts, rows.ts); unique and foreign key checks are off,
//      and plain secondary keys are added only after the rows, by sorting (ddl.ts, as myloader does).
//   4. Triggers and events last, so the load neither fires triggers nor races events.
// Replication then starts from the returned position and applies exactly what the snapshot missed.
// DDL on the source while the copy runs is not supported (as with mysqldump --single-transaction).
import { LogicalCopyError, ResourceConflictError, ResourceNotFoundError, TransientError } from '../errors.js';
import type { Endpoint } from '../endpoints.js';
import type { DbCredentials } from '../secrets.js';
import type { LogicalCopyResult } from '../state.js';
import { closeQuietly, openConnection, q, skipBinlogIfAllowed, type Conn } from './connections.js';
import { addDeferredKeys, createRoutines, createTables, createTriggersAndEvents, createViews, type DeferredKeys } from './ddl.js';
import { describeTables, listSchemas, readSchemaObjects, type SchemaObjects } from './inspect.js';
import { copyPositionPurged, objectCount, readMarker, writeMarker } from './marker.js';
import { describeChunk, planChunks, scheduleOrder, type Chunk } from './chunks.js';
import { copyChunk } from './rows.js';
import type { RowFormat } from './values.js';
import { Readable } from 'node:stream';
import { openSnapshot } from './snapshot.js';
import { ProgressTracker, type ProgressListener } from './progress.js';

export interface LogicalCopyOptions {
  migrationId: string;
  source: { endpoint: Endpoint; credentials: DbCredentials };
  target: { endpoint: Endpoint; credentials: DbCredentials };
  /** Default: every non-system schema of the source. */
  schemas?: string[];
  parallelism: number;
  chunkRows: number;
  /** Size of one multi-row INSERT (default 2 MB, capped by the target's max_allowed_packet). */
  batchBytes?: number;
  onProgress?: ProgressListener;
  /** How rows are written (default: LOAD DATA LOCAL when the target allows it, else INSERT). */
  format?: RowFormat;
}

export interface LogicalCopyOutcome extends LogicalCopyResult {
  /** True when an earlier invocation had finished the copy and its result was returned. */
  reused: boolean;
  lockMs: number;
  snapshotMethod: string;
  binlogSkippedOnTarget: boolean;
  format: RowFormat | 'reused';
}

/** A connection dropped mid-copy: worth a retry (the retried copy starts afresh, see marker.ts). */
const TRANSIENT_CODES = new Set(['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);

export async function logicalCopy(options: LogicalCopyOptions): Promise<LogicalCopyOutcome> {
  try {
    return await copyOnce(options);
  } catch (err) {
    const code = (err as { code?: string }).code ?? ((err as { cause?: { code?: string } }).cause?.code);
    if (code && TRANSIENT_CODES.has(code)) throw new TransientError(`the logical copy lost its connection (${code}); it will start again`, { cause: err });
    throw err;
  }
}

async function copyOnce(options: LogicalCopyOptions): Promise<LogicalCopyOutcome> {
  const started = Date.now();
  const progress = new ProgressTracker(options.onProgress);
  const conns: Conn[] = [];
  const open = async (side: 'source' | 'target') => {
    const ep = side === 'source' ? options.source : options.target;
    const conn = await openConnection(ep.endpoint, ep.credentials, side).catch((err: Error) => {
      throw new LogicalCopyError(`cannot connect to the ${side} ${ep.endpoint.host}:${ep.endpoint.port}: ${err.message}`);
    });
    conns.push(conn);
    return conn;
  };
  try {
    const srcControl = await open('source');
    const dstControl = await open('target');
    const binlogSkipped = await skipBinlogIfAllowed(dstControl);

    const marker = await readMarker(dstControl, options.migrationId);
    // A finished copy whose binlog position is purged from the source (replication from it failed with
    // BinlogPurgedError) cannot be replicated from: copy again instead of returning it.
    if (marker?.status === 'done' && marker.result && (await copyPositionPurged(srcControl, dstControl, marker.result.position))) {
      marker.status = 'copying';
      marker.result = null;
    }
    if (marker?.status === 'done' && marker.result) {
      progress.setPhase('done');
      return { ...marker.result, reused: true, lockMs: 0, snapshotMethod: 'reused', binlogSkippedOnTarget: binlogSkipped, format: 'reused' };
    }

    const schemas = await listSchemas(srcControl, options.schemas).catch((err: { missing?: string[] }) => {
      if (err.missing) throw new ResourceNotFoundError(`initialLoad.schemas: schema(s) ${err.missing.join(', ')} do not exist on the source`);
      throw err;
    });
    for (const schema of schemas) {
      const count = await objectCount(dstControl, schema);
      if (count === null) continue;
      if (count > 0 && !marker?.schemas.includes(schema)) {
        throw new ResourceConflictError(
          `schema ${schema} already exists on the target with ${count} object(s) not copied by migration ${options.migrationId}: drop it or choose other schemas (initialLoad.schemas)`,
        );
      }
      // Ours from an interrupted attempt, or empty: start it afresh.
      await dstControl.query(`DROP DATABASE ${q(schema)}`);
    }
    await writeMarker(dstControl, options.migrationId, { schemas, status: 'copying', result: null });

    const workers: { src: Conn; dst: Conn }[] = [];
    for (let i = 0; i < options.parallelism; i++) {
      const src = await open('source');
      const dst = await open('target');
      await skipBinlogIfAllowed(dst);
      workers.push({ src, dst });
    }

    progress.setPhase('snapshot');
    const snapshot = await openSnapshot(srcControl, workers.map((w) => w.src)).catch((err: Error) => {
      throw new LogicalCopyError(`cannot take a consistent snapshot of the source: ${err.message}`);
    });
    const active = workers.slice(0, snapshot.workers.length);

    progress.setPhase('schema');
    const objects: SchemaObjects[] = [];
    for (const schema of schemas) objects.push(await readSchemaObjects(srcControl, schema));
    const deferred: DeferredKeys[] = [];
    for (const o of objects) await step(`creating the tables of ${o.schema}`, async () => void deferred.push(...(await createTables(dstControl, o))));
    for (const o of objects) await step(`creating the views of ${o.schema}`, () => createViews(dstControl, o));
    for (const o of objects) await step(`creating the routines of ${o.schema}`, () => createRoutines(dstControl, o));

    const tables = (await describeTables(srcControl, schemas)).sort((a, b) => b.dataBytes - a.dataBytes);
    progress.tablesTotal = tables.length;
    progress.rowsEstimated = tables.reduce((n, t) => n + t.estimatedRows, 0);
    // Pieces small enough that every worker stays busy to the end (about 4 per worker), never above chunkRows.
    const chunkRows = Math.max(1000, Math.min(options.chunkRows, Math.ceil(progress.rowsEstimated / (active.length * 4))));
    const planned: Chunk[] = [];
    for (const t of tables) planned.push(...(await planChunks(active[0]!.src, t, chunkRows)));
    const chunks = scheduleOrder(planned);

    progress.setPhase('data');
    const maxPacket = await maxAllowedPacket(dstControl);
    const limits = {
      batchBytes: Math.max(64 * 1024, Math.min(options.batchBytes ?? 2 * 1024 * 1024, Math.floor(maxPacket / 2))),
      maxStatementBytes: Math.floor(maxPacket * 0.9),
      format: options.format ?? (await localInfileAllowed(dstControl) ? ('load' as const) : ('insert' as const)),
    };
    const doneChunks = new Map<string, number>();
    let next = 0;
    let rows = 0;
    let bytes = 0;
    let failed = false;
    await Promise.all(
      active.map(async (w) => {
        while (next < chunks.length && !failed) {
          const chunk = chunks[next++]!;
          const name = `${chunk.table.schema}.${chunk.table.name}`;
          const copied = await copyChunk(w.src, w.dst, chunk, limits, (r, b) => progress.addRows(r, b)).catch((err: Error) => {
            // The other workers stop too; their connections are dropped below.
            failed = true;
            for (const c of conns) c.destroy();
            throw new LogicalCopyError(`copying table ${name} (${describeChunk(chunk)}) failed: ${err.message}`, { cause: err });
          });
          rows += copied.rows;
          bytes += copied.bytes;
          const n = (doneChunks.get(name) ?? 0) + 1;
          doneChunks.set(name, n);
          if (n === chunk.of) progress.tableDone();
        }
      }),
    );
    await Promise.all(active.map((w) => w.src.query('COMMIT')));
    // The secondary keys left out of the CREATEs, one table per worker connection at a time.
    let nextKeys = 0;
    await Promise.all(
      active.map(async (w) => {
        while (nextKeys < deferred.length) {
          const d = deferred[nextKeys++]!;
          await step(`adding the secondary keys of ${d.schema}.${d.table}`, () => addDeferredKeys(w.dst, d));
        }
      }),
    );

    progress.setPhase('objects');
    for (const o of objects) await step(`creating the triggers and events of ${o.schema}`, () => createTriggersAndEvents(dstControl, o));

    const result: LogicalCopyResult = { position: snapshot.position, tables: tables.length, rows, bytes, ms: Date.now() - started };
    await writeMarker(dstControl, options.migrationId, { schemas, status: 'done', result });
    progress.setPhase('done');
    return { ...result, reused: false, lockMs: snapshot.lockMs, snapshotMethod: snapshot.method, binlogSkippedOnTarget: binlogSkipped, format: limits.format };
  } finally {
    await closeQuietly(conns);
  }
}

async function step(what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof LogicalCopyError) throw err;
    throw new LogicalCopyError(`${what} on the target failed: ${(err as Error).message}`);
  }
}

/** LOAD DATA LOCAL needs local_infile on the target (MySQL 8 defaults it off): try it on a temporary table. */
async function localInfileAllowed(conn: Conn): Promise<boolean> {
  try {
    await conn.query('CREATE TEMPORARY TABLE crossmove_infile_probe (a INT)');
    const [result] = await conn.query<any>({
      sql: "LOAD DATA LOCAL INFILE 'probe' INTO TABLE crossmove_infile_probe LINES TERMINATED BY '\\n' (a)",
      infileStreamFactory: () => Readable.from([Buffer.from('1\n')]),
    } as any);
    return result.affectedRows === 1;
  } catch {
    return false;
  } finally {
    await conn.query('DROP TEMPORARY TABLE IF EXISTS crossmove_infile_probe').catch(() => undefined);
  }
}

async function maxAllowedPacket(conn: Conn): Promise<number> {
  const [rows] = await conn.query<any[]>('SELECT @@max_allowed_packet AS m');
  return Number(rows[0]?.m ?? 4 * 1024 * 1024);
}
