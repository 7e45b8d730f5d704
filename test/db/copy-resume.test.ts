// The resumable copy on real MariaDB servers: a primary (writes keep coming all along), a replica of it
// that the copy reads as its frozen source (initialLoad.frozenSource named-replica), and the target.
// `crossmove run --local` is killed (SIGKILL, in the middle of sub-chunks) once about half the ranges
// are done; the same migration run again resumes: it copies only what the store had not committed
// (counted per range), nothing twice, ends with the target row-for-row identical to the primary after
// replication from the recorded position caught up (every acknowledged write there), and the replica
// crossmove paused runs again and catches up too.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MariaDbServer } from '../../local/mariadb.js';
import { runStateMachineLocally } from '../../local/run-state-machine.js';
import { releaseAllLiveSnapshots } from '../../shared/initial-load/frozen-source/live.js';
import { copyProgressOf } from '../../shared/initial-load/progress.js';
import { ADMIN_SECRET_ENV, scalar, slaveStatus, sql, startServers, until, useLocalSecrets } from './fixtures.js';
import { prepareLoadSchema, WriteLoad } from '../support/write-load.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MIGRATION = 'resume-test';
let primary: MariaDbServer;
let replica: MariaDbServer;
let target: MariaDbServer;
let load: WriteLoad | undefined;
let child: ChildProcess | undefined;
let secretDir: string;

const TABLES = ['shop.orders', 'shop.events', 'shop.tags', 'shop.pairs', 'shop.notes_nopk', 'app.writes'];

/** Every row's hash in key order (keyless: in the order of all its columns), NULL kept apart from ''. */
async function rowHashes(server: MariaDbServer, table: string): Promise<string[]> {
  const c = await server.connect();
  try {
    const [cols] = (await c.query('SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION', table.split('.'))) as any;
    const names: string[] = cols.map((r: any) => `\`${r.c}\``);
    const [rows] = (await c.query(`SELECT MD5(CONCAT_WS('|', ${names.map((n) => `IFNULL(HEX(${n}), 'N')`).join(', ')})) AS h FROM ${table} ORDER BY ${names.join(', ')}`)) as any;
    return rows.map((r: any) => r.h);
  } finally {
    await c.end();
  }
}

async function masterStatus(server: MariaDbServer): Promise<{ File: string; Position: number }> {
  const c = await server.connect();
  try {
    const [[status]] = (await c.query('SHOW MASTER STATUS')) as any;
    return status;
  } finally {
    await c.end();
  }
}

async function writeIds(server: MariaDbServer): Promise<Set<number>> {
  const c = await server.connect();
  try {
    const [rows] = (await c.query('SELECT id FROM app.writes')) as any;
    return new Set(rows.map((r: any) => Number(r.id)));
  } finally {
    await c.end();
  }
}

async function ranges(): Promise<{ seq: number; state: string; cursor: string | null; rows: number; subchunks: number; commits: number; updated: string }[]> {
  const c = await target.connect();
  try {
    const [rows] = (await c.query(
      'SELECT seq, state, cursor_json, rows_done, subchunks_done, commits, CAST(updated_at AS CHAR) AS updated FROM crossmove_load.chunk_ranges ' +
        // The copy's ranges only: the comparison before the gate keeps its own in the same store.
        "WHERE migration_id = ? AND job IN (SELECT job FROM crossmove_load.chunk_jobs WHERE migration_id = ? AND kind = 'copy') ORDER BY seq",
      [MIGRATION, MIGRATION],
    )) as any;
    return rows.map((r: any) => ({ seq: r.seq, state: r.state, cursor: r.cursor_json, rows: Number(r.rows_done), subchunks: r.subchunks_done, commits: r.commits, updated: r.updated }));
  } catch {
    return [];
  } finally {
    await c.end();
  }
}

const input = () => ({
  migrationId: MIGRATION,
  source: { endpoint: { host: primary.host, port: primary.port }, adminSecret: `env:${ADMIN_SECRET_ENV}` },
  target: { endpoint: { host: target.host, port: target.port }, adminSecret: `env:${ADMIN_SECRET_ENV}` },
  initialLoad: {
    method: 'logical',
    schemas: ['shop', 'app'],
    parallelism: 2,
    // Small sub-chunks: the copy is cut into enough transactions to be killed in the middle of one.
    chunkBytes: 64 * 1024,
    chunkRows: 1500,
    frozenSource: { kind: 'named-replica', endpoint: { host: replica.host, port: replica.port } },
  },
  replication: { ssl: false, maxLagSeconds: 5, requiredConsecutiveChecks: 2, pollSeconds: 1 },
  cutover: { approval: 'manual', catchUpTimeoutSeconds: 10 },
});

beforeAll(async () => {
  useLocalSecrets();
  secretDir = mkdtempSync(join(tmpdir(), 'crossmove-resume-secrets-'));
  [primary, replica, target] = await startServers(3, 301);
  // The replica follows the primary from its first event (the template's binlogs were reset).
  await sql(replica, `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${primary.port}, MASTER_USER='${primary.admin.username}', MASTER_PASSWORD='${primary.admin.password}', MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=4, MASTER_USE_GTID=no`);
  await sql(replica, 'START SLAVE');
  const p = await primary.connect();
  await p.query(`CREATE DATABASE shop; USE shop;
    CREATE TABLE orders (id INT PRIMARY KEY, customer INT NOT NULL, amount DECIMAL(12,2) NOT NULL, note VARCHAR(80), KEY by_customer (customer));
    CREATE TABLE events (id BIGINT UNSIGNED PRIMARY KEY, kind VARCHAR(20) NOT NULL, payload TEXT, at DATETIME(6) NOT NULL);
    CREATE TABLE tags (tag VARCHAR(40) PRIMARY KEY, hits INT NOT NULL);
    CREATE TABLE pairs (a INT NOT NULL, b VARCHAR(10) NOT NULL, v DOUBLE, PRIMARY KEY (a, b));
    CREATE TABLE notes_nopk (who VARCHAR(20), what VARCHAR(60));
    INSERT INTO orders SELECT seq, seq % 997, seq / 7, IF(seq % 5 = 0, NULL, CONCAT('note ', seq)) FROM seq_1_to_30000;
    INSERT INTO events SELECT seq * 3, ELT(1 + seq % 3, 'a', 'b', 'c'), REPEAT(CONCAT('payload ', seq, ' '), 1 + seq % 8), '2026-01-01' + INTERVAL seq SECOND FROM seq_1_to_20000;
    INSERT INTO tags SELECT CONCAT('tag-', seq), seq FROM seq_1_to_3000;
    INSERT INTO pairs SELECT seq DIV 4, CONCAT('b', seq % 4), seq / 3 FROM seq_0_to_11999;
    INSERT INTO notes_nopk SELECT CONCAT('u', seq % 10), CONCAT('did ', seq) FROM seq_1_to_500;
    ANALYZE TABLE orders, events, tags, pairs;`);
  await prepareLoadSchema(p);
  await p.end();
  const t = await target.connect();
  await prepareLoadSchema(t, 'app', { user: true, table: false });
  await t.end();
  await until(async () => Number(await scalar(replica, 'SELECT COUNT(*) FROM shop.notes_nopk')) === 500 && (await slaveStatus(replica))?.Seconds_Behind_Master === 0, 60_000);
}, 180_000);

afterAll(async () => {
  child?.kill('SIGKILL');
  await load?.stop();
  await releaseAllLiveSnapshots();
  await Promise.all([primary?.stop(), replica?.stop(), target?.stop()]);
});

describe('a copy killed at about half its chunks', () => {
  it('resumes with the same migrationId, copies only the rest, and replication from the recorded position loses no acknowledged write', async () => {
    // The application writes all along; rows the copy already read change on the primary too.
    load = new WriteLoad({ host: primary.host, port: primary.port, name: 'primary' }, { ratePerSec: 100 }).start();
    let stop = false;
    const updates = (async () => {
      const c = await primary.connect();
      for (let i = 1; !stop; i++) {
        await c.query('UPDATE shop.orders SET amount = amount + 1 WHERE id = ?', [1 + ((i * 7919) % 30000)]);
        await c.query('INSERT INTO shop.tags VALUES (?, 1) ON DUPLICATE KEY UPDATE hits = hits + 1', [`tag-${1 + (i % 4000)}`]);
        await new Promise((r) => setTimeout(r, 20));
      }
      await c.end();
    })();

    // Run 1: the real CLI in its own process, killed once about half the ranges are done.
    const file = join(secretDir, 'input.json');
    writeFileSync(file, JSON.stringify(input()));
    child = spawn(process.execPath, [join(ROOT, 'bin', 'crossmove.mjs'), 'run', '--local', file], {
      env: { ...process.env, CROSSMOVE_SECRET_STORE: process.env.CROSSMOVE_SECRET_STORE },
      stdio: 'ignore',
    });
    const atKill = await until(async () => {
      const r = await ranges();
      const done = r.filter((x) => x.state === 'done').length;
      return r.length >= 8 && done >= r.length * 0.4 ? r : null;
    }, 120_000, 25);
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    child = undefined;
    const killed = await ranges(); // what was committed when the process died (an open sub-chunk rolled back)
    const doneAtKill = killed.filter((r) => r.state === 'done');
    expect(doneAtKill.length).toBeGreaterThanOrEqual(Math.floor(atKill.length * 0.4));
    expect(doneAtKill.length).toBeLessThan(killed.length);
    const rowsAtKill = killed.reduce((n, r) => n + r.rows, 0);
    expect((await slaveStatus(replica))!.Slave_SQL_Running).toBe('No'); // paused by crossmove, and left so by the crash
    const frozenAt = (await slaveStatus(replica))!;
    // The frozen point's rows, counted on the paused replica: what the copy must hold in the end, each once.
    let frozenRows = 0;
    for (const t of TABLES) frozenRows += Number(await scalar(replica, `SELECT COUNT(*) FROM ${t}`));

    // Run 2, same migrationId, in this process: resumes; at the approval gate everything is checked, then rejected.
    let checked = false;
    const result = await runStateMachineLocally({
      input: input(),
      secretDir,
      waitMs: 0,
      retryMs: 0,
      approve: async () => {
        stop = true;
        await updates;
        await load!.stop();
        const status = await masterStatus(primary);
        await until(async () => {
          const s = await slaveStatus(target);
          return s?.Relay_Master_Log_File === status.File && Number(s.Exec_Master_Log_Pos) >= Number(status.Position);
        }, 60_000);
        for (const t of TABLES) expect(await rowHashes(target, t), t).toEqual(await rowHashes(primary, t));
        const ids = await writeIds(target);
        expect(ids.size).toBeGreaterThan(0);
        expect(load!.ackedIds().filter((id) => !ids.has(id))).toEqual([]);
        // The replica crossmove paused runs again and catches up too.
        await until(async () => {
          const s = await slaveStatus(replica);
          return s?.Slave_SQL_Running === 'Yes' && s.Relay_Master_Log_File === status.File && Number(s.Exec_Master_Log_Pos) >= Number(status.Position);
        }, 60_000);
        for (const t of TABLES) expect(await rowHashes(replica, t), t).toEqual(await rowHashes(primary, t));
        checked = true;
        return { approved: false, reason: 'checked by the test' };
      },
    });
    expect(result.error, `${result.cause}`).toBe('ApprovalRejected');
    expect(checked).toBe(true);
    expect(load.ackedIds().length).toBeGreaterThan(100);

    const after = await ranges();
    expect(after.every((r) => r.state === 'done')).toBe(true);
    // Ranges done before the kill were not touched again; the others went on from their cursor.
    for (const r of doneAtKill) expect(after.find((a) => a.seq === r.seq), `range ${r.seq}`).toEqual(r);
    for (const r of after) expect(r.commits, `range ${r.seq}`).toBe(r.subchunks);
    const rowsTotal = after.reduce((n, r) => n + r.rows, 0);
    // Every row of the frozen point committed exactly once over both runs: run 2 copied only the rest.
    expect(rowsTotal).toBe(frozenRows);
    // What run 2's workers (this process) committed, counted as they committed it: exactly the rest.
    const copiedByRun2 = copyProgressOf(MIGRATION).committedHere;
    expect(copiedByRun2).toBe(frozenRows - rowsAtKill);
    expect(rowsAtKill).toBeGreaterThan(frozenRows * 0.3);
    console.log(`[resume] ${killed.length} ranges, ${doneAtKill.length} done at the kill (${rowsAtKill} rows committed); run 2 copied ${copiedByRun2} of ${frozenRows} rows; replica frozen at ${frozenAt.Relay_Master_Log_File}:${frozenAt.Exec_Master_Log_Pos}`);
    expect(Number(await scalar(target, "SELECT COUNT(*) FROM shop.orders"))).toBe(30000);
  }, 300_000);
});
