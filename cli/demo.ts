// `npm run demo [-- --json] [-- --rows N] [-- --no-install] [-- --workload sysbench [--threads N]
// [--rate TPS]]`: the whole migration on this machine in seconds, under the built-in write loop or
// sysbench's OLTP transactions (when sysbench is installed; otherwise the loop, with a hint). Installs nothing by surprise: without MariaDB it says what is missing and how to get it, or,
// running as root with apt, says it is installing it and does (--no-install: only say). Servers live
// in a temp folder that is removed at the end, also on Ctrl-C or failure.
export {};
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { execFileSync } = await import('node:child_process');
const { mkdtempSync, rmSync, existsSync } = await import('node:fs');
const { tmpdir } = await import('node:os');
const { join } = await import('node:path');
const { mariaDbBinaries } = await import('../local/mariadb.js');
const { sysbenchBinary, SYSBENCH_INSTALL_HINT } = await import('../local/sysbench.js');
const { runDemo } = await import('./demo-run.js');
const { redact } = await import('../shared/redact.js');
type Server = import('../local/mariadb.js').MariaDbServer;

const args = process.argv.slice(2);
const json = args.includes('--json');
const rowsAt = args.indexOf('--rows');
const rows = rowsAt >= 0 ? Number(args[rowsAt + 1]) : 120_000;
const out = json ? process.stderr : process.stdout;
const option = (name: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
};
const asked = option('workload') ?? 'writes';
if (asked !== 'writes' && asked !== 'sysbench') {
  out.write(`--workload must be writes (the built-in loop, default) or sysbench, not ${asked}\n`);
  process.exit(2);
}
let workload: 'writes' | 'sysbench' = asked;
if (workload === 'sysbench' && !sysbenchBinary()) {
  out.write(`${SYSBENCH_INSTALL_HINT}; running the built-in write loop instead.\n`);
  workload = 'writes';
}
const threads = option('threads') ? Number(option('threads')) : undefined;
const rate = option('rate') ? Number(option('rate')) : undefined;

function ensureMariaDb(): boolean {
  try {
    mariaDbBinaries();
    return true;
  } catch {
    const command = 'apt-get install -y --no-install-recommends mariadb-server mariadb-client';
    const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get') && !args.includes('--no-install');
    if (canInstall) {
      // Said before it happens, with the exact command; --no-install only prints it.
      out.write(`The demo needs a MariaDB server, which is not installed. Installing it now (root, apt): ${command}\n`);
      execFileSync('bash', ['-c', `DEBIAN_FRONTEND=noninteractive apt-get update && DEBIAN_FRONTEND=noninteractive ${command}`], { stdio: ['ignore', 'inherit', 'inherit'] });
      return true;
    }
    out.write(
      `The demo needs a MariaDB server (10.6+), which is not installed.\n` +
        `  Debian/Ubuntu: sudo ${command}\n` +
        `The demo starts its own throwaway servers in a temp folder; the system service is not used.\n`,
    );
    return false;
  }
}

if (!ensureMariaDb()) process.exit(2);

const baseDir = mkdtempSync(join(tmpdir(), 'crossmove-demo-'));
let servers: Server[] = [];
let cleaned = false;
const cleanup = async () => {
  if (cleaned) return;
  cleaned = true;
  await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
  rmSync(baseDir, { recursive: true, force: true });
};
const aborter = new AbortController();
process.on('SIGINT', () => {
  if (aborter.signal.aborted) {
    void cleanup().then(() => process.exit(130));
    return;
  }
  out.write('\nstopping after the running step, then cleaning up (Ctrl-C again to quit at once)\n');
  aborter.abort();
});
process.on('SIGTERM', () => void cleanup().then(() => process.exit(143)));

try {
  const report = await runDemo({
    rows,
    workload,
    threads,
    rate,
    baseDir,
    progress: out,
    tty: Boolean(out.isTTY),
    signal: aborter.signal,
    onServers: (s) => (servers = s),
  });
  const lines = [
    '',
    report.ok ? 'Demo migration succeeded.' : `Demo migration did NOT succeed: ${report.problems.join('; ')}.`,
    `  rows: source ${report.rowsSource.toLocaleString('en-US')}, target ${report.rowsTarget.toLocaleString('en-US')}, lost ${report.lostRows ?? 'unknown (the load could not be counted)'}`,
    `  tables verified: ${report.tablesVerified}, checksums ${report.checksumsMatch ? 'match' : 'DIFFER'}`,
    `  application writes: ${report.writesDuringRun} acknowledged (${report.writeFailures} refused/retried during the cutover)`,
    `  write unavailability (writer's view): ${report.writeUnavailableMs ?? 'n/a'} ms (source writes blocked by the cutover: ${report.migration.cutover?.writeBlockedMs ?? 'n/a'} ms)`,
    ...(report.sysbench
      ? [
          `  sysbench: ${report.sysbench.threads} clients, ${report.sysbench.tps} tx/s; each client's window p50 ${report.sysbench.p50Ms ?? 'n/a'} ms, p99 ${report.sysbench.p99Ms ?? 'n/a'} ms, max ${report.sysbench.maxMs ?? 'n/a'} ms; ` +
            `errors ${Object.entries(report.sysbench.errors).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
        ]
      : []),
    `  phases: initial load ${report.phases.initialLoadMs} ms, catch-up ${report.phases.catchUpMs} ms, cutover ${report.phases.cutoverMs} ms`,
    `  lag (${report.lag.method}): p50 ${report.lag.p50Ms} ms, max ${report.lag.maxMs} ms`,
    `  total ${(report.elapsedMs / 1000).toFixed(1)} s`,
  ];
  if (report.migration.cause) lines.push(`  cause: ${report.migration.cause}`);
  out.write(`${redact(lines.join('\n'))}\n`);
  if (json) process.stdout.write(`${redact(JSON.stringify(report))}\n`);
  process.exitCode = report.ok ? 0 : 1;
} catch (err) {
  out.write(`demo failed: ${redact((err as Error).message)}\n`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
