// The cutover critical section under ~200 writes/s on real MariaDB servers: zero acknowledged writes
// lost, equal checksums, the target accepting the application's writes afterwards, the
// write-unavailability window measured from the writer's side; a second invocation returns the same
// result; users/grants compared (and applied); reverse replication carries target writes back.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, type MariaDbServer } from '../../local/mariadb.js';
import { logger } from '../../shared/logger.js';
import { handler as cutOver } from '../../handlers/cut-over.js';
import { handler as startReverseReplication } from '../../handlers/start-reverse-replication.js';
import type { CutoverResult, MigrationState, ReverseReplicationResult } from '../../shared/state.js';
import { runDiffLocally } from '../../shared/verify/steps.js';
import { dialectFor } from '../../shared/mysql/dialect.js';
import { planCutover } from '../../shared/plan/switch-steps.js';
import { APP_PASSWORD, type WriteLoad } from '../support/write-load.js';
import { invoke, prepareApp, replicateUnderLoad, scalar, slaveStatus, startServers, stateFor, until, useLocalSecrets } from './fixtures.js';

let source: MariaDbServer;
let target: MariaDbServer;
let state: MigrationState;
let load: WriteLoad;
let result: CutoverResult;
const output: string[] = [];

beforeAll(async () => {
  useLocalSecrets();
  // Every log line of the steps (INFO included) is captured to check that no password leaks.
  logger.setLogLevel('DEBUG');
  // (POWERTOOLS_DEV makes the logger write through the global console.)
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      output.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
      original(...args);
    };
  }
  [source, target] = await startServers(2, 21);
  state = stateFor(source, target, { cutover: { applyMissingGrants: true } });
  await prepareApp(source, target, [
    'CREATE TABLE app.accounts (id INT PRIMARY KEY, balance DECIMAL(12,2), note TEXT)',
    "INSERT INTO app.accounts VALUES (1, 10.50, 'a'), (2, 99.99, NULL), (3, 0, 'ü')",
    // A user made without binlog (as on Aurora 3, where DCL does not replicate): must show up in the diff.
    "SET sql_log_bin=0; CREATE USER 'reporting'@'%' IDENTIFIED BY 'reporting-pw-123'; GRANT SELECT ON app.* TO 'reporting'@'%'; SET sql_log_bin=1",
  ]);
  ({ state, load } = await replicateUnderLoad(state, source, target, { ratePerSec: 200, ackedBefore: 40 }));
});

afterAll(async () => {
  await load?.stop();
  await Promise.all([source?.stop(), target?.stop()]);
});

describe('cutover under write load', () => {
  it('keeps the target read-only for applications until cutover', async () => {
    expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(1);
  });

  it('cuts over with zero acknowledged writes lost and equal checksums', async () => {
    await until(async () => load.acked.length > 300, 20_000);
    // The data is compared before the approval, while replicating (the state machine's "Compare
    // source and target"); the cutover's own check then only re-checks what that left open.
    const { summary } = await runDiffLocally(state);
    expect(summary).toMatchObject({ verdict: 'clean', tablesCompared: 2 });
    state = { ...state, diff: summary } as typeof state;
    result = await invoke<CutoverResult>(cutOver, state);
    load.repoint({ host: target.host, port: target.port, name: 'target' });
    await until(async () => load.ackedIds('target').length > 100, 20_000);
    await load.stop();

    expect(result).toMatchObject({ ok: true, rolledBack: false, tablesVerified: 2, checksumsMatch: true });
    expect(result.steps.map((s) => s.step)).toContain('wait until the target executed that position');
    // `crossmove plan` for this input lists exactly the steps this cutover ran, in the same order.
    const planned = await planCutover(state.input, dialectFor('mariadb'), dialectFor('mariadb'));
    expect(result.steps.map((s) => s.step)).toEqual(planned.switch.filter((s) => s.timed).map((s) => s.step));
    expect(result.grantDifferences).toEqual(expect.arrayContaining([expect.stringContaining("'reporting'@'%'")]));
    expect(result.grantDifferences.join(' ')).not.toMatch(/reporting-pw|\*[0-9A-F]{40}/);
    // applyMissingGrants: the user now exists on the target with its grant.
    expect(await scalar(target, "SHOW GRANTS FOR 'reporting'@'%'").catch(() => null)).toBeTruthy();

    const c = await target.connect();
    const [rows] = await c.query('SELECT id FROM app.writes');
    await c.end();
    const onTarget = new Set((rows as { id: number }[]).map((r) => Number(r.id)));
    const lost = load.ackedIds().filter((id) => !onTarget.has(id));
    expect(lost).toEqual([]);
    const window = load.unavailableMs('source', 'target');
    expect(window).not.toBeNull();
    console.info(`cutover: write-unavailability ${window!.toFixed(1)} ms, critical section ${result.writeBlockedMs} ms, ${load.writesPerSec().toFixed(0)} writes/s`);
  });

  it('leaves the source read-only, the target writable and no external source on the target', async () => {
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(1);
    expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(0);
    expect(await slaveStatus(target)).toBeUndefined();
    // Source and target agree on every table (the writes made on the target after cutover aside).
    const finalCount = Number(await scalar(source, 'SELECT COUNT(*) FROM app.writes'));
    const firstTargetId = load.ackedIds('target')[0]!;
    expect(Number(await scalar(target, 'SELECT COUNT(*) FROM app.writes WHERE id < ?', [firstTargetId]))).toBe(finalCount);
  });

  it('is idempotent: a second invocation returns the same result and changes nothing', async () => {
    const again = await invoke<CutoverResult>(cutOver, state);
    expect(again).toEqual(result);
    expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(0);
  });

  it('starts reverse replication from the target position at the switch: target writes reach the source', async () => {
    state = { ...state, cutover: result };
    const reverse = await invoke<ReverseReplicationResult>(startReverseReplication, state);
    expect(reverse).toMatchObject({ started: true, skipped: false, from: result.targetPositionAtSwitch });
    expect(JSON.stringify(reverse)).not.toMatch(/password/i);
    // Everything the load wrote on the target after the cutover arrives on the source.
    const targetIds = load.ackedIds('target');
    await until(async () => Number(await scalar(source, 'SELECT COUNT(*) FROM app.writes WHERE id >= ?', [targetIds[0]])) >= targetIds.length, 20_000);
    const t = await target.connect();
    await t.query("INSERT INTO app.accounts VALUES (4, 1.00, 'after cutover')");
    await t.end();
    await until(async () => (await scalar(source, 'SELECT note FROM app.accounts WHERE id = 4')) === 'after cutover', 20_000);
    // Idempotent.
    expect(await invoke<ReverseReplicationResult>(startReverseReplication, state)).toMatchObject({ started: true });
    expect((await slaveStatus(source))!.Slave_SQL_Running).toBe('Yes');
  });

  it('skips reverse replication when cutover.reverseReplication is false', async () => {
    const off = { ...state, input: { ...state.input, cutover: { ...state.input.cutover, reverseReplication: false } } };
    expect(await invoke(startReverseReplication, off)).toEqual({ started: false, from: null, skipped: true });
  });

  it('never puts a password in a log line or a step result', async () => {
    const passwords = [ADMIN_PASSWORD, APP_PASSWORD, 'reporting-pw-123'];
    for (const ref of [state.replicationUser!.secretRef, state.replicationUser!.secretRef.replace(/\.json$/, '-reverse.json')]) {
      passwords.push((JSON.parse(readFileSync(ref.slice(5), 'utf8')) as { password: string }).password);
    }
    const logs = output.join('');
    expect(logs).toContain('step: cutover: block writes on the source');
    expect(logs).toContain('POINT OF NO RETURN');
    const payload = JSON.stringify(state);
    // Replicated statements: user DDL must never carry a plaintext password into either binlog.
    const binlogText = (await Promise.all([source, target].map(binlogEvents))).join('\n');
    expect(binlogText).toMatch(/CREATE USER/);
    for (const pw of passwords) {
      expect(logs).not.toContain(pw);
      expect(payload).not.toContain(pw);
    }
    for (const pw of passwords.slice(-2)) expect(binlogText).not.toContain(pw);
  });
});

/** Every statement in every binlog of a server (SHOW BINLOG EVENTS). */
async function binlogEvents(server: MariaDbServer): Promise<string> {
  const c = await server.connect();
  try {
    const [logs] = await c.query('SHOW BINARY LOGS');
    const out: string[] = [];
    for (const l of logs as { Log_name: string }[]) {
      const [events] = await c.query('SHOW BINLOG EVENTS IN ?', [l.Log_name]);
      for (const e of events as { Info: string }[]) out.push(String(e.Info));
    }
    return out.join('\n');
  } finally {
    await c.end();
  }
}
