// A write load like an application's: a non-admin user inserting ~200 rows/s, recording every
// acknowledged write (id, time, server). It can be repointed to the target after cutover, and measures
// the write-unavailability window from the writer's side: last acknowledged source write before the
// block -> first acknowledged target write after it.
import mysql from 'mysql2/promise';

export interface LoadEndpoint {
  host: string;
  port: number;
  name: string;
}

export interface AckedWrite {
  id: number;
  at: number;
  server: string;
}

export const APP_USER = 'app_writer';
export const APP_PASSWORD = 'app-writer-pw-91x';

/** Creates the load's schema, table and non-admin user on a server (not replicated: sql_log_bin=0 for the user). */
export async function prepareLoadSchema(admin: mysql.Connection, database = 'app', opts: { user?: boolean; table?: boolean } = { user: true, table: true }): Promise<void> {
  if (opts.table !== false) {
    await admin.query(`CREATE DATABASE IF NOT EXISTS \`${database}\``);
    await admin.query(
      `CREATE TABLE IF NOT EXISTS \`${database}\`.writes (id BIGINT NOT NULL PRIMARY KEY, payload VARCHAR(64) NOT NULL, created DATETIME(6) NOT NULL) ENGINE=InnoDB`,
    );
  }
  if (opts.user !== false) {
    await admin.query('SET SESSION sql_log_bin = 0');
    await admin.query(`CREATE USER IF NOT EXISTS '${APP_USER}'@'%' IDENTIFIED BY '${APP_PASSWORD}'`);
    await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON \`${database}\`.* TO '${APP_USER}'@'%'`);
    await admin.query('SET SESSION sql_log_bin = 1');
  }
}

const now = () => performance.timeOrigin + performance.now();

export class WriteLoad {
  readonly acked: AckedWrite[] = [];
  failures = 0;
  /** The last error seen, for diagnostics. */
  lastError: string | null = null;
  private endpoint: LoadEndpoint;
  private conn: mysql.Connection | null = null;
  private running = false;
  private loop: Promise<void> | null = null;
  private nextId: number;
  private paused = false;

  constructor(endpoint: LoadEndpoint, private readonly opts: { ratePerSec?: number; database?: string; firstId?: number } = {}) {
    this.endpoint = endpoint;
    this.nextId = opts.firstId ?? 1;
  }

  start(): this {
    this.running = true;
    this.loop = this.run();
    return this;
  }

  /** The application moves to another server (after cutover). */
  repoint(endpoint: LoadEndpoint): void {
    this.endpoint = endpoint;
    const old = this.conn;
    this.conn = null;
    old?.destroy();
  }

  pause(on: boolean): void {
    this.paused = on;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.conn?.destroy();
    this.conn = null;
  }

  ackedIds(server?: string): number[] {
    return this.acked.filter((w) => !server || w.server === server).map((w) => w.id);
  }

  /** Last acknowledged write on `from` before the first acknowledged write on `to` (ms). */
  unavailableMs(from: string, to: string): number | null {
    const firstTo = this.acked.find((w) => w.server === to);
    if (!firstTo) return null;
    const lastFrom = [...this.acked].reverse().find((w) => w.server === from && w.at <= firstTo.at);
    return lastFrom ? firstTo.at - lastFrom.at : null;
  }

  writesPerSec(): number {
    if (this.acked.length < 2) return 0;
    return (this.acked.length - 1) / ((this.acked.at(-1)!.at - this.acked[0]!.at) / 1000);
  }

  private async run(): Promise<void> {
    const interval = 1000 / (this.opts.ratePerSec ?? 200);
    const db = this.opts.database ?? 'app';
    let next = now();
    while (this.running) {
      if (this.paused) {
        await sleep(5);
        next = now();
        continue;
      }
      const wait = next - now();
      if (wait > 0) await sleep(wait);
      next += interval;
      const id = this.nextId++;
      const target = this.endpoint;
      try {
        if (!this.conn) {
          const conn = await mysql.createConnection({ host: target.host, port: target.port, user: APP_USER, password: APP_PASSWORD, database: db, connectTimeout: 2000 });
          // repoint() may have run while this connection was being opened: a connection to the old
          // server would keep writing to it under the new server's name.
          if (this.endpoint !== target) {
            conn.destroy();
            this.nextId--;
            continue;
          }
          this.conn = conn;
        }
        // Bounded, so a stuck statement never stalls the load (it counts as a failed, unacknowledged write).
        await this.conn.query({ sql: 'INSERT INTO writes (id, payload, created) VALUES (?, ?, NOW(6))', values: [id, `w${id}`], timeout: 2000 });
        this.acked.push({ id, at: now(), server: target.name });
      } catch (err) {
        this.failures++;
        const e = err as { errno?: number; fatal?: boolean; message?: string };
        this.lastError = `${target.name}: ${e.message}`;
        if (e.fatal || e.errno !== 1290) {
          this.conn?.destroy();
          this.conn = null;
        }
        // Retry quickly (with a new id: a write whose ack was lost may or may not exist; it is not "lost").
        await sleep(1);
        next = now();
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
