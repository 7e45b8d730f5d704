// sysbench and its servers never outlive what started them, nor their run: a test worker killed on
// timeout, a benchmark killed with SIGKILL, an uncaught exception. Once an orphaned sysbench (its
// parent gone, its server gone) was found after 30 minutes reconnecting at 116 % CPU and 12 GB: each
// failed connect leaks memory in the client library and its retry loop ignored both the run's time
// limit and the stop file nobody was left to write.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { getPriority, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMariaDb, type MariaDbServer } from '../../local/mariadb.js';
import { backendOf, SwitchableEndpoint } from '../../local/switchable-endpoint.js';
import mysql from 'mysql2/promise';
import { prepareSysbench, SysbenchLoad, sysbenchBinary, SYSBENCH_INSTALL_HINT, SYSBENCH_PASSWORD, SYSBENCH_USER } from '../../local/sysbench.js';
import { running } from '../support/processes.js';
import { until } from './fixtures.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DATA = { tables: 1, tableSize: 500 };

beforeAll(() => {
  if (!sysbenchBinary()) throw new Error(SYSBENCH_INSTALL_HINT);
});

// Whatever a test started is killed at the end, whatever it asserted.
const leftovers: number[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const pid of leftovers.splice(0)) if (running(pid)) process.kill(pid, 'SIGKILL');
  for (const c of cleanups.splice(0)) await c().catch(() => undefined);
});

/** Runs test/support/sysbench-child.ts; resolves with the pids it printed, and the child itself. */
async function startChild(mode: 'wait' | 'throw', serverId: number, env: Record<string, string> = {}) {
  const baseDir = mkdtempSync(join(tmpdir(), 'crossmove-sysbench-lifetime-'));
  cleanups.push(async () => rmSync(baseDir, { recursive: true, force: true }));
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/sysbench-child.ts'), mode, String(serverId), baseDir], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  leftovers.push(child.pid!);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const pids = await until(async () => {
    if (child.exitCode !== null && !out.includes('\n')) throw new Error(`the child exited ${child.exitCode}: ${err}`);
    const line = out.split('\n').find((l) => l.startsWith('{'));
    return line ? (JSON.parse(line) as { sysbench: number; server: number }) : null;
  }, 90_000, 50);
  leftovers.push(pids.sysbench, pids.server);
  return { child, pids, exited };
}

const gone = (pid: number) => until(async () => !running(pid), 20_000, 50).then(() => true, () => false);

describe('sysbench and its servers end with the process that started them', () => {
  it('killed with SIGKILL (a test worker killed, a benchmark killed): sysbench and the server die too', async () => {
    const { child, pids, exited } = await startChild('wait', 951);
    expect(running(pids.sysbench) && running(pids.server)).toBe(true);
    child.kill('SIGKILL');
    await exited;
    expect(await gone(pids.sysbench)).toBe(true);
    expect(await gone(pids.server)).toBe(true);
  });

  it('ended by an uncaught exception: sysbench and the server die too', async () => {
    const { pids, exited } = await startChild('throw', 952);
    expect(await exited).not.toBe(0);
    expect(await gone(pids.sysbench)).toBe(true);
    expect(await gone(pids.server)).toBe(true);
  });

  it('where the parent-death signal is missing, sysbench sees its parent gone and ends by itself', async () => {
    const { child, pids, exited } = await startChild('wait', 953, { CROSSMOVE_NO_PDEATHSIG: '1' });
    child.kill('SIGKILL');
    await exited;
    expect(await gone(pids.sysbench)).toBe(true);
    // Without the signal nothing kills the server: afterEach does.
  });
});

describe('a sysbench load whose server is gone', () => {
  let server: MariaDbServer;

  beforeAll(async () => {
    server = await startMariaDb({ serverId: 954 });
    const admin = await server.connect();
    await prepareSysbench(server, admin, DATA);
    await admin.end();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('backs off reconnecting (at most one attempt per 100 ms per thread, after the first few) and ends at its time limit without being stopped', async () => {
    const endpoint = await SwitchableEndpoint.start(backendOf('up', server), SYSBENCH_USER);
    cleanups.push(() => endpoint.close());
    // A server that is gone: every connection is cut at once, and counted.
    const dir = mkdtempSync(join(tmpdir(), 'crossmove-sysbench-down-'));
    let attempts = 0;
    const down = createServer((socket) => {
      attempts++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => down.listen(join(dir, 'down.sock'), resolve));
    cleanups.push(async () => {
      await new Promise((r) => down.close(r));
      rmSync(dir, { recursive: true, force: true });
    });
    const threads = 4;
    const load = SysbenchLoad.start({ endpoint, threads, data: DATA, retryPauseMs: 0, maxSeconds: 4 });
    cleanups.push(async () => void (await load.stop(1000)));
    await load.untilAcked(50);
    const downSince = Date.now();
    await endpoint.switchTo({ name: 'down', socket: join(dir, 'down.sock'), connect: () => server.connect() });
    await until(async () => load.ended, 60_000, 50);
    const downMs = Date.now() - downSince;
    expect(load.ended).toBe(true);
    // Doubling from 1 ms to 100 ms takes 8 attempts; then one per 100 ms at most. Without the back-off
    // the clients made thousands.
    expect(attempts).toBeGreaterThan(0);
    expect(attempts).toBeLessThanOrEqual(threads * (downMs / 100 + 10));
    const run = await load.stop();
    expect(run.exitCode, run.output.slice(-1000)).toBe(0);
  });
  it('cuts an application connection that reaches the old server just after the switch (a handshake begun through the old link), not only those open at the switch', async () => {
    const endpoint = await SwitchableEndpoint.start(backendOf('old', server), SYSBENCH_USER);
    cleanups.push(() => endpoint.close());
    const dir = mkdtempSync(join(tmpdir(), 'crossmove-endpoint-new-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const app = () => mysql.createConnection({ socketPath: join(server.dir, 'mysqld.sock'), user: SYSBENCH_USER, password: SYSBENCH_PASSWORD });
    const open = await app();
    await endpoint.switchTo({ name: 'new', socket: join(dir, 'new.sock'), connect: () => server.connect() });
    // Open at the switch: cut by it.
    await expect(open.query('SELECT 1')).rejects.toThrow();
    open.destroy();
    // Arriving after it on the old server (its connect had resolved the old link): cut as well. Before,
    // such a client stayed on the old primary for good, its writes refused as read-only.
    const late = await app();
    cleanups.push(async () => late.destroy());
    const cut = await until(async () => late.query('SELECT 1').then(() => null, () => true), 1500, 20).catch(() => false);
    expect(cut).toBe(true);
  });
  it('runs the clients at the CPU priority asked for (--clients-nice), and at the servers\' otherwise', async () => {
    const endpoint = await SwitchableEndpoint.start(backendOf('up', server), SYSBENCH_USER);
    cleanups.push(() => endpoint.close());
    const niced = SysbenchLoad.start({ endpoint, threads: 1, data: DATA, nice: 10, maxSeconds: 4 });
    const plain = SysbenchLoad.start({ endpoint, threads: 1, data: DATA, maxSeconds: 4, run: 2 });
    cleanups.push(async () => void (await niced.stop(1000)), async () => void (await plain.stop(1000)));
    await Promise.all([niced.untilAcked(5), plain.untilAcked(5)]);
    expect(getPriority(niced.pid!)).toBe(10);
    expect(getPriority(plain.pid!)).toBe(getPriority(process.pid));
  });
});
