// The demo path end to end on a small dataset: two real MariaDB servers, a write load through a
// non-admin user for the whole run, the state machine with every Task bound to its real handler,
// auto-approve, cutover, reverse replication. Also: no secret value in any state payload, in the
// progress output or in the report.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, type MariaDbServer } from '../../local/mariadb.js';
import type { RunEvent } from '../../local/run-state-machine.js';
import { APP_PASSWORD } from '../support/write-load.js';
import { runDemo, type DemoReport } from '../../cli/demo-run.js';
import { leaks, secretValuesIn } from './secrets-scan.js';

const baseDir = mkdtempSync(join(tmpdir(), 'crossmove-e2e-demo-'));
let servers: MariaDbServer[] = [];
let report: DemoReport;
const events: RunEvent[] = [];
let progressText = '';

beforeAll(async () => {
  const progress = new PassThrough();
  progress.on('data', (d) => (progressText += d));
  report = await runDemo({
    rows: 3000,
    baseDir,
    progress: progress as unknown as NodeJS.WriteStream,
    tty: false,
    onEvent: (e) => events.push(e),
    onServers: (s) => (servers = s),
  });
}, 180_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(baseDir, { recursive: true, force: true });
});

describe('npm run demo (small dataset)', () => {
  it('migrates with nothing lost and every table verified', () => {
    expect(report.migration.outcome).toBe('migrated');
    expect(report.ok).toBe(true);
    expect(report.lostRows).toBe(0);
    expect(report.checksumsMatch).toBe(true);
    // shop: customers, products, orders, order_items, page_views, order_audit; app: writes
    expect(report.tablesVerified).toBe(7);
    expect(report.migration.cutover?.checksumsMatch).toBe(true);
    expect(report.migration.cutover?.tablesVerified).toBe(7);
    expect(report.rowsTarget).toBe(report.rowsSource);
    expect(report.rowsSource).toBeGreaterThan(3000);
  });

  it('kept the application writing during the whole run and measured its unavailability from its side', () => {
    expect(report.writesDuringRun).toBeGreaterThan(50);
    expect(report.writeUnavailableMs).not.toBeNull();
    expect(report.writeUnavailableMs!).toBeGreaterThan(0);
    expect(report.phases.initialLoadMs).not.toBeNull();
    expect(report.phases.catchUpMs).not.toBeNull();
    expect(report.phases.cutoverMs).not.toBeNull();
    expect(report.lag.method).toBe('heartbeat');
    expect(report.lag.samples).toBeGreaterThanOrEqual(3);
  });

  it('ran the logical path through every main state, in order', () => {
    const entered = events.filter((e) => e.execution === 'migration' && e.type === 'StateEntered').map((e) => e.state);
    const order = ['Validate the input', 'Run preflight checks', 'Keep binlogs long enough', 'Prepare the frozen source', 'Plan the copy',
      'Copy the data for one window', 'Finish the copy', 'Create the replication user',
      'Start replication on the target', 'Ask for cutover approval', 'Cut over', 'Switch DNS', 'Start reverse replication', 'Report success'];
    const positions = order.map((s) => entered.indexOf(s));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(entered).not.toContain('Clone the cluster');
  });

  it('shows copy progress and lag in the progress output', () => {
    expect(progressText).toMatch(/copy: done · [\d,]+\/[\d,]+ rows · [\d,]+ rows\/s/);
    expect(progressText).toMatch(/lag [\d.]+ ms \(heartbeat\)/);
  });

  it('puts no secret value in any state payload, the progress output or the report', () => {
    const secrets = [ADMIN_PASSWORD, APP_PASSWORD, ...secretValuesIn(join(baseDir, 'generated-secrets'))];
    expect(secrets.length).toBeGreaterThanOrEqual(3); // the replication user's generated password is among them
    const payloads = JSON.stringify(events);
    expect(payloads.length).toBeGreaterThan(10_000);
    expect(leaks(payloads, secrets)).toEqual([]);
    expect(leaks(progressText, secrets)).toEqual([]);
    expect(leaks(JSON.stringify(report), secrets)).toEqual([]);
  });
});
