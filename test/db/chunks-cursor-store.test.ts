// The shared cursor store on a real MariaDB: claims under leases (a live lease is never taken, an
// expired one is), sub-chunks that commit their work and the cursor together (a worker killed
// mid-sub-chunk leaves neither; a second worker that took over sees 'moved' or 'already-done'),
// resumption from the cursor, and progress. Plus where bookkeeping writes may skip the binlog.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMariaDb, type MariaDbServer } from '../../local/mariadb.js';
import { openConnection, q, type Conn } from '../../shared/mysql/connection.js';
import { CursorStore, type PlannedRange } from '../../shared/chunks/cursor-store.js';
import { describeTable, type WalkKey } from '../../shared/chunks/keys.js';
import { nextUpperBound, planRanges } from '../../shared/chunks/planner.js';
import { rangeWhere } from '../../shared/chunks/range-sql.js';
import { dialectFor } from '../../shared/mysql/dialect.js';
import { sessionLogsBinlog, skipBinlog } from '../../shared/mysql/skip-binlog.js';
import { installAuroraEmulation } from '../support/aurora-emulation.js';

let server: MariaDbServer;
const open: Conn[] = [];
const connect = async () => {
  const c = await openConnection({ host: server.host, port: server.port }, server.admin);
  open.push(c);
  return c;
};
let key: WalkKey;
let planned: PlannedRange[];

beforeAll(async () => {
  server = await startMariaDb({ serverId: 62 });
  const admin = await server.connect();
  await admin.query('CREATE DATABASE src');
  await admin.query('USE src');
  await admin.query('CREATE TABLE src.items (id INT PRIMARY KEY, v VARCHAR(20))');
  await admin.query("INSERT INTO src.items SELECT seq, CONCAT('v', seq) FROM seq_1_to_1000");
  await admin.query('CREATE TABLE src.copied (id INT PRIMARY KEY, v VARCHAR(20))');
  await admin.query('ANALYZE TABLE src.items');
  await admin.end();
  const c = await connect();
  const facts = (await describeTable(c, { schema: 'src', name: 'items' }))!;
  key = (facts.choice as { key: WalkKey }).key;
  const ranges = await planRanges(c, facts.table, key, { pieces: 4, estimatedRows: 1000 });
  planned = ranges.map((range) => ({ table: facts.table, key, range, estimatedRows: 250, estimatedBytes: 250 * 30 }));
}, 120_000);

afterAll(async () => {
  for (const c of open) c.destroy();
  await server?.stop();
});

let job = 0;
beforeEach(() => void job++);

async function newJob(store: CursorStore): Promise<string> {
  const name = `copy-${job}`;
  await store.createJob(name, 'copy', { tables: 1 });
  await store.addRanges(name, planned);
  await store.markReady(name);
  return name;
}

/** The copy's sub-chunk work: the source rows of [cursor, next) into src.copied, in the store's transaction. */
const copyWork = (lo: string[] | null, hi: string[] | null) => async (tx: Conn) => {
  await q(tx, `INSERT INTO src.copied SELECT * FROM src.items WHERE ${rangeWhere(key, { lo, hi })}`);
  const [row] = await q<{ n: number }>(tx, `SELECT COUNT(*) AS n FROM src.items WHERE ${rangeWhere(key, { lo, hi })}`);
  return { rows: Number(row!.n), bytes: Number(row!.n) * 10 };
};

describe('claims and leases', () => {
  it('hands each range to one worker, never one under a live lease, and an expired lease to the next', async () => {
    const c = await connect();
    const store = await CursorStore.open(c, 'mig-a');
    const name = await newJob(store);
    const claims = [];
    for (let i = 0; i < 4; i++) claims.push(await store.claim(name, `w${i}`, 60));
    expect(claims.map((x) => x?.seq)).toEqual([1, 2, 3, 4]);
    expect(await store.claim(name, 'w5', 60)).toBeNull();
    // w1's Lambda died: its lease ran out.
    await q(c, "UPDATE crossmove_load.chunk_ranges SET lease_until = NOW(3) - INTERVAL 1 SECOND WHERE job = ? AND seq = 2", [name]);
    const taken = await store.claim(name, 'w5', 60);
    expect(taken).toMatchObject({ seq: 2, owner: 'w5', attempts: 2, cursor: null });
    expect(await store.renew(claims[1]!, 60)).toBe(false); // the dead worker's lease is gone
    expect(await store.renew(taken!, 60)).toBe(true);
    // A released claim is claimable at once.
    await store.release(claims[2]!);
    expect((await store.claim(name, 'w6', 60))?.seq).toBe(3);
    expect((await store.progress(name)).rangesClaimed).toBe(4);
  });

  it('keeps jobs of different migrations apart', async () => {
    const c = await connect();
    const a = await CursorStore.open(c, 'mig-b1');
    const b = await CursorStore.open(c, 'mig-b2');
    const name = await newJob(a);
    expect(await b.claim(name, 'w', 60)).toBeNull();
    expect(await a.claim(name, 'w', 60)).not.toBeNull();
  });
});

describe('sub-chunks', () => {
  it('a whole job walked through commitSubChunk copies every row once and reports progress', async () => {
    const c = await connect();
    const tx = await connect();
    const store = await CursorStore.open(c, 'mig-c');
    const name = await newJob(store);
    for (let claim = await store.claim(name, 'w', 60); claim; claim = await store.claim(name, 'w', 60)) {
      for (;;) {
        const next = await nextUpperBound(c, claim.table, key, { lo: claim.cursor ?? claim.range.lo, hi: claim.range.hi }, 70);
        const outcome = await store.commitSubChunk(tx, claim, next ?? null, copyWork(claim.cursor ?? claim.range.lo, next ?? claim.range.hi));
        expect(outcome).toBe('committed');
        if (!next) break;
      }
    }
    const p = await store.progress(name);
    expect(p).toMatchObject({ rangesTotal: 4, rangesDone: 4, rows: 1000, bytes: 10_000, done: true, chunksCopiedTwice: 0, etaSeconds: 0 });
    expect(p.subChunks).toBeGreaterThanOrEqual(1000 / 70);
    const [row] = await q<{ n: number; d: number }>(c, 'SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d FROM src.copied');
    expect([Number(row!.n), Number(row!.d)]).toEqual([1000, 1000]);
    await q(c, 'DELETE FROM src.copied');
  });

  it('a worker killed inside a sub-chunk leaves neither its rows nor a moved cursor; the next worker resumes at the cursor', async () => {
    const c = await connect();
    const store = await CursorStore.open(c, 'mig-d');
    const name = await newJob(store);
    const claim = (await store.claim(name, 'doomed', 60))!;
    const tx1 = await connect();
    const first = (await nextUpperBound(c, claim.table, key, claim.range, 100))!;
    expect(await store.commitSubChunk(tx1, claim, first, copyWork(claim.range.lo, first))).toBe('committed');

    const tx2 = await connect();
    const [[{ id }]] = (await tx2.query('SELECT CONNECTION_ID() AS id')) as any;
    const second = (await nextUpperBound(c, claim.table, key, { lo: first, hi: claim.range.hi }, 100))!;
    const killed = store.commitSubChunk(tx2, { ...claim }, second, async (t) => {
      const done = await copyWork(first, second)(t); // the rows are written, not yet committed...
      await c.query(`KILL CONNECTION ${Number(id)}`); // ...when the worker dies
      await q(t, 'SELECT 1');
      return done;
    });
    await expect(killed).rejects.toThrow();
    const [rows] = await q<{ n: number }>(c, 'SELECT COUNT(*) AS n FROM src.copied');
    expect(Number(rows!.n)).toBe(100);
    const [range] = (await store.ranges(name)).filter((r) => r.seq === claim.seq);
    expect(range).toMatchObject({ cursor: first, rowsDone: 100, subChunks: 1, state: 'claimed' });

    // The lease runs out; another worker takes over at the cursor, never re-reading the finished part.
    await q(c, 'UPDATE crossmove_load.chunk_ranges SET lease_until = NOW(3) - INTERVAL 1 SECOND WHERE job = ? AND seq = ?', [name, claim.seq]);
    const resumed = (await store.claim(name, 'heir', 60))!;
    expect(resumed).toMatchObject({ seq: claim.seq, cursor: first, attempts: 2 });
    const tx3 = await connect();
    expect(await store.commitSubChunk(tx3, resumed, null, copyWork(first, resumed.range.hi))).toBe('committed');
    // The dead worker's stale claim can no longer commit anything.
    expect(await store.commitSubChunk(tx3, claim, null, copyWork(first, claim.range.hi))).toBe('already-done');
    const [all] = await q<{ n: number; d: number }>(c, 'SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d FROM src.copied');
    expect([Number(all!.n), Number(all!.d)]).toEqual([250, 250]);
    await q(c, 'DELETE FROM src.copied');
  });

  it('a claim whose range was taken over at another cursor gets "moved" and writes nothing', async () => {
    const c = await connect();
    const store = await CursorStore.open(c, 'mig-e');
    const name = await newJob(store);
    const old = (await store.claim(name, 'slow', 60))!;
    await q(c, 'UPDATE crossmove_load.chunk_ranges SET lease_until = NOW(3) - INTERVAL 1 SECOND WHERE job = ? AND seq = ?', [name, old.seq]);
    const heir = (await store.claim(name, 'heir', 60))!;
    const tx = await connect();
    const next = (await nextUpperBound(c, heir.table, key, heir.range, 50))!;
    expect(await store.commitSubChunk(tx, heir, next, copyWork(heir.range.lo, next))).toBe('committed');
    let ran = false;
    expect(await store.commitSubChunk(tx, old, next, async () => ((ran = true), { rows: 1, bytes: 1 }))).toBe('moved');
    expect(ran).toBe(false);
    expect((await store.progress(name)).rows).toBe(50);
    await q(c, 'DELETE FROM src.copied');
  });

  it('a retried planner adds nothing twice', async () => {
    const c = await connect();
    const store = await CursorStore.open(c, 'mig-f');
    const name = await newJob(store);
    await store.createJob(name, 'copy', { tables: 1 });
    await store.addRanges(name, planned);
    expect((await store.progress(name)).rangesTotal).toBe(4);
    expect((await store.jobs('copy')).map((j) => j.job)).toEqual([name]);
  });
});

describe('skipBinlog', () => {
  it('MariaDB: the admin session leaves the binlog', async () => {
    const c = await connect();
    expect(await sessionLogsBinlog(c)).toBe(true);
    expect(await skipBinlog(c, dialectFor('mariadb'))).toBe(true);
    expect(await sessionLogsBinlog(c)).toBe(false);
  });

  it('Aurora MySQL 2: through mysql.rds_disable_session_binlog', async () => {
    const admin = await server.connect();
    await installAuroraEmulation(admin, 2);
    await admin.query("CREATE USER IF NOT EXISTS 'aurora2'@'%' IDENTIFIED BY 'pw-aurora-2'");
    await admin.query("GRANT SELECT, INSERT, UPDATE, DELETE, CREATE ON *.* TO 'aurora2'@'%'");
    await admin.query("GRANT EXECUTE ON PROCEDURE mysql.rds_disable_session_binlog TO 'aurora2'@'%'");
    await admin.end();
    const c = await openConnection({ host: server.host, port: server.port }, { username: 'aurora2', password: 'pw-aurora-2' });
    open.push(c);
    await expect(c.query('SET SESSION sql_log_bin = 0')).rejects.toThrow(); // no SUPER
    expect(await skipBinlog(c, dialectFor('aurora-mysql-2'))).toBe(true);
    expect(await sessionLogsBinlog(c)).toBe(false);
  });

  it('Aurora MySQL 3 without SESSION_VARIABLES_ADMIN: not possible, said as false (the writes stay logged)', async () => {
    const admin = await server.connect();
    await admin.query("CREATE USER IF NOT EXISTS 'aurora3'@'%' IDENTIFIED BY 'pw-aurora-3'");
    await admin.query("GRANT SELECT, INSERT, UPDATE, DELETE ON *.* TO 'aurora3'@'%'");
    await admin.end();
    const c = await openConnection({ host: server.host, port: server.port }, { username: 'aurora3', password: 'pw-aurora-3' });
    open.push(c);
    expect(await skipBinlog(c, dialectFor('aurora-mysql-3'))).toBe(false);
    expect(await sessionLogsBinlog(c)).toBe(true);
  });
});
