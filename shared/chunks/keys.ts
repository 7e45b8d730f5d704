// The walk key of a table (read-only inspection): the index a chunked job walks in order, for the
// logical copy and the data comparison alike. The PRIMARY key when there is one (MySQL 8's invisible
// generated key my_row_id included), else the shortest UNIQUE B-tree key whose columns are all NOT
// NULL (NULLs repeat in a unique key and break keyset order). A table without one, a key over a
// prefix, a hash or an expression, a key column of a type without an exact text form (FLOAT, SET,
// JSON, spatial), or a non-transactional engine (no consistent snapshot) has no walk key: the caller
// reports why.
import { q, type Conn } from '../mysql/connection.js';

export interface TableRef {
  schema: string;
  name: string;
}

/** How a key column's values are read, kept and bound (key-values.ts). */
type KeyKind = 'int' | 'dec' | 'str' | 'bin' | 'time' | 'enum';

export interface KeyColumn {
  name: string;
  /** information_schema.COLUMNS.DATA_TYPE, lower case. */
  dataType: string;
  kind: KeyKind;
  /** Character set and collation of a text column (null for the others). */
  charset: string | null;
  collation: string | null;
}

export interface WalkKey {
  /** Index name: PRIMARY or the unique key's name. */
  index: string;
  columns: KeyColumn[];
  /** The first column is an integer: ranges can be planned by arithmetic over MIN/MAX. */
  integerLeading: boolean;
}

type UnusableReason =
  | 'no-key'
  | 'nullable-unique-only'
  | 'unsupported-key'
  | 'not-transactional'
  | 'key-differs'
  | 'collation-differs';

type KeyChoice = { usable: true; key: WalkKey } | { usable: false; reason: UnusableReason; detail: string };

export interface TableFacts {
  table: TableRef;
  engine: string | null;
  /** information_schema estimates (InnoDB samples them). */
  estimatedRows: number;
  dataBytes: number;
  /** Bytes per row by the same estimates (at least 1). */
  avgRowBytes: number;
  choice: KeyChoice;
}

const INTEGERS = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'bit', 'year']);
const DECIMALS = new Set(['decimal', 'numeric']);
const TEXTS = new Set(['char', 'varchar']);
const BINARIES = new Set(['binary', 'varbinary']);
const TEMPORALS = new Set(['date', 'datetime', 'timestamp', 'time']);
/** Engines whose tables a consistent snapshot covers. */
const TRANSACTIONAL = new Set(['innodb', 'xtradb', 'rocksdb', 'tokudb']);

function keyKindOf(dataType: string): KeyKind | null {
  const t = dataType.toLowerCase();
  if (INTEGERS.has(t)) return 'int';
  if (DECIMALS.has(t)) return 'dec';
  if (TEXTS.has(t)) return 'str';
  if (BINARIES.has(t)) return 'bin';
  if (TEMPORALS.has(t)) return 'time';
  if (t === 'enum') return 'enum';
  return null;
}

interface IndexColumnRow {
  t: string;
  idx: string;
  nonUnique: number;
  seq: number;
  col: string | null;
  subPart: number | null;
  indexType: string;
}

interface ColumnRow {
  t: string;
  c: string;
  type: string;
  nullable: string;
  charset: string | null;
  collation: string | null;
  octets: number | null;
}

/**
 * The walk key and size estimates of every base table of a schema (one set of catalog queries per
 * schema, so planning thousands of tables costs a handful of round trips).
 */
export async function describeSchemaTables(conn: Conn, schema: string, only?: string[]): Promise<TableFacts[]> {
  const filter = only?.length ? ' AND TABLE_NAME IN (?)' : '';
  const params = only?.length ? [schema, only] : [schema];
  const tables = await q<{ t: string; engine: string | null; n: unknown; b: unknown; avg: unknown }>(
    conn,
    `SELECT TABLE_NAME AS t, ENGINE AS engine, COALESCE(TABLE_ROWS, 0) AS n, COALESCE(DATA_LENGTH, 0) AS b, COALESCE(AVG_ROW_LENGTH, 0) AS avg
       FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'${filter} ORDER BY TABLE_NAME`,
    params,
  );
  const indexes = await q<IndexColumnRow>(
    conn,
    `SELECT TABLE_NAME AS t, INDEX_NAME AS idx, NON_UNIQUE AS nonUnique, SEQ_IN_INDEX AS seq, COLUMN_NAME AS col,
            SUB_PART AS subPart, INDEX_TYPE AS indexType
       FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND NON_UNIQUE = 0${filter}
      ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
    params,
  );
  const columns = await q<ColumnRow>(
    conn,
    `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, DATA_TYPE AS type, IS_NULLABLE AS nullable, CHARACTER_SET_NAME AS charset,
            COLLATION_NAME AS collation, CHARACTER_OCTET_LENGTH AS octets
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?${filter}`,
    params,
  );
  const byTable = <T extends { t: string }>(rows: T[]) => {
    const m = new Map<string, T[]>();
    for (const r of rows) m.set(r.t, [...(m.get(r.t) ?? []), r]);
    return m;
  };
  const idx = byTable(indexes);
  const cols = byTable(columns);
  return tables.map((t) => {
    const rows = Number(t.n);
    const bytes = Number(t.b);
    const avg = Number(t.avg) || (rows ? Math.ceil(bytes / rows) : 0);
    return {
      table: { schema, name: t.t },
      engine: t.engine,
      estimatedRows: rows,
      dataBytes: bytes,
      avgRowBytes: Math.max(1, avg),
      choice: chooseKey(t.engine, idx.get(t.t) ?? [], cols.get(t.t) ?? []),
    };
  });
}

/** The walk key of one table (describeSchemaTables for a single table). */
export async function describeTable(conn: Conn, table: TableRef): Promise<TableFacts | null> {
  const [facts] = await describeSchemaTables(conn, table.schema, [table.name]);
  return facts ?? null;
}

function chooseKey(engine: string | null, indexRows: IndexColumnRow[], columnRows: ColumnRow[]): KeyChoice {
  if (engine && !TRANSACTIONAL.has(engine.toLowerCase())) {
    return { usable: false, reason: 'not-transactional', detail: `engine ${engine} has no consistent snapshot` };
  }
  const column = new Map(columnRows.map((c) => [c.c, c]));
  const byIndex = new Map<string, IndexColumnRow[]>();
  for (const r of indexRows) byIndex.set(r.idx, [...(byIndex.get(r.idx) ?? []), r]);
  if (!byIndex.size) return { usable: false, reason: 'no-key', detail: 'no primary or unique key' };

  const candidates: { key: WalkKey; width: number }[] = [];
  const rejected: { reason: UnusableReason; detail: string }[] = [];
  for (const [name, parts] of byIndex) {
    parts.sort((a, b) => a.seq - b.seq);
    const problem = indexProblem(name, parts, column);
    if (problem) {
      rejected.push(problem);
      continue;
    }
    const keyColumns: KeyColumn[] = parts.map((p) => {
      const c = column.get(p.col!)!;
      return { name: c.c, dataType: c.type.toLowerCase(), kind: keyKindOf(c.type)!, charset: c.charset, collation: c.collation };
    });
    const width = parts.reduce((w, p) => w + widthOf(column.get(p.col!)!), 0);
    candidates.push({ key: { index: name, columns: keyColumns, integerLeading: keyColumns[0]!.kind === 'int' }, width });
  }
  const primary = candidates.find((c) => c.key.index === 'PRIMARY');
  if (primary) return { usable: true, key: primary.key };
  const primaryProblem = rejected.find((r) => r.detail.startsWith('PRIMARY'));
  if (candidates.length) {
    candidates.sort((a, b) => a.key.columns.length - b.key.columns.length || a.width - b.width || a.key.index.localeCompare(b.key.index));
    return { usable: true, key: candidates[0]!.key };
  }
  const first = primaryProblem ?? rejected.find((r) => r.reason !== 'nullable-unique-only') ?? rejected[0]!;
  if (rejected.every((r) => r.reason === 'nullable-unique-only')) {
    return { usable: false, reason: 'nullable-unique-only', detail: 'only unique keys with nullable columns (NULLs repeat in them)' };
  }
  return { usable: false, reason: first.reason, detail: first.detail };
}

function indexProblem(name: string, parts: IndexColumnRow[], column: Map<string, ColumnRow>): { reason: UnusableReason; detail: string } | null {
  const label = name === 'PRIMARY' ? 'PRIMARY key' : `unique key ${name}`;
  if (parts.some((p) => p.indexType.toUpperCase() !== 'BTREE')) return { reason: 'unsupported-key', detail: `${label} is a ${parts[0]!.indexType} index (no key order)` };
  for (const p of parts) {
    if (p.col === null) return { reason: 'unsupported-key', detail: `${label} is over an expression` };
    if (p.subPart !== null) return { reason: 'unsupported-key', detail: `${label} covers a prefix of ${p.col}` };
    const c = column.get(p.col);
    if (!c) return { reason: 'unsupported-key', detail: `${label}: column ${p.col} not found` };
    if (c.nullable === 'YES') return { reason: 'nullable-unique-only', detail: `${label}: ${p.col} is nullable` };
    if (!keyKindOf(c.type)) return { reason: 'unsupported-key', detail: `${label}: ${p.col} is ${c.type} (no exact order-preserving text form)` };
  }
  return null;
}

function widthOf(c: ColumnRow): number {
  switch (c.type.toLowerCase()) {
    case 'tinyint':
    case 'bit':
    case 'year':
      return 1;
    case 'smallint':
      return 2;
    case 'mediumint':
    case 'date':
      return 3;
    case 'int':
    case 'integer':
    case 'timestamp':
      return 4;
    case 'bigint':
    case 'datetime':
      return 8;
    default:
      return Number(c.octets ?? 16);
  }
}

/**
 * The same walk on both sides: a comparison binds the source's boundaries on the target, so both
 * keys must have the same columns, of the same kinds, under the same collations (a range predicate is
 * evaluated under each server's own collation; different ones could select different rows and report
 * phantom missing or extra rows).
 */
export function sameWalk(source: WalkKey, target: WalkKey): { same: true } | { same: false; reason: 'key-differs' | 'collation-differs'; detail: string } {
  const names = (k: WalkKey) => k.columns.map((c) => c.name).join(', ');
  if (source.columns.length !== target.columns.length || source.columns.some((c, i) => c.name !== target.columns[i]!.name || c.kind !== target.columns[i]!.kind)) {
    return { same: false, reason: 'key-differs', detail: `walk key (${names(source)}) on the source vs (${names(target)}) on the target` };
  }
  const differing = source.columns.find((c, i) => (c.collation ?? '') !== (target.columns[i]!.collation ?? ''));
  if (differing) {
    const t = target.columns[source.columns.indexOf(differing)]!;
    return { same: false, reason: 'collation-differs', detail: `key column ${differing.name}: collation ${differing.collation} on the source vs ${t.collation} on the target` };
  }
  return { same: true };
}

export const tableName = (t: TableRef) => `${t.schema}.${t.name}`;
