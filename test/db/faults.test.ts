// Faults, each with its clear, typed error and nothing lost: binlogs purged before replication starts,
// a catch-up that cannot finish within the budget (automatic rollback), a duplicate key on the target,
// the replication user locked out, a difference found by the comparison before the cutover, replication
// settings that could drop changes. Real MariaDB servers; the write load keeps running throughout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MariaDbServer } from '../../local/mariadb.js';
import { handler as createReplicationUser } from '../../handlers/create-replication-user.js';
import { handler as startReplication } from '../../handlers/start-replication.js';
import { handler as checkReplication } from '../../handlers/check-replication.js';
import { handler as cutOver } from '../../handlers/cut-over.js';
import { cutOverStep } from '../../shared/mysql/steps/cut-over.js';
import { ReadOnlyBlocker } from '../../shared/mysql/write-block.js';
import { writeCutoverMarker } from '../../shared/mysql/switch-log.js';
import type { CutoverResult } from '../../shared/state.js';
import type { MigrationState, ReplicationCheck } from '../../shared/state.js';
import { runDiffLocally } from '../../shared/verify/steps.js';
import { WriteLoad } from '../support/write-load.js';
import { beforeCopy, invoke, prepareApp, purgeBinlogsPast, recopy, scalar, slaveStatus, sql, startServers, stateFor, until, useLocalSecrets, ageMarkers } from './fixtures.js';

let source: MariaDbServer;
let target: MariaDbServer;
let state: MigrationState;
let load: WriteLoad;
let lastResult: CutoverResult;

/** A new initial load and replication from its coordinates (what re-running the migration does). */
async function freshReplication(opts: { start?: boolean } = {}): Promise<void> {
  await sql(target, 'STOP SLAVE; RESET SLAVE ALL; DROP DATABASE IF EXISTS app');
  state = await recopy(state, source, target, opts);
}

async function errorOfCheck(): Promise<Error> {
  return until(async () => {
    try {
      await invoke(checkReplication, state);
      return null;
    } catch (err) {
      return (err as Error).name === 'TransientError' ? null : (err as Error);
    }
  }, 30_000, 100);
}

beforeAll(async () => {
  useLocalSecrets();
  [source, target] = await startServers(2, 31);
  state = stateFor(source, target, { replication: { maxLagSeconds: 10 }, cutover: { catchUpTimeoutSeconds: 1 } });
  await prepareApp(source, target);
  state = await beforeCopy(state);
  load = new WriteLoad({ host: source.host, port: source.port, name: 'source' }, { ratePerSec: 100 }).start();
  await until(async () => load.acked.length > 20);
});

afterAll(async () => {
  await load?.stop();
  await Promise.all([source?.stop(), target?.stop()]);
});

describe('replication faults', () => {
  it('binlogs purged before replication starts: BinlogPurgedError names the file and the retention to set', async () => {
    await freshReplication({ start: false });
    const from = state.binlogPosition!.position!;
    await purgeBinlogsPast(source, from.file);
    await invoke(startReplication, state);
    const err = await errorOfCheck();
    expect(err.name).toBe('BinlogPurgedError');
    expect(err.message).toContain(from.file);
    expect(err.message).toMatch(/binlogRetentionHours/);
  });

  it('catch-up that cannot finish within the budget: rolled back, source writable, replication running, nothing lost', async () => {
    await freshReplication();
    await sql(target, 'STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=3; START SLAVE');
    await new Promise((r) => setTimeout(r, 500));
    const ackedBefore = load.acked.length;
    const err = await invoke(cutOver, state).then(() => null, (e: Error) => e);
    expect(err?.name).toBe('CutoverRolledBackError');
    expect(err?.message).toMatch(/catchUpTimeoutSeconds/);
    expect(err?.message).toMatch(/source is writable again/);
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(0);
    // The IO thread reconnects asynchronously ('Preparing', 'Connecting' first).
    const st = await until(async () => {
      const s = (await slaveStatus(target))!;
      return s.Slave_IO_Running === 'Yes' && s.Slave_SQL_Running === 'Yes' && s;
    }, 20_000);
    expect(st.Master_Host).toBe('127.0.0.1');
    // The application writes to the source again (its killed sessions reconnect).
    await until(async () => load.acked.length > ackedBefore + 50, 20_000);
    // Nothing lost once the delayed replica catches up.
    await sql(target, 'STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=0; START SLAVE');
    const upTo = Math.max(...load.ackedIds());
    await until(async () => Number(await scalar(target, 'SELECT COUNT(*) FROM app.writes WHERE id <= ?', [upTo])) >= load.ackedIds().filter((i) => i <= upTo).length, 30_000);
  });

  it('refuses to cut over (nothing changed) when lag is above the limit', async () => {
    await sql(target, 'STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=3; START SLAVE');
    await new Promise((r) => setTimeout(r, 500));
    const tight = { ...state, input: { ...state.input, replication: { ...state.input.replication, maxLagSeconds: 0.5 } } };
    const err = await invoke(cutOver, tight).then(() => null, (e: Error) => e);
    expect(err?.name).toBe('CutoverNotReadyError');
    expect(err?.message).toMatch(/maxLagSeconds/);
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(0);
    await sql(target, 'STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=0; START SLAVE');
  });

  it('duplicate key on the target: ReplicationConflictError names the table and the event; cutover refuses', async () => {
    const future = Math.max(...load.ackedIds()) + 150;
    await sql(target, "SET sql_log_bin=0; INSERT INTO app.writes VALUES (?, 'written on the target', NOW(6)); SET sql_log_bin=1", [future]);
    const err = await errorOfCheck();
    expect(err.name).toBe('ReplicationConflictError');
    expect(err.message).toContain('app.writes');
    expect(err.message).toMatch(/Write_rows/);
    expect(err.message).toMatch(/1062/);
    const cut = await invoke(cutOver, state).then(() => null, (e: Error) => e);
    expect(cut?.name).toBe('CutoverNotReadyError');
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(0);
  });

  it('replication user locked out: ReplicationAuthError names the user', async () => {
    await freshReplication();
    await sql(source, "SET sql_log_bin=0; ALTER USER 'crossmove_repl'@'%' IDENTIFIED BY 'not-the-stored-one-42'; SET sql_log_bin=1");
    await sql(target, 'STOP SLAVE; START SLAVE');
    const err = await errorOfCheck();
    expect(err.name).toBe('ReplicationAuthError');
    expect(err.message).toContain("'crossmove_repl'");
    expect(err.message).not.toContain('not-the-stored-one-42');
    // Re-running "Create the replication user" repairs it (the stored password is set again).
    await invoke(createReplicationUser, state);
    await sql(target, 'STOP SLAVE; START SLAVE');
    await until(async () => (await invoke<ReplicationCheck>(checkReplication, state)).healthy, 30_000, 200);
  });

  it('a difference on the target is found before the cutover, by primary key; the cutover then re-checks only what changed', async () => {
    // Same row count, different content: a row-level comparison sees it, while replicating.
    const victim = Math.min(...load.ackedIds());
    await sql(target, "SET sql_log_bin=0; UPDATE app.writes SET payload = 'tampered' WHERE id = ?; SET sql_log_bin=1", [victim]);
    const found = (await runDiffLocally(state)).summary;
    expect(found).toMatchObject({ verdict: 'differences', differences: { tables: 1, different: 1 } });
    expect(found.tables[0]).toMatchObject({ table: 'app.writes', rows: [{ kind: 'different', key: `id=${victim}`, columns: ['payload'] }] });
    await sql(target, "SET sql_log_bin=0; UPDATE app.writes SET payload = CONCAT('w', id) WHERE id = ?; SET sql_log_bin=1", [victim]);
    expect((await runDiffLocally(state)).summary).toMatchObject({ verdict: 'clean' });
  });

  it('replication that may drop changes (exec mode IDEMPOTENT) refuses the cutover before anything changes', async () => {
    await sql(target, 'STOP SLAVE; SET GLOBAL slave_exec_mode = IDEMPOTENT; START SLAVE');
    try {
      const err = await invoke(cutOver, state).then(() => null, (e: Error) => e);
      expect(err).toMatchObject({ name: 'CutoverNotReadyError', message: expect.stringContaining('exec mode is IDEMPOTENT') });
      expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(0);
    } finally {
      await sql(target, 'STOP SLAVE; SET GLOBAL slave_exec_mode = STRICT; START SLAVE');
    }
  });

  it('a rollback that fails is CutoverRollbackFailedError, telling a human to act', async () => {
    await sql(target, 'STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=3; START SLAVE');
    await new Promise((r) => setTimeout(r, 500));
    const err = await cutOverStep(state, {
      blocker: async (_s, conn) => {
        const ro = new ReadOnlyBlocker(conn);
        return {
          method: 'test',
          plan: () => ro.plan(),
          block: () => ro.block(),
          unblock: () => ro.unblock(),
          undo: () => Promise.reject(new Error('network rule could not be restored')),
        };
      },
    }).then(() => null, (e: Error) => e);
    expect(err?.name).toBe('CutoverRollbackFailedError');
    expect(err?.message).toMatch(/network rule could not be restored.*Act now/);
    await sql(target, 'STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=0; START SLAVE');
  });

  it('the next invocation after a failed or crashed attempt undoes its block, then cuts over with nothing lost', async () => {
    // Left by the previous test: the source still read-only, the in-progress marker on the target.
    // Make it look like the Lambda died right after stopping replication.
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(1);
    expect(await scalar(target, "SELECT phase FROM crossmove.cutover_log WHERE migration_id = 'db-test' ORDER BY seq DESC LIMIT 1")).toBe('in-progress');
    await sql(target, 'STOP SLAVE');
    // A young in-progress marker may belong to an invocation still running: the next one waits.
    const busy = await invoke(cutOver, state).then(() => null, (e: Error) => e);
    expect(busy).toMatchObject({ name: 'TransientError', message: expect.stringMatching(/^Another cutover attempt started \d+ s ago and may still be in its critical section/) });
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(1);
    // Long enough ago, it is dead: undone, then the cutover runs.
    await ageMarkers(target, 'db-test');
    const result = await invoke<CutoverResult>(cutOver, state);
    lastResult = result;
    expect(result).toMatchObject({ ok: true, checksumsMatch: true });
    load.repoint({ host: target.host, port: target.port, name: 'target' });
    await until(async () => load.ackedIds('target').length > 20, 20_000).catch((err: Error) => {
      throw new Error(`${err.message}; load: ${load.acked.length} acked, ${load.failures} failures, last error ${load.lastError}`);
    });
    expect(await scalar(target, "SELECT phase FROM crossmove.cutover_log WHERE migration_id = 'db-test' ORDER BY seq DESC LIMIT 1")).toBe('done');
    // Ids acknowledged before the SELECT: the load keeps writing while it runs.
    const acked = load.ackedIds();
    const c = await target.connect();
    const [rows] = await c.query('SELECT id FROM app.writes');
    await c.end();
    const onTarget = new Set((rows as { id: number }[]).map((r) => Number(r.id)));
    expect(acked.filter((id) => !onTarget.has(id))).toEqual([]);
  });

  it('after a crash past the point of no return, the next invocation finishes the switch', async () => {
    await load.stop();
    // The target is made a read-only replica again, from scratch: its record of the finished cutover
    // goes too (with it, "Start replication on the target" refuses a target that took over).
    await sql(target, "SET SESSION sql_log_bin = 0; DELETE FROM crossmove.cutover_log WHERE migration_id = 'db-test'");
    await freshReplication();
    expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(1);
    const c = await target.connect();
    await writeCutoverMarker(c, 'crossmove', 'db-test', { phase: 'past-point-of-no-return', result: lastResult, blockState: null });
    await c.end();
    expect(await invoke<CutoverResult>(cutOver, state)).toEqual(lastResult);
    expect(await slaveStatus(target)).toBeUndefined();
    expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(0);
    expect(await scalar(target, "SELECT phase FROM crossmove.cutover_log WHERE migration_id = 'db-test' ORDER BY seq DESC LIMIT 1")).toBe('done');
  });
});
