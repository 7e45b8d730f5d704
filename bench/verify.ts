// `npm run bench:verify [-- --json] [-- --rows N] [-- --tables T] [-- --parallelism P]`: the data
// comparison's speed on one replicated MariaDB pair while an application keeps writing, against
// pt-table-checksum (Debian's percona-toolkit) on the same pair as the anchor and CHECKSUM TABLE as
// the floor (one table scan, nothing compared), plus the replica lag the comparison added (heartbeat
// every 100 ms, p50 while comparing minus p50 before). A few known differences are planted on the
// target outside replication, on rows the application does not touch; the report says how many the
// comparison found. With --json the last stdout line is
//   {"rows","tables","crossmove":{"rowsPerSec"},"ptTableChecksum":{"rowsPerSec"},"checksumTable":{"rowsPerSec"},
//    "addedLagMsP50","differencesFound","plantedDifferences"}
// A tool that cannot run reports null, and the reason goes to stderr.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';

process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const JSON_OUT = args.includes('--json');
const ROWS = option('rows', 5_000_000);
const TABLES = option('tables', 4);
const PARALLELISM = option('parallelism', 4);
const log = (m: string) => (JSON_OUT ? process.stderr : process.stdout).write(`${m}\n`);
const SCHEMA = 'benchdb';

const { ADMIN_PASSWORD, ADMIN_USER, startMariaDb } = await import('../local/mariadb.js');
const { createDataset } = await import('./dataset.js');
const { validateMigrationInput } = await import('../shared/input/validate.js');
const { keepBinlogsStep } = await import('../shared/mysql/steps/keep-binlogs.js');
const { createReplicationUserStep } = await import('../shared/mysql/steps/create-replication-user.js');
const { startReplicationStep } = await import('../shared/mysql/steps/start-replication.js');
const { checkReplicationStep } = await import('../shared/mysql/steps/check-replication.js');
const { HeartbeatWriter, passiveHeartbeatLagMs } = await import('../shared/mysql/heartbeat.js');
const { openConnection } = await import('../shared/mysql/connection.js');
const { runDiffLocally } = await import('../shared/verify/steps.js');
const { percentile } = await import('./replicated-pair.js');
type MigrationState = import('../shared/state.js').MigrationState;

process.env.CROSSMOVE_BENCH_ADMIN = JSON.stringify({ username: ADMIN_USER, password: ADMIN_PASSWORD });
process.env.CROSSMOVE_SECRET_STORE ??= `local:${mkdtempSync(join(tmpdir(), 'crossmove-bench-secrets-'))}`;

const big = { innodb_buffer_pool_size: '256M', innodb_log_file_size: '256M', max_allowed_packet: '64M' };
const [source, target] = await Promise.all([startMariaDb({ serverId: 301, config: big }), startMariaDb({ serverId: 302, config: big })]);
const stops: (() => Promise<unknown>)[] = [() => source.stop(), () => target.stop()];
try {
  const dataset = await createDataset([source, target], SCHEMA, ROWS, TABLES, log);
  const input = validateMigrationInput({
    migrationId: 'bench-verify',
    source: { endpoint: { host: source.host, port: source.port }, adminSecret: 'env:CROSSMOVE_BENCH_ADMIN' },
    target: { endpoint: { host: target.host, port: target.port }, adminSecret: 'env:CROSSMOVE_BENCH_ADMIN' },
    initialLoad: { method: 'logical', schemas: [SCHEMA] },
    replication: { ssl: false, maxLagSeconds: 2 },
    verify: { parallelism: PARALLELISM },
  });
  let state: MigrationState = { input, accounts: { source: null, target: null, sameAccount: true, sourceRegion: null, targetRegion: null } };
  // The heartbeat table first (the target creates its own when replication starts), then replication
  // from the source's position: the dataset is on both sides already.
  state = { ...state, binlogs: await keepBinlogsStep(state) };
  const s = await source.connect();
  const [[position]] = (await s.query('SHOW MASTER STATUS')) as any;
  await s.end();
  state = { ...state, binlogPosition: { done: true, attempts: 1, status: 'found', position: { file: position.File, position: Number(position.Position) }, origin: 'logical-copy' } };
  state = { ...state, replicationUser: await createReplicationUserStep(state) };
  state = { ...state, replication: await startReplicationStep(state) };
  for (let i = 0; i < 100 && !state.lag?.caughtUp; i++) state = { ...state, lag: await checkReplicationStep(state) };
  if (!state.lag?.caughtUp) throw new Error('replication did not catch up');

  // The application: two connections updating and inserting; rows whose id is a multiple of 1000 are left alone (the planted ones).
  const writers = startWriters(source, dataset.tables, 2);
  stops.unshift(() => writers.stop());
  // Planted differences on the target, outside replication.
  const t1 = dataset.tables[0]!.name;
  const t2 = dataset.tables[Math.min(1, dataset.tables.length - 1)]!.name;
  const planted = [
    `UPDATE ${SCHEMA}.${t1} SET note = 'planted' WHERE id = 1000`,
    `UPDATE ${SCHEMA}.${t1} SET amount = amount + 0.01 WHERE id = 2000`,
    `UPDATE ${SCHEMA}.${t1} SET ratio = NULL WHERE id = 3003000`.replace('3003000', String(Math.min(3_000_000, dataset.tables[0]!.rows - dataset.tables[0]!.rows % 1000))),
    `DELETE FROM ${SCHEMA}.${t2} WHERE id = 5000`,
    `DELETE FROM ${SCHEMA}.${t2} WHERE id = 6000`,
    `INSERT INTO ${SCHEMA}.${t2} (id, account, amount, note, status, created, flags) VALUES (999999000, 1, 1, 'extra', 'new', NOW(6), 1)`,
  ];
  const t = await target.connect();
  await t.query('SET SESSION sql_log_bin = 0');
  for (const p of planted) await t.query(p);
  await t.end();

  // Heartbeat lag on the replica, every 100 ms, before and during the comparison.
  const hbConn = await openConnection({ host: source.host, port: source.port }, source.admin);
  const readS = await openConnection({ host: source.host, port: source.port }, source.admin);
  const readT = await openConnection({ host: target.host, port: target.port }, target.admin);
  const heartbeat = new HeartbeatWriter(hbConn, input.names.heartbeatSchema, 100).start();
  stops.unshift(async () => {
    await heartbeat.stop();
    await Promise.all([hbConn.end(), readS.end(), readT.end()]);
  });
  const sampleLag = async (ms: number, until?: Promise<unknown>) => {
    const out: number[] = [];
    let done = false;
    until?.finally(() => (done = true));
    const end = Date.now() + ms;
    while (until ? !done : Date.now() < end) {
      const lag = await passiveHeartbeatLagMs(readS, readT, input.names.heartbeatSchema).catch(() => null);
      if (lag !== null) out.push(lag);
      await new Promise((r) => setTimeout(r, 100));
    }
    return out;
  };
  const baseline = await sampleLag(5000);

  log(`crossmove: comparing ${dataset.rows.toLocaleString('en-US')} rows with ${PARALLELISM} workers while the application writes...`);
  const started = performance.now();
  const diffRun = runDiffLocally(state);
  const during = await sampleLag(0, diffRun);
  const { summary, workers } = await diffRun;
  const diffSeconds = (performance.now() - started) / 1000;
  const crossmove = { rowsPerSec: Math.round(dataset.rows / diffSeconds) };
  const maxPause = Math.max(...workers.map((w) => w.maxPausedMs));
  log(`crossmove: ${summary.rowsCompared.toLocaleString('en-US')} rows in ${diffSeconds.toFixed(1)} s = ${crossmove.rowsPerSec.toLocaleString('en-US')} rows/s, verdict ${summary.verdict}, ${summary.differences.rows} differing rows (${planted.length} planted), ${workers.reduce((n, w) => n + w.syncPoints, 0)} sync points (longest applier pause ${maxPause.toFixed(1)} ms)`);
  for (const d of summary.tables) log(`  ${d.table}: ${d.rows.map((r) => `${r.kind} ${r.key}`).join(', ')}`);
  const addedLagMsP50 = Math.max(0, Math.round((percentile(during, 50) - percentile(baseline, 50)) * 10) / 10);
  log(`lag on the replica: p50 ${percentile(baseline, 50).toFixed(1)} ms before, ${percentile(during, 50).toFixed(1)} ms while comparing (max ${Math.max(...during).toFixed(0)} ms)`);

  const pt = await ptTableChecksum(dataset.rows);
  const checksumTable = await checksumTableRate(dataset);
  const result = {
    rows: dataset.rows,
    tables: dataset.tables.length,
    crossmove,
    ptTableChecksum: { rowsPerSec: pt },
    checksumTable: { rowsPerSec: checksumTable },
    addedLagMsP50,
    differencesFound: summary.differences.rows,
    plantedDifferences: planted.length,
  };
  if (JSON_OUT) console.log(JSON.stringify(result));
  else log(JSON.stringify(result, null, 2));
} finally {
  for (const stop of stops) await stop().catch(() => undefined);
}
process.exit(0);

function startWriters(server: typeof source, tables: { name: string; rows: number }[], connections: number) {
  let running = true;
  let writes = 0;
  const loops = Array.from({ length: connections }, async (_, w) => {
    const c = await mysql.createConnection({ host: server.host, port: server.port, user: ADMIN_USER, password: ADMIN_PASSWORD });
    let n = 0;
    while (running) {
      const tbl = tables[n % tables.length]!;
      let id = 1 + Math.floor(Math.random() * tbl.rows);
      if (id % 1000 === 0) id++;
      const sql =
        n % 5 === 0
          ? `INSERT INTO ${SCHEMA}.${tbl.name} (id, account, amount, note, status, created, flags) VALUES (${2_000_000_001 + w * 100_000_000 + n}, 1, 2.5, 'app', 'new', NOW(6), 3)`
          : `UPDATE ${SCHEMA}.${tbl.name} SET amount = amount + 1, status = 'paid' WHERE id = ${id}`;
      await c.query(sql).catch(() => undefined);
      writes++;
      n++;
      await new Promise((r) => setTimeout(r, 5));
    }
    await c.end();
  });
  return { stop: async () => ((running = false), await Promise.all(loops), log(`application: ${writes} writes during the benchmark`)) };
}

/** pt-table-checksum on the source, the replica found through a DSN table; rows/s over its wall time. */
async function ptTableChecksum(rows: number): Promise<number | null> {
  const dsn = (port: number) => `h=127.0.0.1,P=${port},u=${ADMIN_USER},p=${ADMIN_PASSWORD}`;
  const c = await source.connect();
  await c.query('CREATE DATABASE IF NOT EXISTS percona');
  await c.query('CREATE TABLE IF NOT EXISTS percona.dsns (id INT AUTO_INCREMENT PRIMARY KEY, parent_id INT NULL, dsn VARCHAR(255) NOT NULL)');
  await c.query('DELETE FROM percona.dsns');
  await c.query('INSERT INTO percona.dsns (dsn) VALUES (?)', [dsn(target.port)]);
  await c.end();
  const argv = [
    dsn(source.port),
    `--databases=${SCHEMA}`,
    `--recursion-method=dsn=${dsn(source.port)},D=percona,t=dsns`,
    '--replicate=percona.checksums',
    '--no-check-binlog-format', // the replica logs ROW; pt sets STATEMENT for its own session (it has SUPER here)
    '--no-check-replication-filters',
    '--no-version-check',
    '--chunk-time=0.5',
    '--max-lag=5',
  ];
  log('pt-table-checksum: running on the same pair...');
  const started = performance.now();
  const out = await run('pt-table-checksum', argv).catch((err: Error) => err);
  const seconds = (performance.now() - started) / 1000;
  if (out instanceof Error) {
    const missing = /ENOENT/.test(out.message);
    log(`pt-table-checksum: null (${missing ? 'not installed: apt-get install percona-toolkit' : out.message.slice(0, 600)})`);
    return null;
  }
  const lines = out.stdout.trim().split('\n');
  const counted = lines.filter((l) => /^\s*\d\d-\d\dT/.test(l)).map((l) => l.trim().split(/\s+/));
  const ptRows = counted.reduce((n, f) => n + Number(f[3] ?? 0), 0);
  const diffs = counted.reduce((n, f) => n + Number(f[2] ?? 0), 0);
  const errors = counted.reduce((n, f) => n + Number(f[1] ?? 0), 0);
  log(`pt-table-checksum: ${ptRows.toLocaleString('en-US')} rows in ${seconds.toFixed(1)} s, exit ${out.code}, ${errors} errors, ${diffs} differing chunks (it names chunks, not rows)`);
  if (!counted.length || errors > 0) {
    log(`pt-table-checksum: null (no table checksummed cleanly):\n${(out.stdout + out.stderr).slice(0, 1500)}`);
    return null;
  }
  return Math.round(Math.max(ptRows, rows) / seconds);
}

async function checksumTableRate(dataset: { rows: number; tables: { name: string }[] }): Promise<number> {
  const c = await source.connect();
  const started = performance.now();
  await c.query(`CHECKSUM TABLE ${dataset.tables.map((t) => `${SCHEMA}.${t.name}`).join(', ')}`);
  const seconds = (performance.now() - started) / 1000;
  await c.end();
  log(`CHECKSUM TABLE on the source: ${seconds.toFixed(1)} s`);
  return Math.round(dataset.rows / seconds);
}

function run(cmd: string, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    // pt-table-checksum exits non-zero when it found differences (bit 16): that is a result, not a failure.
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
