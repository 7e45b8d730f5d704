// Preflight: the tables that will be migrated. Tables without a primary key replicate slowly in ROW
// format (each row event scans the table) and cannot be chunked by the logical copy; tables in other
// engines than InnoDB are not crash-safe and a clone/replica may diverge; a logical copy must not
// overwrite tables that already exist on the target. Read-only (information_schema).
import type { MigrationInput } from '../input/validate.js';
import { q, type Conn } from '../mysql/connection.js';
import { SYSTEM_SCHEMAS } from '../mysql/verify.js';
import { fail, pass, warn, type CheckOutcome } from './checks.js';
import { readMarker } from '../initial-load/marker.js';
import { RESERVED_SCHEMAS } from '../input/names.js';

export interface TableFacts {
  schema: string;
  table: string;
  engine: string;
  hasPrimaryKey: boolean;
  bytes: number;
}

/** Schemas the migration moves: initialLoad.schemas for a logical copy that names them, else every non-system schema. */
export function scopeFilter(input: MigrationInput): { exclude: string[]; only?: string[] } {
  const only = input.initialLoad.method === 'logical' && input.initialLoad.schemas?.length ? input.initialLoad.schemas : undefined;
  return { exclude: [...SYSTEM_SCHEMAS, input.names.heartbeatSchema], only };
}

export async function readTables(conn: Conn, scope: { exclude: string[]; only?: string[] }): Promise<TableFacts[]> {
  const rows = await q<{ s: string; t: string; e: string | null; pk: number; b: unknown }>(
    conn,
    `SELECT t.TABLE_SCHEMA AS s, t.TABLE_NAME AS t, t.ENGINE AS e, COALESCE(t.DATA_LENGTH, 0) + COALESCE(t.INDEX_LENGTH, 0) AS b,
            EXISTS (SELECT 1 FROM information_schema.TABLE_CONSTRAINTS c
                     WHERE c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME AND c.CONSTRAINT_TYPE = 'PRIMARY KEY') AS pk
       FROM information_schema.TABLES t
      WHERE t.TABLE_TYPE = 'BASE TABLE' AND t.TABLE_SCHEMA NOT IN (?) ${scope.only ? 'AND t.TABLE_SCHEMA IN (?)' : ''}
      ORDER BY t.TABLE_SCHEMA, t.TABLE_NAME`,
    scope.only ? [scope.exclude, scope.only] : [scope.exclude],
  );
  return rows.map((r) => ({ schema: r.s, table: r.t, engine: String(r.e ?? ''), hasPrimaryKey: Number(r.pk) === 1, bytes: Number(r.b ?? 0) }));
}

const name = (t: TableFacts) => `${t.schema}.${t.table}`;

/** Logical copy with initialLoad.schemas: every schema it names exists on the source. */
export async function schemasCheck(source: Conn, wanted: string[]): Promise<CheckOutcome> {
  const present = (await q<{ s: string }>(source, 'SELECT SCHEMA_NAME AS s FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME')).map((r) => r.s);
  const missing = wanted.filter((s) => !present.includes(s));
  if (!missing.length) return pass('db-schemas', `initialLoad.schemas: all ${wanted.length} schema(s) exist on the source.`);
  const candidates = present.filter((s) => !SYSTEM_SCHEMAS.includes(s) && !RESERVED_SCHEMAS.includes(s));
  return fail(
    'db-schemas',
    `initialLoad.schemas names schema(s) that do not exist on the source: ${listed(missing)}.`,
    `Correct or remove them in initialLoad.schemas (names are case-sensitive); the source has: ${listed(candidates) || 'no schema of its own'}.`,
  );
}

function listed(names: string[], max = 20): string {
  return names.slice(0, max).join(', ') + (names.length > max ? ` and ${names.length - max} more` : '');
}

export function primaryKeyCheck(tables: TableFacts[]): CheckOutcome {
  const without = tables.filter((t) => !t.hasPrimaryKey).map(name);
  if (!without.length) return pass('db-primary-keys', `All ${tables.length} table(s) to migrate have a primary key.`);
  return warn(
    'db-primary-keys',
    `${without.length} table(s) have no primary key: ${listed(without)}. Replication applies their row changes with full table scans (lag grows with their size), and a logical copy cannot split them into chunks.`,
    'Add a primary key (or at least a unique NOT NULL key) to each before the migration, e.g. ALTER TABLE t ADD COLUMN id BIGINT AUTO_INCREMENT PRIMARY KEY.',
  );
}

export function engineCheck(tables: TableFacts[]): CheckOutcome {
  const other = tables.filter((t) => t.engine.toLowerCase() !== 'innodb');
  if (!other.length) return pass('db-table-engines', `All ${tables.length} table(s) to migrate are InnoDB.`);
  return fail(
    'db-table-engines',
    `${other.length} table(s) are not InnoDB: ${listed(other.map((t) => `${name(t)} (${t.engine || 'unknown engine'})`))}. They are not transactional: a consistent copy, crash-safe replication and the cutover's guarantees do not hold for them (Aurora MySQL supports only InnoDB).`,
    `Convert them before the migration: ALTER TABLE <table> ENGINE=InnoDB (e.g. ${other
      .slice(0, 3)
      .map((t) => `ALTER TABLE \`${t.schema}\`.\`${t.table}\` ENGINE=InnoDB`)
      .join('; ')}).`,
  );
}

/** Logical copy only: tables the copy would create that already exist on the target. */
export async function targetEmptyCheck(target: Conn, sourceTables: TableFacts[], scope: { exclude: string[]; only?: string[] }, migrationId?: string): Promise<CheckOutcome> {
  // Schemas this migration's own copy created (a re-run after a crash or retry) are not a clash: the
  // copy finds its marker and reuses or redoes them.
  const ours = new Set(migrationId ? ((await readMarker(target, migrationId))?.schemas ?? []) : []);
  const existing = new Set((await readTables(target, scope)).filter((t) => !ours.has(t.schema)).map(name));
  const clash = sourceTables.map(name).filter((n) => existing.has(n));
  if (!clash.length) return pass('db-target-empty', 'No table the logical copy creates exists on the target yet.');
  return fail(
    'db-target-empty',
    `${clash.length} table(s) the logical copy would create already exist on the target and would be overwritten: ${listed(clash)}.`,
    'Drop them on the target (after checking they hold nothing you need), load into an empty target, or narrow initialLoad.schemas.',
  );
}
