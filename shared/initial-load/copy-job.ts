// The copy job as the cursor store keeps it (crossmove_load.chunk_jobs / chunk_ranges on the target):
// one job per migration, named `copy`, whose plan holds what every worker needs (tables and their
// columns, the row format, the frozen point it copies) so that no plan travels in the Step Functions
// payload. Shared by "Plan the copy", "Copy chunks until the time budget", "Check the copy" and
// "Finish the copy".
import { CursorStore } from '../chunks/cursor-store.js';
import type { Conn } from '../mysql/connection.js';
import type { BinlogPosition, FrozenFingerprint, FrozenSourceKind } from '../state.js';
import type { DeferredKeys } from './ddl.js';
import type { SnapshotMethod } from './snapshot.js';
import type { ColumnType, RowFormat } from './values.js';

export const COPY_JOB = 'copy';

/** A worker's claim is renewed with every sub-chunk; one that died frees its range after this. */
export const LEASE_SECONDS = 300;

interface CopyTableInfo {
  columns: string[];
  columnTypes: ColumnType[];
  /** Bytes per row by the source's statistics: the first sub-chunk's size (the next ones follow what was read). */
  avgRowBytes: number;
}

export interface CopyJobPlan {
  [key: string]: unknown;
  frozen: { kind: FrozenSourceKind; position: BinlogPosition | null; fingerprint: FrozenFingerprint | null };
  schemas: string[];
  /** By `schema.table`. */
  tables: Record<string, CopyTableInfo>;
  /** Plain secondary keys left out of the CREATEs, added by "Finish the copy". */
  deferred: DeferredKeys[];
  format: RowFormat;
  batchBytes: number;
  maxStatementBytes: number;
  /** Bytes one sub-chunk (one target transaction) should hold, and its row cap. */
  chunkBytes: number;
  maxRows: number;
  totals: { tables: number; ranges: number; rows: number; bytes: number };
  /** Tables without a walk key (copied whole, in one transaction each). */
  wholeTables: string[];
  /** Live source only: the snapshot worker 1 opened and holds. */
  live?: { snapshotId: string; position: BinlogPosition; method: SnapshotMethod; lockMs: number; openedAt: string };
  /** "Finish the copy": triggers and events created. */
  objectsCreated?: boolean;
  startedAt: string;
}

export const tableKey = (t: { schema: string; name: string }) => `${t.schema}.${t.name}`;

/** The store on its own autocommit connection of the target. */
export function openStore(conn: Conn, migrationId: string): Promise<CursorStore> {
  return CursorStore.open(conn, migrationId);
}

export async function readCopyPlan(store: CursorStore): Promise<{ plan: CopyJobPlan; state: string } | null> {
  const job = await store.job(COPY_JOB);
  if (!job) return null;
  return { plan: job.plan as CopyJobPlan, state: job.state };
}

/** The position replication starts from once the copy is done: the frozen point, or the live snapshot's. */
export function copyPosition(plan: CopyJobPlan): BinlogPosition | null {
  return plan.frozen.position ?? plan.live?.position ?? null;
}
