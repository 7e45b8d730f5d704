// What else an application has in flight when the cutover blocks its writes, beside the sysbench
// clients: a transaction that wrote rows and sits idle, long-running write statements (a multi-second
// UPDATE, an INSERT ... SELECT batch), a long read-only report. Each runs as the application user
// through the application's endpoint, marks the rows it writes so that a trace of it can be looked for
// afterwards, and reports how it ended.
import mysql from 'mysql2/promise';
import { SYSBENCH_PASSWORD, SYSBENCH_SCHEMA, SYSBENCH_USER, type AppEndpoint } from './sysbench.js';

export interface ActorOutcome {
  ok: boolean;
  errno?: number;
  message?: string;
}

export interface Actor {
  name: string;
  /** The value this actor writes (into `c` or `pad`), to look for on the servers afterwards. */
  marker: string | null;
  /** Its connection id on the server it started on. */
  connectionId: number;
  /** How it ended (for the idle transaction: what its COMMIT got when asked to commit). */
  outcome(): Promise<ActorOutcome>;
}

type Endpoint = AppEndpoint;

/** A connection as the application's user through `endpoint`. */
export function appConnection(endpoint: Endpoint): Promise<mysql.Connection> {
  const where = 'socketPath' in endpoint ? { socketPath: endpoint.socketPath } : { host: endpoint.host, port: endpoint.port };
  return mysql.createConnection({ ...where, user: SYSBENCH_USER, password: SYSBENCH_PASSWORD, database: SYSBENCH_SCHEMA });
}

async function connect(endpoint: Endpoint): Promise<{ conn: mysql.Connection; id: number }> {
  const conn = await appConnection(endpoint);
  conn.on('error', () => undefined); // a killed connection must not crash the process
  const [[row]] = (await conn.query('SELECT CONNECTION_ID() AS id')) as unknown as [{ id: number }[]];
  return { conn, id: Number(row!.id) };
}

const settle = (p: Promise<unknown>): Promise<ActorOutcome> =>
  p.then(
    () => ({ ok: true }),
    (e: { errno?: number; message?: string }) => ({ ok: false, errno: e.errno, message: e.message }),
  );

/**
 * BEGIN, an UPDATE of `rows` of the hottest sysbench rows (its default distribution sends three picks
 * in four to the 1 % of ids around the middle of a table) and nothing more: a batch job or a forgotten
 * session holding row locks that other clients queue behind. outcome() sends its COMMIT.
 */
export async function idleTransaction(endpoint: Endpoint, tableSize: number, rows = 10): Promise<Actor> {
  const { conn, id } = await connect(endpoint);
  const marker = `idle-transaction-${id}`;
  const first = Math.floor(tableSize / 2) - Math.floor(rows / 2);
  await conn.query('BEGIN');
  await conn.query('UPDATE sbtest1 SET c = ? WHERE id BETWEEN ? AND ?', [marker, first, first + rows - 1]);
  return {
    name: 'idle transaction',
    marker,
    connectionId: id,
    outcome: async () => {
      const r = await settle(conn.query('COMMIT'));
      conn.destroy();
      return r;
    },
  };
}

/**
 * A client queued behind `holder`: one autocommit UPDATE of the first row the holder locked, which
 * waits for the holder's row lock. The sysbench clients queue there too, but only by chance; this one
 * always does. Whether it commits depends on when the block releases the holder's lock.
 */
export async function queuedWrite(endpoint: Endpoint, tableSize: number, holderRows = 10): Promise<Actor> {
  const { conn, id } = await connect(endpoint);
  const marker = `queued-write-${id}`;
  const first = Math.floor(tableSize / 2) - Math.floor(holderRows / 2);
  const outcome = settle(conn.query('UPDATE sbtest1 SET c = ? WHERE id = ?', [marker, first])).finally(() => conn.destroy());
  return { name: 'queued write', marker, connectionId: id, outcome: () => outcome };
}

/**
 * A write statement that runs for about `seconds` (it paces itself row by row with SLEEP, holding each
 * row it has changed): `update` rewrites sbtest2, `insert-select` copies sbtest3 into sbtest_batch.
 */
export async function longWrite(endpoint: Endpoint, kind: 'update' | 'insert-select', seconds: number, tableSize: number): Promise<Actor> {
  const { conn, id } = await connect(endpoint);
  const marker = `long-${kind}-${id}`;
  const perRow = Math.max(0.00001, seconds / tableSize);
  const running =
    kind === 'update'
      ? conn.query('UPDATE sbtest2 SET pad = ? WHERE SLEEP(?) = 0', [marker, perRow])
      : conn.query('INSERT INTO sbtest_batch (id, k, c, pad) SELECT id, k, c, ? FROM sbtest3 WHERE SLEEP(?) = 0', [marker, perRow]);
  const outcome = settle(running).finally(() => conn.destroy());
  return { name: `long ${kind}`, marker, connectionId: id, outcome: () => outcome };
}

/** A report: one read-only transaction whose query scans sbtest4 for about `seconds`. */
export async function longRead(endpoint: Endpoint, seconds: number, tableSize: number): Promise<Actor> {
  const { conn, id } = await connect(endpoint);
  await conn.query('START TRANSACTION READ ONLY');
  const running = conn.query('SELECT COUNT(*), SUM(k) FROM sbtest4 WHERE SLEEP(?) = 0', [Math.max(0.00001, seconds / tableSize)]);
  const outcome = settle(running).finally(() => conn.destroy());
  return { name: 'long read', marker: null, connectionId: id, outcome: () => outcome };
}

/** Rows on a server that carry an actor's marker (none may survive an actor that did not commit). */
export async function markedRows(admin: mysql.Connection, marker: string): Promise<number> {
  let n = 0;
  for (const [table, column] of [
    ['sbtest1', 'c'],
    ['sbtest2', 'pad'],
    ['sbtest_batch', 'pad'],
  ] as const) {
    const [[row]] = (await admin.query(`SELECT COUNT(*) AS n FROM \`${SYSBENCH_SCHEMA}\`.${table} WHERE ${column} = ?`, [marker])) as unknown as [{ n: number }[]];
    n += Number(row!.n);
  }
  return n;
}

/**
 * What the application still has on a server: its sessions, and the InnoDB transactions of its
 * sessions that hold locks (after a cutover, none may be left on the old primary).
 */
export async function appLeftovers(admin: mysql.Connection): Promise<{ sessions: number[]; lockingTransactions: number[] }> {
  const [s] = await admin.query('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ?', [SYSBENCH_USER]);
  const [t] = await admin.query(
    `SELECT t.trx_mysql_thread_id AS id FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
      WHERE p.USER = ? AND (t.trx_lock_structs > 0 OR t.trx_rows_modified > 0)`,
    [SYSBENCH_USER],
  );
  return { sessions: (s as { id: number }[]).map((r) => Number(r.id)), lockingTransactions: (t as { id: number }[]).map((r) => Number(r.id)) };
}
