// Which columns the comparison hashes (read-only): every stored column of a table, by name, in the
// source's column order. VIRTUAL generated columns are left out: they are computed on read and hold
// no data (MariaDB's CHECKSUM TABLE differs on identical rows with one). STORED/PERSISTENT generated
// columns are stored data and are compared. Columns present on one side only are named; the rows are
// compared on the columns both sides have.
import { q, type Conn } from '../mysql/connection.js';
import type { TableRef } from '../chunks/keys.js';

/** How a column's value is rendered for the hash (row-hash.ts). */
type HashKind = 'number' | 'float' | 'bit' | 'temporal' | 'text' | 'binary' | 'spatial' | 'json';

export interface HashColumn {
  name: string;
  kind: HashKind;
  /** Text stored in another character set than utf8mb4 on either side: converted before hashing. */
  convert?: boolean;
}

export interface ColumnSet {
  columns: HashColumn[];
  /** Stored columns the source has and the target lacks, and the reverse. */
  onlyOnSource: string[];
  onlyOnTarget: string[];
  /** Compared by neither hash nor rows, with why (JSON across MySQL and MariaDB). */
  notCompared: { column: string; why: string }[];
}

const NUMBERS = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'decimal', 'numeric', 'year']);
const FLOATS = new Set(['float', 'double', 'real']);
const TEMPORAL = new Set(['date', 'datetime', 'timestamp', 'time']);
const BINARY = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);
const SPATIAL = new Set(['geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection', 'geomcollection']);

function hashKindOf(dataType: string): HashKind {
  const t = dataType.toLowerCase();
  if (NUMBERS.has(t)) return 'number';
  if (FLOATS.has(t)) return 'float';
  if (t === 'bit') return 'bit';
  if (TEMPORAL.has(t)) return 'temporal';
  if (BINARY.has(t)) return 'binary';
  if (SPATIAL.has(t)) return 'spatial';
  if (t === 'json') return 'json';
  return 'text';
}

interface StoredColumn {
  name: string;
  dataType: string;
  charset: string | null;
}

/** The stored (not VIRTUAL) columns of a table in column order; empty when the table does not exist. */
export async function storedColumns(conn: Conn, table: TableRef): Promise<StoredColumn[]> {
  const rows = await q<{ c: string; type: string; extra: string | null; cs: string | null }>(
    conn,
    `SELECT COLUMN_NAME AS c, DATA_TYPE AS type, EXTRA AS extra, CHARACTER_SET_NAME AS cs FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [table.schema, table.name],
  );
  return rows.filter((r) => !/\bVIRTUAL\b/i.test(r.extra ?? '')).map((r) => ({ name: r.c, dataType: r.type.toLowerCase(), charset: r.cs ? r.cs.toLowerCase() : null }));
}

/**
 * The columns compared on both sides. `sameFamily`: both servers are MariaDB or both MySQL. JSON is
 * text in MariaDB and a normalised binary type in MySQL, so across families it is not compared
 * (named in notCompared); within one family its text is compared.
 */
export function compareColumns(source: StoredColumn[], target: StoredColumn[], sameFamily: boolean): ColumnSet {
  const onTarget = new Map(target.map((c) => [c.name.toLowerCase(), c]));
  const onSource = new Set(source.map((c) => c.name.toLowerCase()));
  const columns: HashColumn[] = [];
  const notCompared: ColumnSet['notCompared'] = [];
  for (const c of source) {
    const t = onTarget.get(c.name.toLowerCase());
    if (!t) continue;
    const json = c.dataType === 'json' || t.dataType === 'json';
    if (json && !sameFamily) {
      notCompared.push({ column: c.name, why: 'JSON is stored differently by MySQL and MariaDB' });
      continue;
    }
    const kind: HashKind = json ? 'json' : hashKindOf(c.dataType);
    const utf8 = (x: StoredColumn) => x.charset === null || x.charset === 'utf8mb4' || x.charset === 'binary';
    columns.push({ name: c.name, kind, ...(kind === 'text' && (!utf8(c) || !utf8(t)) ? { convert: true } : {}) });
  }
  return {
    columns,
    onlyOnSource: source.filter((c) => !onTarget.has(c.name.toLowerCase())).map((c) => c.name),
    onlyOnTarget: target.filter((c) => !onSource.has(c.name.toLowerCase())).map((c) => c.name),
    notCompared,
  };
}
