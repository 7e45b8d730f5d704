// Logical initial load throughput: crossmove's copy vs `mariadb-dump --single-transaction | mariadb`
// vs mydumper/myloader, on the same generated dataset, between the same two local MariaDB servers,
// each copy verified by CHECKSUM TABLE against the source. Binary logging of the load is off for all
// three (crossmove and myloader do that by default; the mariadb client gets SET sql_log_bin=0).
//   npm run bench:load [-- --rows N] [-- --json] [-- --parallelism P] [-- --repeat R] [-- --tools crossmove,mydumper] [-- --batch-bytes B] [-- --chunk-rows N]
// With --json the last stdout line is {rows, bytes, crossmove:{seconds,rowsPerSec}, mariadbDump:{...}, mydumper:{...},
// resumed:{rowsPerSec, chunksCopiedTwice}}. "resumed" is crossmove's copy interrupted at about half its rows (every
// worker fails its next sub-chunk commit, as a killed invocation would: that sub-chunk is rolled back) and
// run again with the same migrationId: rowsPerSec over both runs' whole wall time (plan, both runs,
// finish), chunksCopiedTwice from the cursor store (sub-chunks committed again; 0 when nothing
// finished was copied twice). It reads the bench source as a frozen source (nothing writes to it, so
// its binlog position is its frozen point), the way a paused replica is read. A tool not installed:
// an install hint on stderr and null in the JSON.
// BENCH_SAMPLE_MS=N: every N ms while crossmove copies, a line (stderr) with the phase, rows committed
// and the CPU each of source, target and this process used in that interval: where the time goes.
// BENCH_CPU_DETAIL=1: the same split of CPU seconds for each whole run.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { startMariaDb, type MariaDbServer } from '../local/mariadb.js';
import { logicalCopy } from '../shared/initial-load/index.js';
import { fixedBudget } from '../shared/chunks/budget.js';
import { COPY_JOB, openStore } from '../shared/initial-load/copy-job.js';
import { finishCopy } from '../shared/initial-load/copy-finish.js';
import { planCopy, type DbSide } from '../shared/initial-load/copy-plan.js';
import { runCopyWorker } from '../shared/initial-load/copy-worker.js';
import { closeQuietly, openConnection } from '../shared/initial-load/connections.js';
import { readFingerprint } from '../shared/initial-load/frozen-source/fingerprint.js';
import { binlogStatus, dialectFor } from '../shared/mysql/dialect.js';
import { execFileSync } from 'node:child_process';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const ROWS = option('rows', 5_000_000);
const PARALLELISM = option('parallelism', 4);
// This machine is shared (2 cores): each tool runs REPEAT times, interleaved, and its best run counts.
const REPEAT = Math.max(1, option('repeat', 1));
const toolsAt = args.indexOf('--tools');
const TOOLS = new Set(toolsAt >= 0 ? args[toolsAt + 1]!.split(',') : ['crossmove', 'resumed', 'mariadbDump', 'mydumper']);
// Unset: the copy's own default (copy-plan.ts).
const BATCH_BYTES = args.includes('--batch-bytes') ? option('batch-bytes', 0) : undefined;
const CHUNK_ROWS = option('chunk-rows', 50_000);
const JSON_OUT = flag('json');
const log = (msg: string) => (JSON_OUT ? process.stderr : process.stdout).write(`${msg}\n`);
const SCHEMA = 'benchdb';
const TABLES = ['orders', 'events', 'audit_nopk'];

interface Figure {
  seconds: number;
  rowsPerSec: number;
  /** CPU seconds of both servers, this process and the tool's processes: steadier than wall time on a shared machine. */
  cpuSeconds: number;
}

const TICK = 100; // USER_HZ on Linux
function procTicks(path: string, fields: number[]): number {
  try {
    const stat = readFileSync(path, 'utf8');
    const parts = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // parts[0] is field 3 (state); field n is parts[n - 3]
    return fields.reduce((sum, f) => sum + Number(parts[f - 3]), 0);
  } catch {
    return 0;
  }
}
let serverPids: string[] = [];
function cpuDetail(): Record<string, number> {
  return {
    source: procTicks(`/proc/${serverPids[0]}/stat`, [14, 15]) / TICK,
    target: procTicks(`/proc/${serverPids[1]}/stat`, [14, 15]) / TICK,
    self: procTicks('/proc/self/stat', [14, 15]) / TICK,
    children: procTicks('/proc/self/stat', [16, 17]) / TICK,
  };
}
function cpuNow(): number {
  const servers = serverPids.reduce((sum, pid) => sum + procTicks(`/proc/${pid}/stat`, [14, 15]), 0);
  const self = procTicks('/proc/self/stat', [14, 15, 16, 17]);
  return (servers + self) / TICK;
}

async function generate(server: MariaDbServer, rows: number): Promise<{ rows: number; bytes: number }> {
  const c = await server.connect();
  const orders = Math.round(rows * 0.6);
  const events = Math.round(rows * 0.3);
  const audit = rows - orders - events;
  await c.query(`SET SESSION sql_log_bin = 0; CREATE DATABASE ${SCHEMA}; USE ${SCHEMA};
    CREATE TABLE orders (id BIGINT UNSIGNED PRIMARY KEY, customer_id INT NOT NULL, amount DECIMAL(12,2) NOT NULL,
      status ENUM('new','paid','shipped','cancelled') NOT NULL, created_at DATETIME(6) NOT NULL, note VARCHAR(100),
      KEY (customer_id)) ENGINE=InnoDB;
    CREATE TABLE events (id BIGINT UNSIGNED PRIMARY KEY, order_id BIGINT UNSIGNED, kind VARCHAR(20), payload JSON,
      happened_at TIMESTAMP(6) NULL) ENGINE=InnoDB;
    CREATE TABLE audit_nopk (who VARCHAR(30), what VARCHAR(60), at DATETIME, raw VARBINARY(16)) ENGINE=InnoDB;`);
  const step = 500_000;
  for (let from = 1; from <= orders; from += step) {
    const to = Math.min(orders, from + step - 1);
    await c.query(`INSERT INTO orders SELECT seq, seq % 50000, ROUND((seq * 7919 % 100000) / 100, 2), ELT(1 + seq % 4, 'new','paid','shipped','cancelled'),
      '2026-01-01' + INTERVAL (seq % 31536000) SECOND + INTERVAL (seq % 1000000) MICROSECOND,
      IF(seq % 10 = 0, NULL, CONCAT('order note ', seq, ' – ünïcødé 🚚')) FROM seq_${from}_to_${to}`);
  }
  for (let from = 1; from <= events; from += step) {
    const to = Math.min(events, from + step - 1);
    await c.query(`INSERT INTO events SELECT seq, seq % ${Math.max(1, orders)} + 1, ELT(1 + seq % 3, 'created','paid','shipped'),
      JSON_OBJECT('seq', seq, 'amount', (seq % 1000) / 10, 'tags', JSON_ARRAY('a', 'b')), FROM_UNIXTIME(1700000000 + seq) FROM seq_${from}_to_${to}`);
  }
  for (let from = 1; from <= audit; from += step) {
    const to = Math.min(audit, from + step - 1);
    await c.query(`INSERT INTO audit_nopk SELECT CONCAT('user', seq % 100), CONCAT('did thing ', seq), '2026-02-01' + INTERVAL seq MINUTE,
      UNHEX(MD5(seq)) FROM seq_${from}_to_${to}`);
  }
  await c.query(`ANALYZE TABLE ${TABLES.join(', ')}`);
  const [[size]] = (await c.query(`SELECT SUM(DATA_LENGTH) AS b FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?`, [SCHEMA])) as any;
  await c.end();
  return { rows, bytes: Number(size.b) };
}

/**
 * Waits until InnoDB has written its dirty pages on both servers, so that no tool runs while a server
 * is still flushing what the one before it (or the dataset's generation) wrote: the tool run first
 * after generating 10,000,000 rows had the source flushing several hundred MB under it.
 */
async function settle(servers: MariaDbServer[]): Promise<void> {
  await Promise.all(servers.map(async (server) => {
    const c = await server.connect();
    try {
      const [[before]] = (await c.query('SELECT @@GLOBAL.innodb_max_dirty_pages_pct AS pct')) as any;
      await c.query('SET GLOBAL innodb_max_dirty_pages_pct = 0');
      const deadline = Date.now() + 120_000;
      for (;;) {
        const [[row]] = (await c.query("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'")) as any;
        if (Number(row.Value) < 64 || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      await c.query(`SET GLOBAL innodb_max_dirty_pages_pct = ${Number(before.pct)}`);
    } finally {
      await c.end();
    }
  }));
}

async function checksums(server: MariaDbServer): Promise<string[]> {
  const c = await server.connect();
  const [rows] = await c.query<RowDataPacket[]>(`CHECKSUM TABLE ${TABLES.map((t) => `${SCHEMA}.${t}`).join(', ')}`);
  await c.end();
  return rows.map((r) => `${r.Table}=${r.Checksum}`);
}

async function resetTarget(target: MariaDbServer): Promise<void> {
  const c = await target.connect();
  await c.query(`SET SESSION sql_log_bin = 0; DROP DATABASE IF EXISTS ${SCHEMA}; DROP DATABASE IF EXISTS crossmove_load; RESET MASTER`);
  await c.end();
}

function sh(command: string, env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', command], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command.split(' ')[0]} exited ${code}: ${err.slice(-500)}`))));
  });
}

/** Progress of the crossmove copy now running, for the samples. */
const sampled = { phase: '-', rows: 0 };
const SAMPLE_MS = Number(process.env.BENCH_SAMPLE_MS ?? 0);
function startSampling(name: string): () => void {
  if (!SAMPLE_MS) return () => undefined;
  const t0 = Date.now();
  let last = cpuDetail();
  const timer = setInterval(() => {
    const now = cpuDetail();
    const d = (k: string) => ((now[k]! - last[k]!) / (SAMPLE_MS / 1000)).toFixed(2);
    process.stderr.write(`  sample ${name} +${((Date.now() - t0) / 1000).toFixed(1)} s ${sampled.phase} rows ${sampled.rows.toLocaleString('en')}; cores busy: source ${d('source')} target ${d('target')} self ${d('self')} tools ${d('children')}\n`);
    last = now;
  }, SAMPLE_MS);
  return () => clearInterval(timer);
}

async function timed(name: string, rows: number, run: () => Promise<void>, verify: () => Promise<void>): Promise<Figure> {
  log(`${name}: copying...`);
  sampled.phase = '-';
  sampled.rows = 0;
  const stopSampling = startSampling(name);
  const started = process.hrtime.bigint();
  const cpu0 = cpuNow();
  const detail0 = cpuDetail();
  try {
    await run();
  } finally {
    stopSampling();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuSeconds = Math.round((cpuNow() - cpu0) * 100) / 100;
  if (process.env.BENCH_CPU_DETAIL) {
    const d = cpuDetail();
    log(`  cpu detail: ${Object.entries(d).map(([k, v]) => `${k} ${(v - detail0[k]!).toFixed(2)}`).join(', ')}`);
  }
  await verify();
  const figure = { seconds: Math.round(seconds * 100) / 100, rowsPerSec: Math.round(rows / seconds), cpuSeconds };
  log(`${name}: ${figure.seconds} s, ${figure.rowsPerSec.toLocaleString('en')} rows/s, ${cpuSeconds} CPU s (checksums match)`);
  return figure;
}

/** Whether a command-line tool is installed; if not, says how to install it (its figure is then null). */
function installed(tool: string, hint: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    log(`${tool} is not installed: ${hint} (its figure is null)`);
    return false;
  }
}

class Interrupted extends Error {
  override name = 'BenchInterrupted';
}

/**
 * crossmove's chunked copy interrupted at about half its rows, then resumed with the same migrationId:
 * the slots of the second run resume their own ranges at the cursors (as a retried Map slot does).
 */
async function interruptedAndResumed(src: MariaDbServer, dst: MariaDbServer, rows: number): Promise<Figure & { chunksCopiedTwice: number; rowsFirstRun: number }> {
  const side = (s: MariaDbServer): DbSide => ({ endpoint: { host: s.host, port: s.port }, credentials: s.admin });
  const from = side(src);
  const target = side(dst);
  const migrationId = 'bench-resumed';
  const probe = await openConnection(from.endpoint, from.credentials, 'source');
  let frozen;
  try {
    const position = await binlogStatus(probe);
    frozen = { kind: 'named-replica' as const, position, fingerprint: await readFingerprint(probe, dialectFor('mariadb')) };
  } finally {
    await closeQuietly([probe]);
  }
  const started = process.hrtime.bigint();
  const cpu0 = cpuNow();
  sampled.phase = 'plan';
  sampled.rows = 0;
  const stopSampling = startSampling('resumed');
  let rowsFirstRun = 0;
  const copyTwice = async () => {
    await planCopy({ migrationId, from, source: from, target, frozen, schemas: [SCHEMA], parallelism: PARALLELISM, chunkBytes: 32 * 1024 * 1024, maxRows: CHUNK_ROWS, batchBytes: BATCH_BYTES });
    const slots = Array.from({ length: PARALLELISM }, (_, i) => i + 1);
    const worker = (n: number, extra: Partial<Parameters<typeof runCopyWorker>[0]> = {}) =>
      runCopyWorker({ migrationId, worker: n, lanes: 1, from, target, frozen: { kind: frozen.kind, fingerprint: frozen.fingerprint }, budget: fixedBudget(Number.POSITIVE_INFINITY), liveMustFinish: false, ...extra });
    let committed = 0;
    sampled.phase = 'data';
    const first = await Promise.allSettled(
      slots.map((n) => worker(n, { onCommitted: (r) => (sampled.rows = committed += r), beforeCommit: () => { if (committed >= rows / 2) throw new Interrupted('interrupted at about half the rows'); } })),
    );
    const unexpected = first.find((r) => r.status === 'rejected' && !String((r.reason as Error).message).includes('interrupted at about half'));
    if (unexpected) throw (unexpected as PromiseRejectedResult).reason;
    rowsFirstRun = committed;
    log(`crossmove interrupted: ${rowsFirstRun.toLocaleString('en')} rows committed before the interruption; resuming`);
    sampled.phase = 'resumed';
    await Promise.all(slots.map((n) => worker(n, { onCommitted: (r) => (sampled.rows += r) })));
    sampled.phase = 'finish';
    await finishCopy({ migrationId, from, target, parallel: PARALLELISM, waitMs: Number.POSITIVE_INFINITY, attempts: 1 });
  };
  try {
    await copyTwice();
  } finally {
    stopSampling();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const conn = await openConnection(target.endpoint, target.credentials, 'target');
  let twice: number;
  try {
    twice = (await (await openStore(conn, migrationId)).progress(COPY_JOB)).chunksCopiedTwice;
  } finally {
    await closeQuietly([conn]);
  }
  return { seconds: Math.round(seconds * 100) / 100, rowsPerSec: Math.round(rows / seconds), cpuSeconds: Math.round((cpuNow() - cpu0) * 100) / 100, chunksCopiedTwice: twice, rowsFirstRun };
}

async function main(): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), 'crossmove-bench-load-'));
  const config = { innodb_buffer_pool_size: '512M', innodb_log_file_size: '256M', max_allowed_packet: '64M' };
  let source: MariaDbServer | undefined;
  let target: MariaDbServer | undefined;
  const cleanup = async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    rmSync(base, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    [source, target] = await Promise.all([startMariaDb({ serverId: 1, baseDir: base, config }), startMariaDb({ serverId: 2, baseDir: base, config })]);
    serverPids = [source, target].map((s) => readFileSync(join(s.dir, 'mysqld.pid'), 'utf8').trim());
    log(`generating ${ROWS.toLocaleString('en')} rows...`);
    const dataset = await generate(source, ROWS);
    log(`dataset: ${dataset.rows.toLocaleString('en')} rows, ${(dataset.bytes / 1e6).toFixed(0)} MB of InnoDB data`);
    const expected = await checksums(source);
    const verify = async () => {
      const got = await checksums(target!);
      if (JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`checksums differ: ${got.join(' ')} vs ${expected.join(' ')}`);
    };
    const src = source;
    const dst = target;
    const cnf = join(base, 'client.cnf');
    writeFileSync(cnf, `[client]\nuser=${src.admin.username}\npassword=${src.admin.password}\nhost=127.0.0.1\n`, { mode: 0o600 });

    const runs: Record<'crossmove' | 'mariadbDump' | 'mydumper', Figure[]> = { crossmove: [], mariadbDump: [], mydumper: [] };
    const resumedRuns: (Figure & { chunksCopiedTwice: number })[] = [];
    if (TOOLS.has('mariadbDump') && !installed('mariadb-dump', 'apt-get install mariadb-client')) TOOLS.delete('mariadbDump');
    if (TOOLS.has('mydumper') && !(installed('mydumper', 'apt-get install mydumper') && installed('myloader', 'apt-get install mydumper'))) TOOLS.delete('mydumper');
    for (let round = 1; round <= REPEAT; round++) {
      if (REPEAT > 1) log(`round ${round}/${REPEAT}`);
      if (TOOLS.has('crossmove')) await resetTarget(dst);
      await settle([src, dst]);
      if (TOOLS.has('crossmove')) runs.crossmove.push(await timed('crossmove', ROWS, async () => {
        await logicalCopy({
          migrationId: 'bench',
          source: { endpoint: { host: src.host, port: src.port }, credentials: src.admin },
          target: { endpoint: { host: dst.host, port: dst.port }, credentials: dst.admin },
          schemas: [SCHEMA],
          parallelism: PARALLELISM,
          chunkRows: CHUNK_ROWS,
          batchBytes: BATCH_BYTES,
          onProgress: (p) => Object.assign(sampled, { phase: p.phase, rows: p.rowsCopied }),
        });
      }, verify));

      if (TOOLS.has('resumed')) {
        await resetTarget(dst);
        await settle([src, dst]);
        log('crossmove interrupted at ~50% and resumed: copying...');
        const figure = await interruptedAndResumed(src, dst, ROWS);
        await verify();
        log(`crossmove interrupted+resumed: ${figure.seconds} s, ${figure.rowsPerSec.toLocaleString('en')} rows/s, ${figure.cpuSeconds} CPU s, chunks copied twice: ${figure.chunksCopiedTwice} (checksums match)`);
        resumedRuns.push(figure);
      }

      if (TOOLS.has('mariadbDump')) await resetTarget(dst);
      if (TOOLS.has('mariadbDump')) await settle([src, dst]);
      if (TOOLS.has('mariadbDump')) runs.mariadbDump.push(await timed('mariadb-dump | mariadb', ROWS, () =>
        sh(`mariadb-dump --defaults-extra-file=${cnf} -P ${src.port} --single-transaction --master-data=2 --databases ${SCHEMA} --routines --triggers --events | mariadb --defaults-extra-file=${cnf} -P ${dst.port} --init-command="SET sql_log_bin=0"`),
      verify));

      if (TOOLS.has('mydumper')) await resetTarget(dst);
      if (TOOLS.has('mydumper')) await settle([src, dst]);
      const dumpDir = join(base, `mydumper-${round}`);
      if (TOOLS.has('mydumper')) runs.mydumper.push(await timed('mydumper/myloader', ROWS, async () => {
        await sh(`mydumper --defaults-file=${cnf} -h 127.0.0.1 -P ${src.port} -B ${SCHEMA} -o ${dumpDir} -t ${PARALLELISM} -r 50000 -G -R -E -v 1`);
        await sh(`myloader --defaults-file=${cnf} -h 127.0.0.1 -P ${dst.port} -d ${dumpDir} -t ${PARALLELISM} -o -v 1`);
      }, verify));
      rmSync(dumpDir, { recursive: true, force: true });
    }
    const best = <F extends Figure>(figures: F[]): F | null => (figures.length ? figures.reduce((a, b) => (b.seconds < a.seconds ? b : a)) : null);
    const crossmove = best(runs.crossmove);
    const mariadbDump = best(runs.mariadbDump);
    const mydumper = best(runs.mydumper);
    const resumedBest = best(resumedRuns);
    const resumed = resumedBest ? { rowsPerSec: resumedBest.rowsPerSec, chunksCopiedTwice: resumedBest.chunksCopiedTwice, seconds: resumedBest.seconds, cpuSeconds: resumedBest.cpuSeconds } : null;
    const ratio = (a: Figure | null, b: Figure | null) => (a && b ? round(a.seconds / b.seconds) : null);

    const report = { rows: dataset.rows, bytes: dataset.bytes, parallelism: PARALLELISM, repeat: REPEAT, crossmove, mariadbDump, mydumper, resumed,
      ratio: { vsMariadbDump: ratio(mariadbDump, crossmove), vsMydumper: ratio(mydumper, crossmove), resumedVsUninterrupted: ratio(resumedBest, crossmove) } };
    log(`crossmove is ${report.ratio.vsMariadbDump ?? '?'}x mariadb-dump and ${report.ratio.vsMydumper ?? '?'}x mydumper; interrupted+resumed took ${report.ratio.resumedVsUninterrupted ?? '?'}x the uninterrupted copy`);
    if (JSON_OUT) process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await cleanup();
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
