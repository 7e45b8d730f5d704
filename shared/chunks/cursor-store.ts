// The cursor store of chunked jobs (the logical copy and the data comparison): a job is a set of key
// ranges of tables, kept in the TARGET's bookkeeping schema crossmove_load, so that no plan travels in
// the Step Functions payload and any worker can resume any range.
// - A worker claims a range under a lease (one autocommit UPDATE ... ORDER BY seq LIMIT 1, which
//   MySQL 5.7, 8 and MariaDB all run; no SKIP LOCKED needed). A lease that expired belongs to a dead
//   worker: the range is claimable again.
// - Each sub-chunk commits its work and moves the range's cursor forward in ONE transaction
//   (commitSubChunk): the range row is locked, its owner and cursor checked, the caller's work runs
//   in the same transaction, then the cursor moves. So a range never holds work beyond its cursor, a
//   killed worker loses only its open sub-chunk, and a second worker that took over an expired lease
//   sees the range moved or done instead of doing it twice.
// - The cursor is the inclusive lower bound of what is left of the range (null: from the range's lo).
// The store writes only its own schema; callers choose whether those writes reach the binlog
// (shared/mysql/skip-binlog.ts).
import type { ResultSetHeader } from 'mysql2/promise';
import { asDbError, q, QUERY_TIMEOUT_MS, type Conn } from '../mysql/connection.js';
import type { KeyTuple } from './key-values.js';
import type { TableRef, WalkKey } from './keys.js';
import type { KeyRange } from './range-sql.js';

export const STORE_SCHEMA = 'crossmove_load';
const JOBS = `\`${STORE_SCHEMA}\`.chunk_jobs`;
const RANGES = `\`${STORE_SCHEMA}\`.chunk_ranges`;

export type JobKind = 'copy' | 'diff';

export interface PlannedRange {
  table: TableRef;
  /** null: the table has no walk key and is one range handled as a whole. */
  key: WalkKey | null;
  range: KeyRange;
  estimatedRows: number;
  estimatedBytes: number;
}

export interface RangeClaim extends PlannedRange {
  job: string;
  seq: number;
  owner: string;
  cursor: KeyTuple | null;
  attempts: number;
}

export interface Job {
  job: string;
  kind: JobKind;
  state: 'planning' | 'ready' | 'done';
  plan: Record<string, unknown>;
  createdAt: string;
}

export interface JobProgress {
  rangesTotal: number;
  rangesDone: number;
  rangesClaimed: number;
  rows: number;
  bytes: number;
  estimatedRows: number;
  subChunks: number;
  /** Rows per second since the job's first claim (database clock). */
  rowsPerSec: number;
  etaSeconds: number | null;
  elapsedSeconds: number;
  /** Sub-chunks whose work was committed more than once (the store's transaction keeps this at 0). */
  chunksCopiedTwice: number;
  done: boolean;
}

export interface WorkDone {
  rows: number;
  bytes: number;
  /**
   * Where the cursor moves, when the work itself found it (the copy reads its sub-chunk's end in the
   * same pass as its rows): overrides commitSubChunk's `next`. null: the range is finished.
   */
  next?: KeyTuple | null;
}

export type CommitOutcome = 'committed' | 'already-done' | 'moved';

const DDL = [
  `CREATE DATABASE IF NOT EXISTS \`${STORE_SCHEMA}\``,
  `CREATE TABLE IF NOT EXISTS ${JOBS} (
     migration_id VARCHAR(64) NOT NULL, job VARCHAR(64) NOT NULL, kind VARCHAR(16) NOT NULL,
     state VARCHAR(16) NOT NULL DEFAULT 'planning', plan_json MEDIUMTEXT NULL,
     created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), started_at DATETIME(3) NULL,
     PRIMARY KEY (migration_id, job)) ENGINE=InnoDB`,
  `CREATE TABLE IF NOT EXISTS ${RANGES} (
     migration_id VARCHAR(64) NOT NULL, job VARCHAR(64) NOT NULL, seq INT NOT NULL,
     schema_name VARCHAR(64) NOT NULL, table_name VARCHAR(64) NOT NULL, key_json TEXT NULL,
     lo_json TEXT NULL, hi_json TEXT NULL, cursor_json TEXT NULL,
     state ENUM('todo','claimed','done') NOT NULL DEFAULT 'todo', owner VARCHAR(128) NULL, lease_until DATETIME(3) NULL,
     attempts INT NOT NULL DEFAULT 0, commits INT NOT NULL DEFAULT 0, subchunks_done INT NOT NULL DEFAULT 0,
     est_rows BIGINT NOT NULL DEFAULT 0, est_bytes BIGINT NOT NULL DEFAULT 0,
     rows_done BIGINT NOT NULL DEFAULT 0, bytes_done BIGINT NOT NULL DEFAULT 0,
     updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
     PRIMARY KEY (migration_id, job, seq), KEY claim (migration_id, job, state, seq)) ENGINE=InnoDB`,
];

const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
const parse = <T>(v: unknown): T | null => (v === null || v === undefined ? null : (JSON.parse(String(v)) as T));

export class CursorStore {
  private constructor(
    /** Autocommit connection for claims and reads (READ COMMITTED: few gap locks). */
    private readonly conn: Conn,
    readonly migrationId: string,
  ) {}

  /** Creates the store's tables when missing (idempotent). */
  static async open(conn: Conn, migrationId: string): Promise<CursorStore> {
    for (const sql of DDL) await q(conn, sql);
    await q(conn, 'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
    return new CursorStore(conn, migrationId);
  }

  /**
   * Read-only access to a store that may not exist (null then): no DDL, no session change, so it can
   * run where nothing may reach the binlog (inside the cutover's write block).
   */
  static async attach(conn: Conn, migrationId: string): Promise<CursorStore | null> {
    const rows = await q(conn, 'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?)', [STORE_SCHEMA, ['chunk_jobs', 'chunk_ranges']]);
    return rows.length === 2 ? new CursorStore(conn, migrationId) : null;
  }

  /** Creates a job, or returns the existing one of that name (a retried planner). */
  async createJob(job: string, kind: JobKind, plan: Record<string, unknown>): Promise<Job> {
    await q(this.conn, `INSERT IGNORE INTO ${JOBS} (migration_id, job, kind, state, plan_json) VALUES (?, ?, ?, 'planning', ?)`, [
      this.migrationId, job, kind, JSON.stringify(plan),
    ]);
    return (await this.job(job))!;
  }

  async job(job: string): Promise<Job | null> {
    const [r] = await q<Record<string, unknown>>(
      this.conn,
      `SELECT job, kind, state, plan_json, CAST(created_at AS CHAR) AS created FROM ${JOBS} WHERE migration_id = ? AND job = ?`,
      [this.migrationId, job],
    );
    return r ? { job: String(r.job), kind: r.kind as JobKind, state: r.state as Job['state'], plan: parse(r.plan_json) ?? {}, createdAt: String(r.created) } : null;
  }

  /** This migration's jobs of a kind, newest first. */
  async jobs(kind: JobKind): Promise<Job[]> {
    const rows = await q<Record<string, unknown>>(
      this.conn,
      `SELECT job, kind, state, plan_json, CAST(created_at AS CHAR) AS created FROM ${JOBS} WHERE migration_id = ? AND kind = ? ORDER BY created_at DESC, job DESC`,
      [this.migrationId, kind],
    );
    return rows.map((r) => ({ job: String(r.job), kind: r.kind as JobKind, state: r.state as Job['state'], plan: parse(r.plan_json) ?? {}, createdAt: String(r.created) }));
  }

  /** Adds ranges in claim order (seq from 1). Idempotent: a retried planner re-adds the same seqs. */
  async addRanges(job: string, ranges: PlannedRange[], firstSeq = 1): Promise<void> {
    for (let i = 0; i < ranges.length; i += 500) {
      const slice = ranges.slice(i, i + 500);
      const values = slice.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
      const params = slice.flatMap((r, j) => [
        this.migrationId, job, firstSeq + i + j, r.table.schema, r.table.name, json(r.key), json(r.range.lo), json(r.range.hi),
        Math.max(0, Math.round(r.estimatedRows)), Math.max(0, Math.round(r.estimatedBytes)),
      ]);
      await q(
        this.conn,
        `INSERT IGNORE INTO ${RANGES} (migration_id, job, seq, schema_name, table_name, key_json, lo_json, hi_json, est_rows, est_bytes) VALUES ${values}`,
        params,
      );
    }
  }

  /** Planning finished: workers may claim. */
  async markReady(job: string, plan?: Record<string, unknown>): Promise<void> {
    await q(
      this.conn,
      `UPDATE ${JOBS} SET state = IF(state = 'planning', 'ready', state)${plan ? ', plan_json = ?' : ''} WHERE migration_id = ? AND job = ?`,
      plan ? [JSON.stringify(plan), this.migrationId, job] : [this.migrationId, job],
    );
  }

  /** Every range is done: the job is finished (its progress stays readable). */
  async markDone(job: string): Promise<void> {
    await q(this.conn, `UPDATE ${JOBS} SET state = 'done' WHERE migration_id = ? AND job = ?`, [this.migrationId, job]);
  }

  /**
   * Claims the next range that is not done and not held under a live lease (the lowest seq first),
   * for `leaseSeconds`. null: nothing is left to claim (all done, or held by live workers).
   * `resumeOwn`: a range still claimed by this same owner is taken back at once, first, whatever its
   * lease (a worker slot retried after its invocation died resumes its own range instead of waiting
   * for the lease; commitSubChunk's cursor check still refuses a sub-chunk committed twice).
   */
  async claim(job: string, owner: string, leaseSeconds: number, opts: { resumeOwn?: boolean } = {}): Promise<RangeClaim | null> {
    const lease = Math.max(1, Math.round(leaseSeconds));
    const own = opts.resumeOwn ? ' OR (state = \'claimed\' AND owner = ?)' : '';
    const claimed = await exec(
      this.conn,
      `UPDATE ${RANGES} SET state = 'claimed', owner = ?, lease_until = NOW(3) + INTERVAL ${lease} SECOND, attempts = attempts + 1, updated_at = NOW(3)
        WHERE migration_id = ? AND job = ? AND (state = 'todo' OR (state = 'claimed' AND lease_until < NOW(3))${own})
        ORDER BY ${opts.resumeOwn ? 'owner <=> ? DESC, ' : ''}seq LIMIT 1`,
      opts.resumeOwn ? [owner, this.migrationId, job, owner, owner] : [owner, this.migrationId, job],
    );
    if (!claimed) return null;
    const [r] = await q<Record<string, unknown>>(
      this.conn,
      `SELECT * FROM ${RANGES} WHERE migration_id = ? AND job = ? AND owner = ? AND state = 'claimed' ORDER BY updated_at DESC, seq LIMIT 1`,
      [this.migrationId, job, owner],
    );
    if (!r) return null;
    await q(this.conn, `UPDATE ${JOBS} SET started_at = COALESCE(started_at, NOW(3)) WHERE migration_id = ? AND job = ?`, [this.migrationId, job]);
    return claimOf(r, owner);
  }

  /** Extends a claim's lease (a worker between sub-chunks, or waiting for a throttle). */
  async renew(claim: RangeClaim, leaseSeconds: number): Promise<boolean> {
    const lease = Math.max(1, Math.round(leaseSeconds));
    const renewed = await exec(
      this.conn,
      `UPDATE ${RANGES} SET lease_until = NOW(3) + INTERVAL ${lease} SECOND WHERE migration_id = ? AND job = ? AND seq = ? AND owner = ? AND state = 'claimed'`,
      [this.migrationId, claim.job, claim.seq, claim.owner],
    );
    return renewed > 0;
  }

  /** Gives a claimed range back unfinished (the worker's time is up): any worker may take it at once. */
  async release(claim: RangeClaim): Promise<void> {
    await q(
      this.conn,
      `UPDATE ${RANGES} SET state = 'todo', owner = NULL, lease_until = NULL, updated_at = NOW(3) WHERE migration_id = ? AND job = ? AND seq = ? AND owner = ? AND state = 'claimed'`,
      [this.migrationId, claim.job, claim.seq, claim.owner],
    );
  }

  /**
   * One sub-chunk, atomically: on `tx` (a connection of the target, not in a transaction), locks the
   * range row, checks that the claim still owns it at the same cursor, runs `work(tx)` in the same
   * transaction, moves the cursor to `next` (null: the range is finished), renews the lease, commits.
   * 'already-done' / 'moved': someone else finished or moved the range; nothing was written.
   */
  async commitSubChunk(
    tx: Conn,
    claim: RangeClaim,
    next: KeyTuple | null,
    work: (tx: Conn) => Promise<WorkDone>,
    opts: { leaseSeconds?: number } = {},
  ): Promise<CommitOutcome> {
    const lease = Math.max(1, Math.round(opts.leaseSeconds ?? 120));
    await q(tx, 'START TRANSACTION');
    let open = true;
    try {
      const [r] = await q<{ state: string; owner: string | null; cursor_json: string | null }>(
        tx,
        `SELECT state, owner, cursor_json FROM ${RANGES} WHERE migration_id = ? AND job = ? AND seq = ? FOR UPDATE`,
        [this.migrationId, claim.job, claim.seq],
      );
      if (!r || r.state === 'done') {
        await q(tx, 'ROLLBACK');
        open = false;
        return 'already-done';
      }
      if (r.owner !== claim.owner || (r.cursor_json ?? null) !== json(claim.cursor)) {
        await q(tx, 'ROLLBACK');
        open = false;
        return 'moved';
      }
      const done = await work(tx);
      if (done.next !== undefined) next = done.next;
      const last = next === null;
      await q(
        tx,
        `UPDATE ${RANGES} SET cursor_json = ?, rows_done = rows_done + ?, bytes_done = bytes_done + ?, subchunks_done = subchunks_done + 1,
            commits = commits + 1, state = ?, owner = ?, lease_until = ${last ? 'NULL' : `NOW(3) + INTERVAL ${lease} SECOND`}, updated_at = NOW(3)
          WHERE migration_id = ? AND job = ? AND seq = ?`,
        [json(next), done.rows, done.bytes, last ? 'done' : 'claimed', last ? null : claim.owner, this.migrationId, claim.job, claim.seq],
      );
      await q(tx, 'COMMIT');
      open = false;
      claim.cursor = next;
      return 'committed';
    } finally {
      if (open) await q(tx, 'ROLLBACK').catch(() => undefined);
    }
  }

  /** The job is finished when every range is done. */
  async progress(job: string): Promise<JobProgress> {
    const [r] = await q<Record<string, unknown>>(
      this.conn,
      `SELECT COUNT(*) AS total, COALESCE(SUM(r.state = 'done'), 0) AS done, COALESCE(SUM(r.state = 'claimed' AND r.lease_until >= NOW(3)), 0) AS claimed,
              CAST(COALESCE(SUM(r.rows_done), 0) AS CHAR) AS rows_done, CAST(COALESCE(SUM(r.bytes_done), 0) AS CHAR) AS bytes_done,
              CAST(COALESCE(SUM(r.est_rows), 0) AS CHAR) AS est_rows, COALESCE(SUM(r.subchunks_done), 0) AS subchunks,
              COALESCE(SUM(GREATEST(r.commits - r.subchunks_done, 0)), 0) AS twice,
              TIMESTAMPDIFF(MICROSECOND, MIN(j.started_at), GREATEST(MAX(r.updated_at), MIN(j.started_at))) AS elapsed_us
         FROM ${RANGES} r JOIN ${JOBS} j ON j.migration_id = r.migration_id AND j.job = r.job
        WHERE r.migration_id = ? AND r.job = ?`,
      [this.migrationId, job],
    );
    const total = Number(r?.total ?? 0);
    const done = Number(r?.done ?? 0);
    const rows = Number(r?.rows_done ?? 0);
    const estimated = Number(r?.est_rows ?? 0);
    const elapsed = Math.max(0, Number(r?.elapsed_us ?? 0) / 1e6);
    const rate = elapsed > 0 ? rows / elapsed : 0;
    const finished = total > 0 && done === total;
    const left = Math.max(0, estimated - rows);
    return {
      rangesTotal: total,
      rangesDone: done,
      rangesClaimed: Number(r?.claimed ?? 0),
      rows,
      bytes: Number(r?.bytes_done ?? 0),
      estimatedRows: estimated,
      subChunks: Number(r?.subchunks ?? 0),
      rowsPerSec: Math.round(rate),
      etaSeconds: finished ? 0 : rate > 0 ? Math.ceil(left / rate) : null,
      elapsedSeconds: Math.round(elapsed * 1000) / 1000,
      chunksCopiedTwice: Number(r?.twice ?? 0),
      done: finished,
    };
  }

  /** Every range of a job (reports, tests). */
  async ranges(job: string): Promise<(RangeClaim & { state: string; rowsDone: number; subChunks: number })[]> {
    const rows = await q<Record<string, unknown>>(this.conn, `SELECT * FROM ${RANGES} WHERE migration_id = ? AND job = ? ORDER BY seq`, [this.migrationId, job]);
    return rows.map((r) => ({ ...claimOf(r, r.owner === null ? '' : String(r.owner)), state: String(r.state), rowsDone: Number(r.rows_done), subChunks: Number(r.subchunks_done) }));
  }

  /** Tables of a job, and those whose every range is done. */
  async tableProgress(job: string): Promise<{ tablesTotal: number; tablesDone: number }> {
    const [r] = await q<{ total: unknown; done: unknown }>(
      this.conn,
      `SELECT COUNT(*) AS total, COALESCE(SUM(left_ = 0), 0) AS done FROM
         (SELECT SUM(state <> 'done') AS left_ FROM ${RANGES} WHERE migration_id = ? AND job = ? GROUP BY schema_name, table_name) t`,
      [this.migrationId, job],
    );
    return { tablesTotal: Number(r?.total ?? 0), tablesDone: Number(r?.done ?? 0) };
  }

  /** Whether every range of one table of a job is done. */
  async tableDone(job: string, table: TableRef): Promise<boolean> {
    const [r] = await q<{ left_: unknown }>(
      this.conn,
      `SELECT COUNT(*) AS left_ FROM ${RANGES} WHERE migration_id = ? AND job = ? AND schema_name = ? AND table_name = ? AND state <> 'done'`,
      [this.migrationId, job, table.schema, table.name],
    );
    return Number(r?.left_ ?? 1) === 0;
  }

  /** Replaces a job's plan (what its workers learned, e.g. the position of the snapshot they opened). */
  async updatePlan(job: string, plan: Record<string, unknown>): Promise<void> {
    await q(this.conn, `UPDATE ${JOBS} SET plan_json = ? WHERE migration_id = ? AND job = ?`, [JSON.stringify(plan), this.migrationId, job]);
  }

  /** Forgets one job and its ranges (a plan that no longer applies: its source moved on). */
  async deleteJob(job: string): Promise<void> {
    await q(this.conn, `DELETE FROM ${RANGES} WHERE migration_id = ? AND job = ?`, [this.migrationId, job]);
    await q(this.conn, `DELETE FROM ${JOBS} WHERE migration_id = ? AND job = ?`, [this.migrationId, job]);
  }

  /** Removes this migration's jobs (cleanup). */
  async dropAll(): Promise<void> {
    await q(this.conn, `DELETE FROM ${RANGES} WHERE migration_id = ?`, [this.migrationId]);
    await q(this.conn, `DELETE FROM ${JOBS} WHERE migration_id = ?`, [this.migrationId]);
  }
}

/** A data-changing statement; resolves with the rows it changed. */
async function exec(conn: Conn, sql: string, params: unknown[]): Promise<number> {
  try {
    const [result] = await conn.query<ResultSetHeader>({ sql, values: params, timeout: QUERY_TIMEOUT_MS });
    return Number(result.affectedRows ?? 0);
  } catch (err) {
    throw asDbError(err, sql.replace(/\s+/g, ' ').trim().split(' ').slice(0, 4).join(' '));
  }
}

function claimOf(r: Record<string, unknown>, owner: string): RangeClaim {
  return {
    job: String(r.job),
    seq: Number(r.seq),
    owner,
    table: { schema: String(r.schema_name), name: String(r.table_name) },
    key: parse<WalkKey>(r.key_json),
    range: { lo: parse<KeyTuple>(r.lo_json), hi: parse<KeyTuple>(r.hi_json) },
    cursor: parse<KeyTuple>(r.cursor_json),
    attempts: Number(r.attempts),
    estimatedRows: Number(r.est_rows),
    estimatedBytes: Number(r.est_bytes),
  };
}
