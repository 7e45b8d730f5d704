// What the cutover checks about the data, now that the data itself was compared before the approval.
// Its cost grows with what changed since that comparison, never with the size of the tables:
//
// Before the write block (a refusal, nothing changed), cutover.verify diff:
//   - the applier cannot have dropped or rewritten changes since the comparison: no replication
//     filters (Replicate_Do/Ignore_*), no skipped errors (slave_skip_errors / replica_skip_errors
//     OFF), exec mode STRICT (IDEMPOTENT silently ignores rows it cannot find), no skip counter.
// Inside the write block, after the target executed the source's final position and stopped:
//   - the applier stopped cleanly (no SQL error), any verify mode;
//   - cutover.verify diff: the rows the comparison left unsettled (still changing while it ran;
//     settled mode only) are read by primary key on both sides, now that nothing changes any more,
//     and must be equal (at most verify.maxRecheckInBlock rows: O(changes)).
// Together with the exact final position (switch-primary.ts) and the comparison before the gate:
// replication delivered every change since the compared positions, and nothing dropped one.
// What this does not see: a write on the target outside replication by an admin user (read_only does
// not stop those), between the comparison and the cutover.
import { VerificationFailedError } from '../errors.js';
import type { MigrationInput } from '../input/validate.js';
import { q, type Conn } from '../mysql/connection.js';
import type { Dialect } from '../mysql/dialect.js';
import { readReplicaStatus } from '../mysql/status.js';
import { CursorStore } from '../chunks/cursor-store.js';
import { displayTuple } from '../chunks/key-values.js';
import { tableName } from '../chunks/keys.js';
import { compareColumns, storedColumns } from './columns.js';
import { rowDifferences, tableEntries } from './diff-store.js';
import { currentHashes } from './narrow.js';

export interface InBlockVerdict {
  /** Tables the comparison before the gate compared (0 when none ran). */
  tablesVerified: number;
  /** The comparison before the gate was clean (null: none ran or cutover.verify none). */
  checksumsMatch: boolean | null;
  /** Rows re-checked by key inside the block. */
  rowsRechecked: number;
}

/** Replication settings under which the replica may have skipped or rewritten changes; empty = none. */
export async function applierIntegrityProblems(target: Conn, dialect: Dialect): Promise<string[]> {
  const problems: string[] = [];
  const status = (await q<Record<string, unknown>>(target, dialect.statusSql))[0];
  if (!status) return ['the target has no replication configured'];
  for (const f of ['Replicate_Do_DB', 'Replicate_Ignore_DB', 'Replicate_Do_Table', 'Replicate_Ignore_Table', 'Replicate_Wild_Do_Table', 'Replicate_Wild_Ignore_Table']) {
    const value = String(status[f] ?? '').trim();
    if (value) problems.push(`replication filter ${f} = ${value}`);
  }
  const variable = async (...names: string[]): Promise<string | null> => {
    for (const n of names) {
      try {
        const [row] = await q<{ v: unknown }>(target, `SELECT @@GLOBAL.${n} AS v`);
        return row?.v === null || row?.v === undefined ? null : String(row.v);
      } catch {
        // the other name on this version
      }
    }
    return null;
  };
  const skip = await variable('replica_skip_errors', 'slave_skip_errors');
  if (skip && skip.toUpperCase() !== 'OFF' && skip !== '') problems.push(`skip errors is ${skip} (errors are skipped silently)`);
  const mode = await variable('replica_exec_mode', 'slave_exec_mode');
  if (mode && mode.toUpperCase() !== 'STRICT') problems.push(`exec mode is ${mode} (missing rows are ignored silently)`);
  const counter = await variable('sql_replica_skip_counter', 'sql_slave_skip_counter');
  if (counter && Number(counter) > 0) problems.push(`skip counter is ${counter}`);
  return problems;
}

/**
 * Before the block: how many rows the gate comparison left unsettled, when that is more than the block
 * may re-check (verify.maxRecheckInBlock). Past that bound the store holds only the first rows, so the
 * block could not re-check the others: the cutover is refused rather than trusting them. null: fine.
 */
export async function unsettledBeyondRecheck(target: Conn, input: MigrationInput): Promise<number | null> {
  if (input.cutover.verify !== 'diff') return null;
  const store = await CursorStore.attach(target, input.migrationId);
  const job = store ? (await store.jobs('diff')).find((j) => j.plan.purpose === 'gate') : undefined;
  if (!job || job.state !== 'done') return null;
  const unsettled = (await tableEntries(target, input.migrationId, job.job)).reduce((n, e) => n + e.unsettled, 0);
  return unsettled > input.verify.maxRecheckInBlock ? unsettled : null;
}

export async function checkInBlock(a: {
  oldConn: Conn;
  newConn: Conn;
  newDialect: Dialect;
  input: MigrationInput;
  direction: 'cutover' | 'fallback';
  timeoutMs: number;
}): Promise<InBlockVerdict> {
  const status = await readReplicaStatus(a.newConn, a.newDialect);
  if (status?.lastSqlErrno) {
    throw new VerificationFailedError(`the applier stopped with error ${status.lastSqlErrno} (${status.lastSqlError}): a change may not have been applied`);
  }
  const none: InBlockVerdict = { tablesVerified: 0, checksumsMatch: null, rowsRechecked: 0 };
  if (a.input.cutover.verify === 'none' || a.direction !== 'cutover') return none;
  // Read-only: nothing written here may reach the binlog reverse replication starts from.
  const store = await CursorStore.attach(a.newConn, a.input.migrationId);
  const job = store ? (await store.jobs('diff')).find((j) => j.plan.purpose === 'gate') : undefined;
  if (!job || job.state !== 'done') return none;
  const entries = await tableEntries(a.newConn, a.input.migrationId, job.job);
  let rechecked = 0;
  const differing: string[] = [];
  const sameFamily = (a.newDialect.engine === 'mariadb') === (await q<{ v: string }>(a.oldConn, 'SELECT VERSION() AS v'))[0]!.v.toLowerCase().includes('mariadb');
  for (const e of entries.filter((x) => x.unsettled > 0 && x.key)) {
    const rows = await rowDifferences(a.newConn, a.input.migrationId, job.job, e.table, ['unsettled'], Math.max(0, a.input.verify.maxRecheckInBlock - rechecked));
    if (!rows.length) continue;
    const columns = compareColumns(await storedColumns(a.oldConn, e.table), await storedColumns(a.newConn, e.table), sameFamily).columns;
    const keys = rows.map((r) => r.key);
    const [before, after] = await Promise.all([
      currentHashes(a.oldConn, e.table, e.key!, keys, columns, a.timeoutMs),
      currentHashes(a.newConn, e.table, e.key!, keys, columns, a.timeoutMs),
    ]);
    rechecked += keys.length;
    for (const k of keys) {
      const id = JSON.stringify(k);
      if (before.get(id) !== after.get(id)) differing.push(`${tableName(e.table)} ${displayTuple(e.key!, k)}`);
    }
  }
  if (differing.length) {
    throw new VerificationFailedError(
      `${differing.length} row(s) that were still changing during the comparison differ now that writes are blocked: ${differing.slice(0, 10).join(', ')}${differing.length > 10 ? ', ...' : ''}`,
    );
  }
  const clean = entries.every((e) => e.missing + e.extra + e.different === 0 && e.status !== 'different');
  return { tablesVerified: entries.filter((e) => e.status !== 'pending').length, checksumsMatch: clean, rowsRechecked: rechecked };
}
