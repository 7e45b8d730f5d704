// The comparison's verdicts, beside the cursor store on the target (crossmove_load): one row per table
// of a job with its counters, and the differing rows by primary key (the first `reportRows` of each
// kind per table are kept with their key; all are counted; rows left unsettled are all kept, up to
// maxRecheckInBlock, because the cutover re-checks them). Written inside the sub-chunk's transaction
// (CursorStore.commitSubChunk), so counters never count a sub-chunk twice. Keys and column names
// only: no column value is stored.
import { createHash } from 'node:crypto';
import { q, type Conn } from '../mysql/connection.js';
import type { KeyTuple } from '../chunks/key-values.js';
import type { TableRef, WalkKey } from '../chunks/keys.js';
import { STORE_SCHEMA } from '../chunks/cursor-store.js';

const TABLES = `\`${STORE_SCHEMA}\`.diff_tables`;
const ROWS = `\`${STORE_SCHEMA}\`.diff_rows`;

type TableStatus = 'pending' | 'same' | 'different' | 'not-verifiable';
export type RowKind = 'missing' | 'extra' | 'different' | 'unsettled';

export interface TableEntry {
  table: TableRef;
  status: TableStatus;
  /** Why a table is not compared row by row (no key, engine, key or collation differs, missing). */
  reason: string | null;
  detail: string | null;
  key: WalkKey | null;
  rowsCompared: number;
  chunks: number;
  missing: number;
  extra: number;
  different: number;
  unsettled: number;
  sourceRows: number | null;
  targetRows: number | null;
  /** Columns not compared or present on one side only, said in words. */
  columnsNote: string | null;
  firstPosition: string | null;
  lastPosition: string | null;
  exact: boolean;
}

export interface RowDifference {
  kind: RowKind;
  key: KeyTuple;
  /** Differing columns ('different' rows only). */
  columns?: string[];
  position: string;
}

export interface SubChunkVerdict {
  rows: number;
  chunks: number;
  missing: number;
  extra: number;
  different: number;
  unsettled: number;
  position: string;
  exact: boolean;
  differences: RowDifference[];
  /** Whole-table comparisons (no walk key): counted rows on both sides and whether they matched. */
  whole?: { sourceRows: number; targetRows: number; same: boolean | null };
}

const DDL = [
  `CREATE TABLE IF NOT EXISTS ${TABLES} (
     migration_id VARCHAR(64) NOT NULL, job VARCHAR(64) NOT NULL, schema_name VARCHAR(64) NOT NULL, table_name VARCHAR(64) NOT NULL,
     status VARCHAR(16) NOT NULL DEFAULT 'pending', reason VARCHAR(32) NULL, detail VARCHAR(512) NULL, key_json TEXT NULL,
     ranges_total INT NOT NULL DEFAULT 0, ranges_done INT NOT NULL DEFAULT 0,
     rows_compared BIGINT NOT NULL DEFAULT 0, chunks BIGINT NOT NULL DEFAULT 0,
     missing BIGINT NOT NULL DEFAULT 0, extra BIGINT NOT NULL DEFAULT 0, different BIGINT NOT NULL DEFAULT 0, unsettled BIGINT NOT NULL DEFAULT 0,
     source_rows BIGINT NULL, target_rows BIGINT NULL, columns_note VARCHAR(1024) NULL,
     first_position VARCHAR(255) NULL, last_position VARCHAR(255) NULL, settled_epochs INT NOT NULL DEFAULT 0,
     PRIMARY KEY (migration_id, job, schema_name, table_name)) ENGINE=InnoDB`,
  `CREATE TABLE IF NOT EXISTS ${ROWS} (
     migration_id VARCHAR(64) NOT NULL, job VARCHAR(64) NOT NULL, schema_name VARCHAR(64) NOT NULL, table_name VARCHAR(64) NOT NULL,
     kind VARCHAR(16) NOT NULL, key_sha CHAR(40) NOT NULL, key_json TEXT NOT NULL, columns_json TEXT NULL, position VARCHAR(255) NOT NULL,
     PRIMARY KEY (migration_id, job, schema_name, table_name, kind, key_sha)) ENGINE=InnoDB`,
];

export async function ensureDiffStore(conn: Conn): Promise<void> {
  await q(conn, `CREATE DATABASE IF NOT EXISTS \`${STORE_SCHEMA}\``);
  for (const sql of DDL) await q(conn, sql);
}

export interface PlannedTable {
  table: TableRef;
  key: WalkKey | null;
  ranges: number;
  status: TableStatus;
  reason?: string;
  detail?: string;
  columnsNote?: string;
  sourceRows?: number | null;
}

export async function addTables(conn: Conn, migrationId: string, job: string, tables: PlannedTable[]): Promise<void> {
  for (let i = 0; i < tables.length; i += 200) {
    const slice = tables.slice(i, i + 200);
    await q(
      conn,
      `INSERT IGNORE INTO ${TABLES} (migration_id, job, schema_name, table_name, status, reason, detail, key_json, ranges_total, columns_note, source_rows)
       VALUES ${slice.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      slice.flatMap((t) => [
        migrationId, job, t.table.schema, t.table.name, t.status, t.reason ?? null, (t.detail ?? '').slice(0, 512) || null,
        t.key ? JSON.stringify(t.key) : null, t.ranges, (t.columnsNote ?? '').slice(0, 1024) || null, t.sourceRows ?? null,
      ]),
    );
  }
}

/**
 * Records one sub-chunk's verdict in the caller's transaction. `rangeDone`: this was the range's last
 * sub-chunk; the table's status is settled once all its ranges are done.
 */
export async function recordVerdict(tx: Conn, migrationId: string, job: string, table: TableRef, v: SubChunkVerdict, opts: { rangeDone: boolean; reportRows: number; maxUnsettled: number }): Promise<void> {
  const at = [migrationId, job, table.schema, table.name];
  await q(
    tx,
    `UPDATE ${TABLES} SET rows_compared = rows_compared + ?, chunks = chunks + ?, missing = missing + ?, extra = extra + ?, different = different + ?,
        unsettled = unsettled + ?, ranges_done = ranges_done + ?, first_position = COALESCE(first_position, ?), last_position = ?,
        settled_epochs = settled_epochs + ?, source_rows = COALESCE(?, source_rows), target_rows = COALESCE(?, target_rows)
      WHERE migration_id = ? AND job = ? AND schema_name = ? AND table_name = ?`,
    [v.rows, v.chunks, v.missing, v.extra, v.different, v.unsettled, opts.rangeDone ? 1 : 0, v.position, v.position, v.exact ? 0 : 1,
      v.whole?.sourceRows ?? null, v.whole?.targetRows ?? null, ...at],
  );
  if (v.differences.length) {
    const counts = new Map(
      (await q<{ kind: string; n: number }>(tx, `SELECT kind, COUNT(*) AS n FROM ${ROWS} WHERE migration_id = ? AND job = ? AND schema_name = ? AND table_name = ? GROUP BY kind`, at)).map((r) => [r.kind, Number(r.n)]),
    );
    const keep = v.differences.filter((d) => {
      const n = counts.get(d.kind) ?? 0;
      if (n >= (d.kind === 'unsettled' ? opts.maxUnsettled : opts.reportRows)) return false;
      counts.set(d.kind, n + 1);
      return true;
    });
    if (keep.length) {
      await q(
        tx,
        `INSERT IGNORE INTO ${ROWS} (migration_id, job, schema_name, table_name, kind, key_sha, key_json, columns_json, position) VALUES ${keep.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        keep.flatMap((d) => [...at, d.kind, sha(d.key), JSON.stringify(d.key), d.columns ? JSON.stringify(d.columns) : null, d.position]),
      );
    }
  }
  if (opts.rangeDone) {
    const whole = v.whole && v.whole.same === false ? ', different = GREATEST(different, 1)' : '';
    await q(
      tx,
      `UPDATE ${TABLES} SET status = CASE WHEN status = 'not-verifiable' THEN status WHEN missing + extra + different > 0 OR reason = 'columns-differ' THEN 'different' ELSE 'same' END${whole}
        WHERE migration_id = ? AND job = ? AND schema_name = ? AND table_name = ? AND ranges_done >= ranges_total`,
      at,
    );
  }
}

const sha = (key: KeyTuple) => createHash('sha1').update(JSON.stringify(key)).digest('hex');

export async function tableEntries(conn: Conn, migrationId: string, job: string): Promise<TableEntry[]> {
  const rows = await q<Record<string, unknown>>(conn, `SELECT * FROM ${TABLES} WHERE migration_id = ? AND job = ? ORDER BY schema_name, table_name`, [migrationId, job]);
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return rows.map((r) => ({
    table: { schema: String(r.schema_name), name: String(r.table_name) },
    status: r.status as TableStatus,
    reason: (r.reason as string | null) ?? null,
    detail: (r.detail as string | null) ?? null,
    key: r.key_json ? (JSON.parse(String(r.key_json)) as WalkKey) : null,
    rowsCompared: Number(r.rows_compared),
    chunks: Number(r.chunks),
    missing: Number(r.missing),
    extra: Number(r.extra),
    different: Number(r.different),
    unsettled: Number(r.unsettled),
    sourceRows: num(r.source_rows),
    targetRows: num(r.target_rows),
    columnsNote: (r.columns_note as string | null) ?? null,
    firstPosition: (r.first_position as string | null) ?? null,
    lastPosition: (r.last_position as string | null) ?? null,
    exact: Number(r.settled_epochs) === 0,
  }));
}

export async function rowDifferences(conn: Conn, migrationId: string, job: string, table: TableRef, kinds?: RowKind[], limit = 1000): Promise<RowDifference[]> {
  const rows = await q<{ kind: RowKind; key_json: string; columns_json: string | null; position: string }>(
    conn,
    `SELECT kind, key_json, columns_json, position FROM ${ROWS} WHERE migration_id = ? AND job = ? AND schema_name = ? AND table_name = ?${kinds ? ' AND kind IN (?)' : ''}
      ORDER BY FIELD(kind, 'missing', 'extra', 'different', 'unsettled'), key_json LIMIT ${Math.max(1, Math.floor(limit))}`,
    kinds ? [migrationId, job, table.schema, table.name, kinds] : [migrationId, job, table.schema, table.name],
  );
  return rows.map((r) => ({ kind: r.kind, key: JSON.parse(r.key_json), ...(r.columns_json ? { columns: JSON.parse(r.columns_json) } : {}), position: r.position }));
}
