// Starts throwaway MariaDB servers on loopback for tests, the demo and benchmarks. Each server has its
// own datadir, socket, port and server_id, binlogs on (ROW), and an `admin` user reachable over TCP.
// A template datadir is prepared once per machine (mariadb-install-db, ~2 s) and copied per server
// (~0.04 s). Servers are stopped by stop(), and die with this process however it ends (bound-child.ts).
import { execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { spawnBound } from './bound-child.js';

export const ADMIN_USER = 'admin';
export const ADMIN_PASSWORD = 'local-admin-pw-7f3a';

export class MariaDbMissingError extends Error {
  name = 'MariaDbMissingError';
}

export interface MariaDbOptions {
  serverId: number;
  /** Parent folder for the server's files (default: a new temp folder). */
  baseDir?: string;
  /** Extra [mysqld] settings, e.g. { binlog_expire_logs_seconds: 3600 }. */
  config?: Record<string, string | number>;
}

export interface MariaDbServer {
  host: '127.0.0.1';
  port: number;
  serverId: number;
  dir: string;
  admin: { username: string; password: string };
  /** A connection as admin (caller closes it). */
  connect(database?: string): Promise<mysql.Connection>;
  stop(): Promise<void>;
  /** Stops and starts again on the same port and datadir. */
  restart(): Promise<void>;
}

function findBinary(names: string[]): string | null {
  for (const name of names) {
    for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/sbin']) {
      if (existsSync(join(dir, name))) return join(dir, name);
    }
  }
  return null;
}

export function mariaDbBinaries(): { server: string; installDb: string } {
  const server = findBinary(['mariadbd', 'mysqld']);
  const installDb = findBinary(['mariadb-install-db', 'mysql_install_db']);
  if (!server || !installDb) {
    throw new MariaDbMissingError(
      'MariaDB server binaries not found. Install them with: sudo apt-get install -y --no-install-recommends mariadb-server mariadb-client',
    );
  }
  return { server, installDb };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function configText(dir: string, port: number, serverId: number, extra: Record<string, string | number> = {}): string {
  // Each server its own temp directory: servers sharing /tmp have had a temp table's file vanish
  // under them ("Error on delete of '/tmp/#sql-temptable-...'") while another one started.
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const settings: Record<string, string | number> = {
    datadir: join(dir, 'data'),
    tmpdir: join(dir, 'tmp'),
    socket: join(dir, 'mysqld.sock'),
    'pid-file': join(dir, 'mysqld.pid'),
    'log-error': join(dir, 'error.log'),
    port,
    'bind-address': '127.0.0.1',
    'skip-name-resolve': 'ON',
    server_id: serverId,
    log_bin: 'mysql-bin',
    binlog_format: 'ROW',
    log_slave_updates: 'ON',
    innodb_buffer_pool_size: '64M',
    innodb_log_file_size: '48M',
    performance_schema: 'OFF',
    innodb_flush_log_at_trx_commit: 2,
    sync_binlog: 0,
    max_connections: 300,
    'character-set-server': 'utf8mb4',
    'collation-server': 'utf8mb4_general_ci',
    ...extra,
  };
  if (process.getuid?.() === 0) settings.user = 'root';
  const lines = Object.entries(settings).map(([k, v]) => (v === 'ON' && k === 'skip-name-resolve' ? k : `${k}=${v}`));
  return `[mysqld]\n${lines.join('\n')}\n[client]\nsocket=${join(dir, 'mysqld.sock')}\n`;
}

async function waitForTcp(port: number, child: ChildProcess, dir: string, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) {
      let log = '';
      try {
        log = execFileSync('tail', ['-n', '20', join(dir, 'error.log')]).toString();
      } catch {
        /* no log yet */
      }
      throw new Error(`MariaDB on port ${port} exited with code ${child.exitCode}:\n${log}`);
    }
    try {
      const c = await mysql.createConnection({ host: '127.0.0.1', port, user: ADMIN_USER, password: ADMIN_PASSWORD, connectTimeout: 1000 });
      await c.end();
      return;
    } catch {
      if (Date.now() - started > timeoutMs) throw new Error(`MariaDB on port ${port} did not accept connections within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

let templateDir: string | null = null;

/** Prepares (once) a datadir with the admin user, reused by copying. */
async function template(): Promise<string> {
  if (templateDir && existsSync(join(templateDir, 'data', 'mysql'))) return templateDir;
  const { server, installDb } = mariaDbBinaries();
  const version = execFileSync(server, ['--version']).toString().trim().split(/\s+/)[2] ?? 'unknown';
  const dir = join(tmpdir(), `crossmove-mariadb-template-${version.replace(/[^\w.-]/g, '_')}-v1`);
  if (existsSync(join(dir, 'ready'))) return (templateDir = dir);

  // Built in a private folder and renamed into place, so concurrent test workers never see half a template.
  const work = mkdtempSync(join(tmpdir(), 'crossmove-mariadb-build-'));
  const port = await freePort();
  writeFileSync(join(work, 'my.cnf'), configText(work, port, 1));
  execFileSync(installDb, [
    `--defaults-file=${join(work, 'my.cnf')}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
  ], { stdio: 'pipe' });
  const child = spawnBound(server, [`--defaults-file=${join(work, 'my.cnf')}`], { stdio: 'ignore' });
  try {
    const started = Date.now();
    for (;;) {
      try {
        const c = await mysql.createConnection({ socketPath: join(work, 'mysqld.sock'), user: 'root' });
        await c.query(`CREATE USER IF NOT EXISTS '${ADMIN_USER}'@'%' IDENTIFIED BY '${ADMIN_PASSWORD}'`);
        await c.query(`GRANT ALL PRIVILEGES ON *.* TO '${ADMIN_USER}'@'%' WITH GRANT OPTION`);
        await c.query('RESET MASTER');
        await c.end();
        break;
      } catch (err) {
        if (child.exitCode !== null || Date.now() - started > 30_000) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  rmSync(join(work, 'my.cnf'));
  for (const f of ['mysqld.sock', 'mysqld.pid', 'error.log']) rmSync(join(work, f), { force: true });
  writeFileSync(join(work, 'ready'), version);
  try {
    renameSync(work, dir);
  } catch {
    rmSync(work, { recursive: true, force: true }); // another worker won the race
  }
  return (templateDir = dir);
}

export async function startMariaDb(options: MariaDbOptions): Promise<MariaDbServer> {
  const { server } = mariaDbBinaries();
  const tpl = await template();
  const base = options.baseDir ?? mkdtempSync(join(tmpdir(), 'crossmove-db-'));
  const dir = join(base, `server-${options.serverId}`);
  mkdirSync(dir, { recursive: true });
  cpSync(join(tpl, 'data'), join(dir, 'data'), { recursive: true });
  const port = await freePort();
  writeFileSync(join(dir, 'my.cnf'), configText(dir, port, options.serverId, options.config));

  let child: ChildProcess;
  const launch = async () => {
    child = spawnBound(server, [`--defaults-file=${join(dir, 'my.cnf')}`], { stdio: 'ignore' });
    await waitForTcp(port, child, dir);
  };
  const halt = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  await launch();

  return {
    host: '127.0.0.1',
    port,
    serverId: options.serverId,
    dir,
    admin: { username: ADMIN_USER, password: ADMIN_PASSWORD },
    connect: (database?: string) =>
      mysql.createConnection({ host: '127.0.0.1', port, user: ADMIN_USER, password: ADMIN_PASSWORD, database, multipleStatements: true }),
    stop: async () => {
      await halt();
      if (!options.baseDir) rmSync(base, { recursive: true, force: true });
      else rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await halt();
      await launch();
    },
  };
}
