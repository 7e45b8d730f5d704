// "Plan the comparison": which tables are compared and how, stored as a diff job of the cursor store
// on the target (no plan travels in the payload). Per table:
// - a walk key both sides share (same columns, kinds and collations): key ranges, walked in sub-chunks;
// - no such key, but both sides transactional: one whole-table range, compared by count and an
//   order-independent hash inside one sync point (not verifiable by rows: no row can be named);
// - not transactional (no snapshot): counted only, and said so;
// - missing on the target, or only on the target: a difference without rows.
// An unfinished job of the same purpose and tables is resumed (its finished ranges are not read
// again); a finished one is never reused: a new comparison is a new job.
import { CrossmoveError } from '../errors.js';
import { q, type Conn } from '../mysql/connection.js';
import { readCutoverMarker } from '../mysql/switch-log.js';
import { readReplicaStatus } from '../mysql/status.js';
import type { Dialect } from '../mysql/dialect.js';
import type { MigrationInput } from '../input/validate.js';
import { CursorStore, STORE_SCHEMA, type PlannedRange } from '../chunks/cursor-store.js';
import { describeSchemaTables, sameWalk, tableName, type TableFacts } from '../chunks/keys.js';
import { longestFirst, planRanges } from '../chunks/planner.js';
import { compareColumns, storedColumns } from './columns.js';
import { addTables, ensureDiffStore, type PlannedTable } from './diff-store.js';
import { untilSupported } from '../mysql/applier.js';

export type DiffPurpose = 'gate' | 'on-demand';

export interface DiffPlan {
  job: string;
  purpose: DiffPurpose;
  tables: number;
  ranges: number;
  /** Tables compared as a whole or counted only (no row can be named there). */
  notVerifiableByRows: number;
  mode: 'exact' | 'settled';
  resumed: boolean;
}

/** The comparison runs after the cutover is impossible: the target no longer replicates from the source. */
class ComparisonNotPossibleError extends CrossmoveError {}

const SYSTEM = new Set(['mysql', 'information_schema', 'performance_schema', 'sys', STORE_SCHEMA]);
/** Rows per planned range: a range is one claim and one sync point. */
const ROWS_PER_RANGE = 500_000;
const MAX_RANGES_PER_TABLE = 64;

export interface PlanSides {
  source: Conn;
  target: Conn;
  sourceDialect: Dialect;
  targetDialect: Dialect;
  sameFamily: boolean;
}

export async function planDiff(s: PlanSides, input: MigrationInput, opts: { purpose: DiffPurpose; tables?: string[] }): Promise<DiffPlan> {
  await assertComparable(s, input);
  const store = await CursorStore.open(s.target, input.migrationId);
  await ensureDiffStore(s.target);
  const filter = (opts.tables ?? input.verify.tables ?? []).slice().sort();
  const mode: DiffPlan['mode'] = (await untilSupported(s.target, s.targetDialect)) ? 'exact' : 'settled';
  const previous = await store.jobs('diff');
  const unfinished = previous.find((j) => j.state !== 'done' && j.plan.purpose === opts.purpose && JSON.stringify(j.plan.filter ?? []) === JSON.stringify(filter));
  if (unfinished && unfinished.state === 'ready') {
    return { ...(unfinished.plan.summary as Omit<DiffPlan, 'resumed' | 'job'>), job: unfinished.job, resumed: true };
  }
  const job = unfinished?.job ?? `${opts.purpose === 'gate' ? 'gate' : 'verify'}-${previous.length + 1}`;
  await store.createJob(job, 'diff', { purpose: opts.purpose, filter });

  const schemas = await schemasToCompare(s.source, input, filter);
  const planned: PlannedTable[] = [];
  const ranges: PlannedRange[] = [];
  for (const schema of schemas) {
    const wanted = filter.filter((f) => f.startsWith(`${schema}.`) && !f.endsWith('.*')).map((f) => f.slice(schema.length + 1));
    const whole = filter.length === 0 || filter.includes(`${schema}.*`);
    const only = whole ? undefined : wanted;
    const [src, dst] = await Promise.all([describeSchemaTables(s.source, schema, only), describeSchemaTables(s.target, schema, only)]);
    const onTarget = new Map(dst.map((f) => [f.table.name, f]));
    for (const name of only ?? []) {
      if (!src.some((f) => f.table.name === name)) throw new CrossmoveError(`verify.tables: ${schema}.${name} does not exist on the source`);
    }
    for (const facts of src) {
      const t = onTarget.get(facts.table.name);
      const table = await planTable(s, facts, t ?? null);
      planned.push(table.entry);
      ranges.push(...table.ranges);
    }
    if (whole) {
      const onSource = new Set(src.map((f) => f.table.name));
      for (const f of dst.filter((x) => !onSource.has(x.table.name))) {
        planned.push({ table: f.table, key: null, ranges: 0, status: 'different', reason: 'only-on-target', detail: `${tableName(f.table)} exists on the target only (about ${f.estimatedRows} rows)` });
      }
    }
  }
  const ordered = longestFirst(ranges.map((r) => ({ ...r, estimatedRows: r.estimatedRows })));
  await addTables(s.target, input.migrationId, job, planned);
  await store.addRanges(job, ordered);
  const summary = {
    purpose: opts.purpose,
    tables: planned.length,
    ranges: ordered.length,
    notVerifiableByRows: planned.filter((p) => p.status === 'not-verifiable').length,
    mode,
  };
  await store.markReady(job, { purpose: opts.purpose, filter, summary });
  return { ...summary, job, resumed: false };
}

async function planTable(s: PlanSides, src: TableFacts, dst: TableFacts | null): Promise<{ entry: PlannedTable; ranges: PlannedRange[] }> {
  const table = src.table;
  if (!dst) {
    return { entry: { table, key: null, ranges: 0, status: 'different', reason: 'missing-on-target', detail: `${tableName(table)} is missing on the target (about ${src.estimatedRows} rows on the source)`, sourceRows: src.estimatedRows }, ranges: [] };
  }
  const columns = compareColumns(await storedColumns(s.source, table), await storedColumns(s.target, table), s.sameFamily);
  const notes = [
    ...(columns.onlyOnSource.length ? [`columns only on the source: ${columns.onlyOnSource.join(', ')}`] : []),
    ...(columns.onlyOnTarget.length ? [`columns only on the target: ${columns.onlyOnTarget.join(', ')}`] : []),
    ...columns.notCompared.map((c) => `${c.column} not compared (${c.why})`),
  ];
  const columnsNote = notes.join('; ') || undefined;
  const columnsDiffer = columns.onlyOnSource.length + columns.onlyOnTarget.length > 0;
  const estimatedBytes = src.dataBytes;
  const one = (key: PlannedRange['key']): PlannedRange[] => [{ table, key, range: { lo: null, hi: null }, estimatedRows: src.estimatedRows, estimatedBytes }];

  const sc = src.choice;
  const tc = dst.choice;
  if (sc.usable && tc.usable) {
    const walk = sameWalk(sc.key, tc.key);
    if (walk.same) {
      const pieces = Math.min(MAX_RANGES_PER_TABLE, Math.max(1, Math.ceil(src.estimatedRows / ROWS_PER_RANGE)));
      const keyRanges = await planRanges(s.source, table, sc.key, { pieces, estimatedRows: src.estimatedRows });
      const per = src.estimatedRows / keyRanges.length;
      return {
        entry: { table, key: sc.key, ranges: keyRanges.length, status: 'pending', ...(columnsDiffer ? { reason: 'columns-differ', detail: notes.join('; ') } : {}), columnsNote },
        ranges: keyRanges.map((range) => ({ table, key: sc.key, range, estimatedRows: per, estimatedBytes: estimatedBytes / keyRanges.length })),
      };
    }
    return notByRows(walk.reason, walk.detail);
  }
  const unusable = !sc.usable ? sc : !tc.usable ? { ...tc, detail: `on the target: ${tc.detail}` } : null;
  return notByRows(unusable!.reason, unusable!.detail);

  function notByRows(reason: string, detail: string) {
    const transactional = !(!sc.usable && sc.reason === 'not-transactional') && !(!tc.usable && tc.reason === 'not-transactional');
    const how = transactional ? 'compared as a whole by count and hash, no row can be named' : 'counted only (no consistent snapshot)';
    return {
      entry: { table, key: null, ranges: 1, status: 'not-verifiable' as const, reason, detail: `${detail}; ${how}`, columnsNote },
      ranges: one(null),
    };
  }
}

/** Schemas the migration moves (logical copy: initialLoad.schemas), without crossmove's own. */
async function schemasToCompare(source: Conn, input: MigrationInput, filter: string[]): Promise<string[]> {
  const rows = await q<{ s: string }>(source, 'SELECT SCHEMA_NAME AS s FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME');
  const excluded = new Set([...SYSTEM, input.names.heartbeatSchema]);
  let schemas = rows.map((r) => r.s).filter((x) => !excluded.has(x));
  const moved = input.initialLoad.method === 'logical' ? input.initialLoad.schemas : undefined;
  if (moved?.length) schemas = schemas.filter((x) => moved.includes(x));
  if (filter.length) {
    const named = new Set(filter.map((f) => f.slice(0, f.indexOf('.'))));
    const unknown = [...named].filter((x) => !schemas.includes(x));
    if (unknown.length) throw new CrossmoveError(`verify.tables: schema(s) ${unknown.join(', ')} are not among the migrated schemas on the source (${schemas.join(', ') || 'none'})`);
    schemas = schemas.filter((x) => named.has(x));
  }
  return schemas;
}

async function assertComparable(s: PlanSides, input: MigrationInput): Promise<void> {
  const marker = await readCutoverMarker(s.target, input.names.heartbeatSchema, input.migrationId).catch(() => null);
  if (marker && (marker.phase === 'past-point-of-no-return' || marker.phase === 'done')) {
    throw new ComparisonNotPossibleError(
      `migration ${input.migrationId} has cut over: the comparison runs while the target replicates from the source (before the cutover). After it, compare from the new primary with your own tools or fall back first.`,
    );
  }
  const status = await readReplicaStatus(s.target, s.targetDialect);
  if (!status) throw new ComparisonNotPossibleError('the target does not replicate from the source: start replication first (the comparison pauses it at exact source positions)');
}

