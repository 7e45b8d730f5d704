// Runs crossmove's own database code against a connection that executes nothing and returns the SQL
// it would send, as the server would receive it (values inlined), passwords masked. What `plan`
// prints is therefore rendered by the code that runs, not written a second time.
import mysql from 'mysql2/promise';
import type { Conn } from '../mysql/connection.js';

export const MASK = '********';

export interface RecordOptions {
  /** Secret values to mask in the output. */
  secrets?: string[];
  /** Every statement answers one empty row (for code that reads a row back, e.g. SELECT CONNECTION_ID()); default none. */
  oneRow?: boolean;
  /** Leave out reads (SELECT, SHOW): only what would change something. */
  changesOnly?: boolean;
}

export async function recordSql(run: (conn: Conn) => Promise<unknown>, opts: RecordOptions | string[] = {}): Promise<string[]> {
  const o: RecordOptions = Array.isArray(opts) ? { secrets: opts } : opts;
  const sent: string[] = [];
  const fake = {
    threadId: 0,
    query: async (sql: string | { sql: string; values?: unknown[] }, params?: unknown[]) => {
      const text = typeof sql === 'string' ? sql : sql.sql;
      const values = typeof sql === 'string' ? params : sql.values;
      let formatted = mysql.format(text, (values ?? []) as never[]);
      for (const s of o.secrets ?? []) formatted = formatted.split(mysql.escape(s)).join(`'${MASK}'`);
      sent.push(formatted);
      return [o.oneRow ? [{}] : [], []];
    },
    execute: async (sql: string, params?: unknown[]) => fake.query(sql, params),
  };
  await run(fake as unknown as Conn);
  return o.changesOnly ? sent.filter((s) => !/^\s*(SELECT|SHOW)\b/i.test(s)) : sent;
}
