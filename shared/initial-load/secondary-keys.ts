// "Finish the copy": the plain secondary keys left out of the CREATEs are added once the rows are in,
// by sorting (as myloader does), one ALTER TABLE per table with all its keys, as many tables at once as
// the copy had workers. On a huge table one ALTER can take longer than a Lambda may run (15 minutes),
// so the step never waits for one beyond its own time budget: an ALTER runs on the server whatever
// happens to the connection that sent it (MariaDB 10.11 measured: a client that disconnects mid-ALTER
// leaves it running to the end; unverified on MySQL 8/Aurora), the step returns "building", and the
// state machine polls it after a Wait. Each poll asks the target itself: keys present (SHOW INDEX),
// an ALTER of that table running (PROCESSLIST), or neither (never started, or it died: started again).
import { LogicalCopyError } from '../errors.js';
import { logStep } from '../logger.js';
import { closeQuietly, q, type Conn } from './connections.js';
import { addDeferredKeys, type DeferredKeys } from './ddl.js';

export interface KeysProgress {
  tables: number;
  built: number;
  building: number;
}

/** ALTERs this process started and has not seen end (by migration/schema.table). */
const started = new Map<string, { conn: Conn; done: Promise<void>; error: Error | null; finished: boolean }>();

const NAME = /^(?:UNIQUE\s+)?(?:KEY|INDEX)\s+`((?:[^`]|``)+)`/i;
const keyNames = (d: DeferredKeys) => d.keys.map((k) => NAME.exec(k)?.[1]?.replaceAll('``', '`')).filter((n): n is string => !!n);

async function keysPresent(conn: Conn, d: DeferredKeys): Promise<boolean> {
  const [rows] = await conn.query<any[]>(`SHOW INDEX FROM ${q(d.schema)}.${q(d.table)}`);
  const present = new Set(rows.map((r) => String(r.Key_name)));
  return keyNames(d).every((n) => present.has(n));
}

async function alterRunning(conn: Conn, d: DeferredKeys): Promise<boolean> {
  const [rows] = await conn.query<any[]>("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' AND INFO LIKE ?", [
    `ALTER TABLE ${q(d.schema)}.${q(d.table)} ADD %`,
  ]);
  return Number(rows[0]?.n ?? 0) > 0;
}

/**
 * Starts what is missing (at most `parallel` ALTERs at once) and waits for them up to `waitMs`.
 * `open` gives a new target connection (the load session's settings).
 */
export async function buildSecondaryKeys(
  control: Conn,
  open: () => Promise<Conn>,
  migrationId: string,
  deferred: DeferredKeys[],
  opts: { parallel: number; waitMs: number },
): Promise<KeysProgress> {
  const deadline = Date.now() + opts.waitMs;
  for (;;) {
    let built = 0;
    let building = 0;
    const waits: Promise<void>[] = [];
    for (const d of deferred) {
      const id = `${migrationId}/${d.schema}.${d.table}`;
      const mine = started.get(id);
      if (mine?.finished) {
        started.delete(id);
        await closeQuietly([mine.conn]);
        if (mine.error) throw new LogicalCopyError(`adding the secondary keys of ${d.schema}.${d.table} on the target failed: ${mine.error.message}`);
      }
      if (await keysPresent(control, d)) {
        built++;
        continue;
      }
      if (started.has(id) || (await alterRunning(control, d))) {
        building++;
        if (started.has(id)) waits.push(started.get(id)!.done);
        continue;
      }
      if (building >= opts.parallel) continue;
      logStep('add the secondary keys', { table: `${d.schema}.${d.table}`, keys: keyNames(d) });
      const conn = await open();
      const entry = { conn, done: Promise.resolve(), error: null as Error | null, finished: false };
      entry.done = addDeferredKeys(conn, d).then(
        () => void (entry.finished = true),
        (err: Error) => {
          entry.error = err;
          entry.finished = true;
        },
      );
      started.set(id, entry);
      building++;
      waits.push(entry.done);
    }
    const progress = { tables: deferred.length, built, building };
    const left = deadline - Date.now();
    if (!building || left <= 0) return progress;
    // Wake when one of ours ends, else look again in a while (an ALTER another invocation started).
    await Promise.race([...waits, new Promise((r) => setTimeout(r, Math.min(left, waits.length ? 30_000 : 5_000)))]);
  }
}
