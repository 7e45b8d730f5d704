// A warning on the copy's reads or loads means a value may have changed: MySQL returns NULL for a
// rendered value over max_allowed_packet (1301), stores a truncated or converted value (1265, 1366)
// and skips rows (1062) with only a warning. So every warning stops the copy, unless it is proven
// harmless row by row. One is: 1265 for an ENUM column loaded with '' (the "error value", index 0,
// that a non-strict source stores for an invalid member). The target stores the same '' and warns,
// whatever form it is given in; the table definition is the source's, so no other value of an ENUM
// can be out of its list.
import type { Conn } from './connections.js';
import { isEnum, type ColumnType, type RowFormat } from './values.js';

export interface ServerWarning {
  level: string;
  code: number;
  message: string;
}

/** The warnings of the last statement on this connection. */
export async function lastWarnings(conn: Conn): Promise<ServerWarning[]> {
  const [rows] = await conn.query<any[]>('SHOW WARNINGS');
  return rows.map((r) => ({ level: String(r.Level), code: Number(r.Code), message: String(r.Message) }));
}

export function describeWarnings(warnings: ServerWarning[], total = warnings.length): string {
  const shown = warnings.slice(0, 3).map((w) => `${w.level} ${w.code}: ${w.message}`);
  return shown.join('; ') + (total > shown.length ? `; and ${total - shown.length} more` : '');
}

const ENUM_TRUNCATED = /^Data truncated for column '(.*)' at row (\d+)$/;

/**
 * The warnings of loading `rows` (as rendered, in order) that are not proven harmless. `total` is the
 * server's count: when it lists fewer than it counted, the rest cannot be proven and count against.
 */
export function unprovenWarnings(warnings: ServerWarning[], total: number, rows: Buffer[], columns: ColumnType[], format: RowFormat): ServerWarning[] {
  const unproven = warnings.filter((w) => !isEmptyEnum(w, rows, columns, format));
  if (total > warnings.length) unproven.push({ level: 'Warning', code: 0, message: `${total - warnings.length} more warnings than the server listed` });
  return unproven;
}

function isEmptyEnum(w: ServerWarning, rows: Buffer[], columns: ColumnType[], format: RowFormat): boolean {
  const m = w.code === 1265 ? ENUM_TRUNCATED.exec(w.message) : null;
  if (!m) return false;
  const index = columns.findIndex((c) => c.name === m[1]);
  const row = rows[Number(m[2]) - 1];
  if (index < 0 || !row || !isEnum(columns[index]!)) return false;
  const field = fieldsOf(row, format)[index];
  return field !== undefined && field === (format === 'load' ? '' : "''");
}

/** A rendered row split into its fields (as written: escaped, quoted). */
export function fieldsOf(row: Buffer, format: RowFormat): string[] {
  const text = row.toString('utf8');
  // In a load line a tab is always a separator (a tab in a value is written \t).
  if (format === 'load') return text.split('\t');
  const fields: string[] = [];
  let start = 1; // after "("
  let quoted = false;
  for (let i = 1; i < text.length - 1; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === "'") quoted = false;
    } else if (ch === "'") quoted = true;
    else if (ch === ',') {
      fields.push(text.slice(start, i));
      start = i + 1;
    }
  }
  fields.push(text.slice(start, text.length - 1));
  return fields;
}
