// Data verification at cutover (inspection only): row counts and CHECKSUM TABLE of every base table,
// or counts only. Runs while source writes are blocked and the target has applied everything, so the
// two sides must be identical. CHECKSUM TABLE is only comparable between the same engine/version
// family (true for clones; for a logical copy across versions use verify: counts).
import { ident, q, type Conn } from './connection.js';

export const SYSTEM_SCHEMAS = ['mysql', 'information_schema', 'performance_schema', 'sys'];
/** The logical copy's marker schema (shared/initial-load/inspect.ts MARKER_SCHEMA): only ever on the target, never verified. */
const BOOKKEEPING_SCHEMAS = ['crossmove_load'];

export interface TableDiff {
  table: string;
  sourceRows: number;
  targetRows: number | null;
  sourceChecksum?: string | null;
  targetChecksum?: string | null;
}

export interface VerifyResult {
  tablesVerified: number;
  /** null when verify is counts/none. */
  checksumsMatch: boolean | null;
  countsMatch: boolean;
  differences: TableDiff[];
}

export async function listTables(conn: Conn, excludeSchemas: string[], onlySchemas?: string[]): Promise<string[]> {
  const rows = await q<{ s: string; t: string }>(
    conn,
    `SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t FROM information_schema.TABLES
      WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN (?) ${onlySchemas?.length ? 'AND TABLE_SCHEMA IN (?)' : ''}
      ORDER BY TABLE_SCHEMA, TABLE_NAME`,
    onlySchemas?.length
      ? [[...SYSTEM_SCHEMAS, ...BOOKKEEPING_SCHEMAS, ...excludeSchemas], onlySchemas]
      : [[...SYSTEM_SCHEMAS, ...BOOKKEEPING_SCHEMAS, ...excludeSchemas]],
  );
  return rows.map((r) => `${ident(r.s)}.${ident(r.t)}`);
}

async function counts(conn: Conn, tables: string[], timeoutMs: number): Promise<Map<string, number | null>> {
  const out = new Map<string, number | null>();
  for (const t of tables) {
    try {
      const [row] = await q<{ n: number }>(conn, `SELECT COUNT(*) AS n FROM ${t}`, [], timeoutMs);
      out.set(t, Number(row!.n));
    } catch (err) {
      if (!/1146|doesn't exist/.test((err as Error).message)) throw err;
      out.set(t, null);
    }
  }
  return out;
}

async function checksums(conn: Conn, tables: string[], timeoutMs: number): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  if (!tables.length) return out;
  // One statement for all tables; a missing table answers Checksum NULL instead of failing.
  const rows = await q<{ Table: string; Checksum: unknown }>(conn, `CHECKSUM TABLE ${tables.join(', ')}`, [], timeoutMs);
  tables.forEach((t, i) => {
    const c = rows[i]?.Checksum;
    out.set(t, c === null || c === undefined ? null : String(c));
  });
  return out;
}

export async function verifyData(
  source: Conn,
  target: Conn,
  mode: 'checksum' | 'counts' | 'none',
  opts: { excludeSchemas: string[]; onlySchemas?: string[]; timeoutMs: number },
): Promise<VerifyResult> {
  if (mode === 'none') return { tablesVerified: 0, checksumsMatch: null, countsMatch: true, differences: [] };
  const tables = await listTables(source, opts.excludeSchemas, opts.onlySchemas);
  const [sc, tc] = await Promise.all([counts(source, tables, opts.timeoutMs), counts(target, tables, opts.timeoutMs)]);
  const [ss, ts] =
    mode === 'checksum'
      ? await Promise.all([checksums(source, tables, opts.timeoutMs), checksums(target, tables, opts.timeoutMs)])
      : [null, null];
  const differences: TableDiff[] = [];
  let countsMatch = true;
  let checksumsMatch = true;
  for (const t of tables) {
    const countOk = sc.get(t) === tc.get(t);
    const sumOk = !ss || (ss.get(t) !== null && ss.get(t) === ts!.get(t));
    countsMatch &&= countOk;
    checksumsMatch &&= sumOk;
    if (!countOk || !sumOk) {
      differences.push({
        table: t.replace(/`/g, ''),
        sourceRows: sc.get(t) ?? 0,
        targetRows: tc.get(t) ?? null,
        ...(ss ? { sourceChecksum: ss.get(t) ?? null, targetChecksum: ts!.get(t) ?? null } : {}),
      });
    }
  }
  return { tablesVerified: tables.length, checksumsMatch: mode === 'checksum' ? checksumsMatch : null, countsMatch, differences };
}

export function describeDifferences(d: TableDiff[]): string {
  return d
    .slice(0, 10)
    .map((x) =>
      `${x.table}: rows ${x.sourceRows} on the source vs ${x.targetRows ?? 'missing'} on the target` +
      (x.sourceChecksum !== undefined ? `, checksum ${x.sourceChecksum} vs ${x.targetChecksum}` : ''),
    )
    .join('; ') + (d.length > 10 ? `; and ${d.length - 10} more` : '');
}
