// The demo under `--workload sysbench` on a small dataset: sysbench's stock OLTP transactions from
// client threads through one endpoint that follows the cutover, the whole state machine, every
// acknowledged transaction found on the target, none there that no client committed, and no secret in
// the progress output or the report.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, type MariaDbServer } from '../../local/mariadb.js';
import { SYSBENCH_PASSWORD, sysbenchBinary, SYSBENCH_INSTALL_HINT } from '../../local/sysbench.js';
import { runDemo, type DemoReport } from '../../cli/demo-run.js';
import { leaks } from './secrets-scan.js';

const baseDir = mkdtempSync(join(tmpdir(), 'crossmove-e2e-demo-sysbench-'));
let servers: MariaDbServer[] = [];
let report: DemoReport;
let progressText = '';

beforeAll(async () => {
  if (!sysbenchBinary()) throw new Error(SYSBENCH_INSTALL_HINT);
  const progress = new PassThrough();
  progress.on('data', (d) => (progressText += d));
  report = await runDemo({
    rows: 3000,
    workload: 'sysbench',
    threads: 4,
    rate: 200,
    baseDir,
    progress: progress as unknown as NodeJS.WriteStream,
    tty: false,
    onServers: (s) => (servers = s),
  });
}, 240_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(baseDir, { recursive: true, force: true });
});

describe('npm run demo -- --workload sysbench (small dataset)', () => {
  it('migrates under the sysbench clients with no acknowledged transaction lost and none half-committed', () => {
    expect(report.migration.outcome).toBe('migrated');
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.workload).toBe('sysbench');
    expect(report.lostRows).toBe(0);
    expect(report.sysbench).toMatchObject({ threads: 4, halfCommitted: 0 });
    // shop's 6 tables, sbtest1-4 and the ledger
    expect(report.tablesVerified).toBe(11);
    expect(report.checksumsMatch).toBe(true);
    expect(progressText).toContain('sysbench 4 client threads on sbtest');
  });

  it('measured the window each client saw, and the clients followed the switch', () => {
    expect(report.writesDuringRun).toBeGreaterThan(100);
    expect(report.writeUnavailableMs).toBeGreaterThan(0);
    expect(report.sysbench!.p50Ms).toBeGreaterThan(0);
    expect(report.sysbench!.maxMs).toBeGreaterThanOrEqual(report.sysbench!.p99Ms!);
    // Refused by the blocked source (read-only) or cut off (killed, switched): the clients retried.
    expect(Object.keys(report.sysbench!.errors).some((k) => /^(1290|2013|2006|1927) /.test(k))).toBe(true);
  });

  it('puts no password in the progress output or the report', () => {
    expect(leaks(progressText, [ADMIN_PASSWORD, SYSBENCH_PASSWORD])).toEqual([]);
    expect(leaks(JSON.stringify(report), [ADMIN_PASSWORD, SYSBENCH_PASSWORD])).toEqual([]);
  });
});
