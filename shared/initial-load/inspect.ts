// Read-only inspection of the source: which schemas, tables, columns and objects the copy covers.
// Nothing here changes anything (the copy's actions live in ddl.ts and rows.ts).
import type { RowDataPacket } from 'mysql2/promise';
import { type Conn, q } from './connections.js';
import type { ColumnType } from './values.js';

/** Never copied: the server's own schemas, and the copy's bookkeeping schema on a target. */
export const SYSTEM_SCHEMAS = ['mysql', 'information_schema', 'performance_schema', 'sys'];
export const MARKER_SCHEMA = 'crossmove_load';

export interface TableInfo {
  schema: string;
  name: string;
  /** Columns written by the copy (generated columns excluded: the target computes them). */
  columns: string[];
  /** The columns' types, for rendering rows as SQL on the source (values.ts). */
  columnTypes: ColumnType[];
  /** Primary key columns in order (empty for a table without one). */
  primaryKey: string[];
  /** The first primary key column is an integer, so the table can be split into ranges. */
  integerKey: boolean;
  estimatedRows: number;
  dataBytes: number;
}

export interface SchemaObjects {
  schema: string;
  createDatabase: string;
  tables: { name: string; create: string }[];
  views: { name: string; create: string }[];
  routines: { kind: 'PROCEDURE' | 'FUNCTION'; name: string; create: string; sqlMode: string }[];
  triggers: { name: string; create: string; sqlMode: string }[];
  events: { name: string; create: string; sqlMode: string }[];
}

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'bigint']);

export async function listSchemas(conn: Conn, requested?: string[]): Promise<string[]> {
  const [rows] = await conn.query<RowDataPacket[]>('SELECT SCHEMA_NAME AS s FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME');
  const present = rows.map((r) => r.s as string);
  if (requested?.length) {
    const missing = requested.filter((s) => !present.includes(s));
    if (missing.length) return Promise.reject(Object.assign(new Error(`missing:${missing.join(',')}`), { missing }));
    return requested;
  }
  return present.filter((s) => !SYSTEM_SCHEMAS.includes(s) && s !== MARKER_SCHEMA);
}

export async function describeTables(conn: Conn, schemas: string[]): Promise<TableInfo[]> {
  if (!schemas.length) return [];
  const [tables] = await conn.query<RowDataPacket[]>(
    `SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, COALESCE(TABLE_ROWS, 0) AS n, COALESCE(DATA_LENGTH, 0) AS b
       FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA IN (?)`,
    [schemas],
  );
  const [columns] = await conn.query<RowDataPacket[]>(
    `SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, COLUMN_NAME AS c, DATA_TYPE AS type, CHARACTER_SET_NAME AS cs, COLUMN_KEY AS k,
            EXTRA AS extra, GENERATION_EXPRESSION AS gen,
            IS_NULLABLE AS nullable, COLUMN_TYPE AS ctype
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (?) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
    [schemas],
  );
  const [keys] = await conn.query<RowDataPacket[]>(
    `SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA IN (?) AND INDEX_NAME = 'PRIMARY' ORDER BY TABLE_SCHEMA, TABLE_NAME, SEQ_IN_INDEX`,
    [schemas],
  );
  return tables.map((t) => {
    const own = columns.filter((c) => c.s === t.s && c.t === t.t);
    const primaryKey = keys.filter((k) => k.s === t.s && k.t === t.t).map((k) => k.c as string);
    const firstKeyType = own.find((c) => c.c === primaryKey[0])?.type as string | undefined;
    const copied = own.filter((c) => !isGenerated(c.extra, c.gen));
    return {
      schema: t.s,
      name: t.t,
      columns: copied.map((c) => c.c as string),
      columnTypes: copied.map((c) => columnType(c)),
      primaryKey,
      integerKey: firstKeyType !== undefined && INTEGER_TYPES.has(firstKeyType.toLowerCase()),
      estimatedRows: Number(t.n),
      dataBytes: Number(t.b),
    };
  });
}

/** What the copy needs to know of a column to read it (values.ts). */
function columnType(c: RowDataPacket): ColumnType {
  const type: ColumnType = { name: c.c as string, dataType: c.type as string, charset: (c.cs as string | null) ?? null };
  if (c.nullable === 'NO') type.notNull = true;
  const kind = String(c.type).toLowerCase();
  // The member list as COLUMN_TYPE spells it, e.g. enum('a','b'): none of the bytes LOAD DATA gives a
  // meaning to anywhere in it (however the server writes them there), so no member holds one.
  if ((kind === 'enum' || kind === 'set') && !/[\\\t\n\0]/.test(String(c.ctype))) type.plainMembers = true;
  return type;
}

/**
 * A computed column (not copied: the target computes it). MySQL 8 / Aurora 3 report DEFAULT_GENERATED in
 * EXTRA for ordinary columns with DEFAULT CURRENT_TIMESTAMP or DEFAULT (expr): those hold data and must
 * be copied, so only a generation expression or the VIRTUAL/STORED/PERSISTENT kinds count.
 */
export function isGenerated(extra: string | null, expression: string | null): boolean {
  if (expression && expression.trim() !== '') return true;
  return /\b(VIRTUAL|PERSISTENT|STORED)\b/i.test((extra ?? '').replace(/DEFAULT_GENERATED/gi, ''));
}

/** Every object of a schema as CREATE statements, as the source shows them. */
export async function readSchemaObjects(conn: Conn, schema: string): Promise<SchemaObjects> {
  const one = async (sql: string) => {
    const [rows] = await conn.query<RowDataPacket[]>(sql);
    return rows[0] as RowDataPacket & Record<string, string>;
  };
  const db = await one(`SHOW CREATE DATABASE ${q(schema)}`);
  const [full] = await conn.query<RowDataPacket[]>(
    `SELECT TABLE_NAME AS t, TABLE_TYPE AS type FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME`,
    [schema],
  );
  const objects: SchemaObjects = {
    schema,
    createDatabase: db['Create Database']!,
    tables: [],
    views: [],
    routines: [],
    triggers: [],
    events: [],
  };
  for (const row of full) {
    if (row.type === 'BASE TABLE') {
      const r = await one(`SHOW CREATE TABLE ${q(schema)}.${q(row.t)}`);
      objects.tables.push({ name: row.t, create: r['Create Table']! });
    } else if (row.type === 'VIEW') {
      const r = await one(`SHOW CREATE VIEW ${q(schema)}.${q(row.t)}`);
      objects.views.push({ name: row.t, create: r['Create View']! });
    }
  }
  const [routines] = await conn.query<RowDataPacket[]>(
    `SELECT ROUTINE_NAME AS n, ROUTINE_TYPE AS kind FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? ORDER BY ROUTINE_NAME`,
    [schema],
  );
  for (const r of routines) {
    const kind = r.kind as 'PROCEDURE' | 'FUNCTION';
    const row = await one(`SHOW CREATE ${kind} ${q(schema)}.${q(r.n)}`);
    const create = row[kind === 'PROCEDURE' ? 'Create Procedure' : 'Create Function'];
    if (!create) throw new Error(`cannot read the body of ${kind} ${schema}.${r.n} (needs SHOW_ROUTINE / SELECT on mysql.proc)`);
    objects.routines.push({ kind, name: r.n, create, sqlMode: row.sql_mode ?? '' });
  }
  const [triggers] = await conn.query<RowDataPacket[]>(
    `SELECT TRIGGER_NAME AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY ACTION_ORDER`,
    [schema],
  );
  for (const t of triggers) {
    const row = await one(`SHOW CREATE TRIGGER ${q(schema)}.${q(t.n)}`);
    objects.triggers.push({ name: t.n, create: row['SQL Original Statement']!, sqlMode: row.sql_mode ?? '' });
  }
  const [events] = await conn.query<RowDataPacket[]>(
    `SELECT EVENT_NAME AS n FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? ORDER BY EVENT_NAME`,
    [schema],
  );
  for (const e of events) {
    const row = await one(`SHOW CREATE EVENT ${q(schema)}.${q(e.n)}`);
    objects.events.push({ name: e.n, create: row['Create Event']!, sqlMode: row.sql_mode ?? '' });
  }
  return objects;
}

export async function binlogPosition(conn: Conn): Promise<{ file: string; position: number } | null> {
  // MySQL 8.4 renamed the statement; MariaDB and older MySQL only know the old name.
  const [rows] = await conn
    .query<RowDataPacket[]>('SHOW MASTER STATUS')
    .catch(() => conn.query<RowDataPacket[]>('SHOW BINARY LOG STATUS'));
  const r = rows[0];
  if (!r?.File) return null;
  return { file: r.File as string, position: Number(r.Position) };
}
