// Heartbeat lag (gh-ost / pt-heartbeat style). One row in <heartbeatSchema>.heartbeat on the source holds
// the source clock in microseconds; replication carries it to the target. Lag is measured on the
// source's clock only (no clock skew between servers):
// - active (one Lambda check): write a beat, wait until the target shows it; lag = time to appear.
// - passive (local/bench, with a background writer every 100 ms): source NOW - newest beat on the target.
// The row is created before the initial load (by "Keep binlogs long enough") and only UPDATEd after
// that, so a target that got the table from any initial load applies every beat.
import { ident, q, type Conn } from './connection.js';

export const HEARTBEAT_TABLE = 'heartbeat';
const NOW_US = 'CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS UNSIGNED)';

export async function ensureHeartbeatTable(conn: Conn, schema: string): Promise<void> {
  await q(conn, `CREATE DATABASE IF NOT EXISTS ${ident(schema)}`);
  await q(
    conn,
    `CREATE TABLE IF NOT EXISTS ${ident(schema)}.${HEARTBEAT_TABLE} (id TINYINT UNSIGNED NOT NULL PRIMARY KEY, ts_us BIGINT UNSIGNED NOT NULL, server_id INT UNSIGNED NOT NULL) ENGINE=InnoDB`,
  );
  await q(conn, `INSERT IGNORE INTO ${ident(schema)}.${HEARTBEAT_TABLE} (id, ts_us, server_id) VALUES (1, ${NOW_US}, @@server_id)`);
}

/** Writes one beat on the source; returns its value (source clock, µs). */
export async function writeHeartbeat(source: Conn, schema: string): Promise<number> {
  await q(source, `SET @crossmove_hb = ${NOW_US}`);
  await q(source, `UPDATE ${ident(schema)}.${HEARTBEAT_TABLE} SET ts_us = @crossmove_hb, server_id = @@server_id WHERE id = 1`);
  const [row] = await q<{ v: number }>(source, 'SELECT @crossmove_hb AS v');
  return Number(row!.v);
}

/** The newest beat the target has applied (µs), or null when the table/row is missing. */
export async function replicatedHeartbeat(target: Conn, schema: string): Promise<number | null> {
  try {
    const [row] = await q<{ v: number }>(target, `SELECT ts_us AS v FROM ${ident(schema)}.${HEARTBEAT_TABLE} WHERE id = 1`);
    return row ? Number(row.v) : null;
  } catch (err) {
    if (/1146|doesn't exist|1049/.test((err as Error).message)) return null;
    throw err;
  }
}

async function sourceNowUs(source: Conn): Promise<number> {
  const [row] = await q<{ v: number }>(source, `SELECT ${NOW_US} AS v`);
  return Number(row!.v);
}

/** Passive: age of the newest beat on the target, on the source's clock (ms). */
export async function passiveHeartbeatLagMs(source: Conn, target: Conn, schema: string): Promise<number | null> {
  const beat = await replicatedHeartbeat(target, schema);
  if (beat === null) return null;
  return Math.max(0, (await sourceNowUs(source)) - beat) / 1000;
}

/**
 * Active: writes a beat and polls the target until it shows it, at most `maxWaitMs`. When it does not
 * show up in time the lag is at least the wait, or the age of the newest beat the target has.
 */
export async function activeHeartbeatLagMs(source: Conn, target: Conn, schema: string, maxWaitMs: number, pollMs = 10): Promise<number | null> {
  const beat = await writeHeartbeat(source, schema);
  for (;;) {
    const seen = await replicatedHeartbeat(target, schema);
    const now = await sourceNowUs(source);
    if (seen !== null && seen >= beat) return Math.max(0, now - beat) / 1000;
    if ((now - beat) / 1000 >= maxWaitMs) return seen === null ? null : Math.max(now - beat, now - seen) / 1000;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** A background writer for local runs and benchmarks (a Lambda cannot keep one running). */
export class HeartbeatWriter {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  beats = 0;
  errors = 0;
  constructor(private readonly conn: Conn, private readonly schema: string, private readonly intervalMs = 100) {}
  start(): this {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      writeHeartbeat(this.conn, this.schema)
        .then(() => this.beats++)
        .catch(() => this.errors++)
        .finally(() => (this.busy = false));
    }, this.intervalMs);
    return this;
  }
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    while (this.busy) await new Promise((r) => setTimeout(r, 5));
  }
}
