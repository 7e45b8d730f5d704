// An application workload from sysbench (the Debian package, its stock oltp_write_only /
// oltp_read_write scripts and sbtest tables): N client threads through a non-admin user, reconnecting
// the way a pool does, each acknowledged transaction recorded in a ledger (local/sysbench/
// crossmove_oltp.lua) so that lost writes can be counted after a cutover. Used by the demo, the
// cutover benchmark and the tests. sysbench never outlives this process (bound-child.ts, and the
// script's own parent watch), nor its run's time limit, even when its server is gone.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type mysql from 'mysql2/promise';
import { spawnBound } from './bound-child.js';
import { ackedSince, ThreadLogReader, type ThreadLog } from './sysbench-ledger.js';

export const SYSBENCH_SCHEMA = 'sbtest';
export const SYSBENCH_USER = 'sb_app';
export const SYSBENCH_PASSWORD = 'sb-app-pw-5c2e';
export const SYSBENCH_INSTALL_HINT = 'sysbench is not installed; get it with: sudo apt-get install -y sysbench';

export type OltpScript = 'oltp_write_only' | 'oltp_read_write';

const LUA = join(dirname(fileURLToPath(import.meta.url)), 'sysbench', 'crossmove_oltp.lua');

export class SysbenchMissingError extends Error {
  name = 'SysbenchMissingError';
  constructor() {
    super(SYSBENCH_INSTALL_HINT);
  }
}

export function sysbenchBinary(): string | null {
  for (const dir of ['/usr/bin', '/usr/local/bin']) if (existsSync(join(dir, 'sysbench'))) return join(dir, 'sysbench');
  return null;
}

function binary(): string {
  const bin = sysbenchBinary();
  if (!bin) throw new SysbenchMissingError();
  return bin;
}

export interface SysbenchData {
  tables: number;
  tableSize: number;
}

export const DEFAULT_DATA: SysbenchData = { tables: 4, tableSize: 10_000 };

interface Server {
  host: string;
  port: number;
  admin: { username: string; password: string };
}

/**
 * The application's user (not replicated: every server gets its own, as users are not part of the
 * copy), with only what the OLTP scripts need.
 */
export async function createSysbenchUser(admin: mysql.Connection): Promise<void> {
  await admin.query('SET SESSION sql_log_bin = 0');
  await admin.query(`CREATE USER IF NOT EXISTS '${SYSBENCH_USER}'@'%' IDENTIFIED BY '${SYSBENCH_PASSWORD}'`);
  await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON \`${SYSBENCH_SCHEMA}\`.* TO '${SYSBENCH_USER}'@'%'`);
  await admin.query('SET SESSION sql_log_bin = 1');
}

/** The stock sbtest tables (sysbench's own `prepare`, as admin), the ledger table and the application user. */
export async function prepareSysbench(server: Server, admin: mysql.Connection, data: SysbenchData = DEFAULT_DATA): Promise<void> {
  await admin.query(`CREATE DATABASE IF NOT EXISTS \`${SYSBENCH_SCHEMA}\``);
  await admin.query(
    `CREATE TABLE IF NOT EXISTS \`${SYSBENCH_SCHEMA}\`.sbtest_ledger (run_id INT NOT NULL, thread_id INT NOT NULL, seq INT NOT NULL,
       committed DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), PRIMARY KEY (run_id, thread_id, seq)) ENGINE=InnoDB`,
  );
  await createSysbenchUser(admin);
  const prepare = spawnBound(
    binary(),
    ['oltp_write_only', ...dataArgs(data), ...connArgs(server), `--mysql-user=${server.admin.username}`, `--mysql-password=${server.admin.password}`, 'prepare'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  prepare.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  await new Promise<void>((resolve, reject) => {
    prepare.once('error', (err) => reject(new Error(`sysbench prepare failed: ${err.message}`)));
    prepare.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`sysbench prepare failed (${code ?? signal}): ${stderr}`))));
  });
}

function dataArgs(d: SysbenchData): string[] {
  return [`--tables=${d.tables}`, `--table-size=${d.tableSize}`];
}

/** Where the application connects: a server's TCP address, or a unix socket (a SwitchableEndpoint's). */
export type AppEndpoint = { host: string; port: number } | { socketPath: string };

function connArgs(endpoint: AppEndpoint): string[] {
  const where = 'socketPath' in endpoint ? [`--mysql-socket=${endpoint.socketPath}`] : [`--mysql-host=${endpoint.host}`, `--mysql-port=${endpoint.port}`];
  return [...where, `--mysql-db=${SYSBENCH_SCHEMA}`];
}

export interface SysbenchLoadOptions {
  /** Where the clients connect (a SwitchableEndpoint, so that they follow the cutover). */
  endpoint: AppEndpoint;
  threads: number;
  script?: OltpScript;
  /** Transactions/s over all threads; 0 (default) = as fast as the server goes. */
  rate?: number;
  data?: SysbenchData;
  /** Ledger run number (one per load on the same tables). */
  run?: number;
  /**
   * CPU priority of the client process (os.setPriority: 1-19 lower than the servers'). On one shared
   * machine the clients' retries while writes are blocked take the CPU the servers' switch needs; in
   * production they run on other hosts. 0 (default): same priority as the servers.
   */
  nice?: number;
  /** MySQL errors after which a client replaces its connection, or 'all' (a connection storm when blocked). */
  replaceConnectionOn?: string;
  /** Pause before a failed transaction is retried. */
  retryPauseMs?: number;
  /**
   * Hard limit of the run in seconds (default 600; it normally ends with stop()): sysbench ends by
   * itself then, and is killed from here 30 s later if it has not. It bounds what the run can cost:
   * the logs, and the ledger this process reads from them, grow with every transaction.
   */
  maxSeconds?: number;
}

/** How long past its time limit a run may take to end by itself before it is killed. */
const OVERRUN_MS = 30_000;

export interface SysbenchRun {
  run: number;
  threads: number;
  logs: ThreadLog[];
  exitCode: number | null;
  /** sysbench's last report lines and any error output, for diagnostics. */
  output: string;
}

export class SysbenchLoad {
  readonly run: number;
  private readonly dir: string;
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private output = '';
  private stopped: Promise<SysbenchRun> | null = null;
  private readonly readers = new Map<string, ThreadLogReader>();

  private constructor(readonly options: SysbenchLoadOptions) {
    this.run = options.run ?? 1;
    this.dir = mkdtempSync(join(tmpdir(), 'crossmove-sysbench-'));
    const maxSeconds = options.maxSeconds ?? 600;
    const args = [
      LUA,
      ...dataArgs(options.data ?? DEFAULT_DATA),
      ...connArgs(options.endpoint),
      `--mysql-user=${SYSBENCH_USER}`,
      `--mysql-password=${SYSBENCH_PASSWORD}`,
      `--threads=${options.threads}`,
      `--rate=${options.rate ?? 0}`,
      `--time=${maxSeconds}`,
      // Every error goes to the script's hooks, which roll back, replace the connection when it is
      // gone and retry (sysbench's own reconnect hangs with Debian's MariaDB client library) ...
      '--mysql-ignore-errors=none',
      // ... and, like most drivers' defaults, sends statements as text (nothing to re-prepare after a reconnect).
      '--db-ps-mode=disable',
      '--report-interval=1',
      `--ledger-dir=${this.dir}`,
      `--ledger-run=${this.run}`,
      `--stop-file=${join(this.dir, 'stop')}`,
      `--replace-connection-on=${options.replaceConnectionOn ?? ''}`,
      `--retry-pause-ms=${options.retryPauseMs ?? 1}`,
      `--parent-pid=${process.pid}`,
      'run',
    ];
    this.child = spawnBound(binary(), args, {
      env: { ...process.env, CROSSMOVE_OLTP: options.script ?? 'oltp_write_only' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (options.nice && this.child.pid) setPriority(this.child.pid, options.nice);
    // Not even a hung sysbench outlives its limit (unref: this timer keeps nothing alive).
    const overrun = setTimeout(() => this.child.kill('SIGKILL'), maxSeconds * 1000 + OVERRUN_MS);
    overrun.unref();
    const keep = (d: Buffer) => (this.output = (this.output + d.toString()).slice(-8000));
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        clearTimeout(overrun);
        resolve(code);
      }),
    );
  }

  static start(options: SysbenchLoadOptions): SysbenchLoad {
    return new SysbenchLoad(options);
  }

  /** sysbench's process id (while it runs). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether sysbench has ended (by stop(), its time limit, or otherwise). */
  get ended(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** What the threads have logged so far (flushed every 50 ms; read incrementally). */
  logs(): ThreadLog[] {
    if (this.stopped && !existsSync(this.dir)) return [...this.readers.values()].map((r) => r.log);
    for (const f of readdirSync(this.dir)) {
      if (!f.startsWith('thread-') || this.readers.has(f)) continue;
      this.readers.set(f, new ThreadLogReader(join(this.dir, f), Number(f.slice(7, -4)), this.run));
    }
    return [...this.readers.values()].map((r) => r.read());
  }

  ackedCount(): number {
    return this.logs().reduce((n, l) => n + l.acked.length, 0);
  }

  /** Waits until `n` transactions are acknowledged after the `since` epoch ms (or the load died). */
  async untilAcked(n: number, since = 0, timeoutMs = 30_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const acked = ackedSince(this.logs(), since);
      if (acked >= n) return;
      if (this.ended) throw new Error(`sysbench exited (${this.child.exitCode}) before ${n} acknowledged transactions: ${this.output.slice(-1500)}`);
      if (Date.now() > end) throw new Error(`sysbench acknowledged ${acked} of ${n} transactions within ${timeoutMs} ms: ${this.output.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Ends the run (each thread finishes its transaction and closes its log) and returns everything logged. */
  stop(timeoutMs = 20_000): Promise<SysbenchRun> {
    this.stopped ??= this.end(timeoutMs);
    return this.stopped;
  }

  private async end(timeoutMs: number): Promise<SysbenchRun> {
    if (!this.ended) {
      writeFileSync(join(this.dir, 'stop'), '');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      await this.exited;
      clearTimeout(timer);
    }
    const logs = this.logs();
    const result: SysbenchRun = { run: this.run, threads: this.options.threads, logs, exitCode: this.child.exitCode, output: this.output };
    rmSync(this.dir, { recursive: true, force: true });
    return result;
  }
}
