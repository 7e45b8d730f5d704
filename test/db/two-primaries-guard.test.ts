// The two-writable-primaries guard on real MariaDB servers: before any step makes a server writable, the
// other side is checked, and the step is refused (naming both servers) when that side takes writes too.
// Each case is a real way to get there: an operator who reopened the source by hand after a cutover
// died past its point of no return; a target promoted by hand while a crashed cutover waits to be
// undone; a fallback whose target write block does not hold. And a re-run: the record says the target is
// the primary, and "Start replication on the target" refuses to replicate into it.
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { MariaDbServer } from '../../local/mariadb.js';
import { handler as cutOver } from '../../handlers/cut-over.js';
import { handler as startReverseReplication } from '../../handlers/start-reverse-replication.js';
import { handler as startReplication } from '../../handlers/start-replication.js';
import { handler as readCutoverRecord } from '../../handlers/read-cutover-record.js';
import { writeCutoverMarker } from '../../shared/mysql/switch-log.js';
import { binlogStatus } from '../../shared/mysql/dialect.js';
import { fallBackStep } from '../../shared/mysql/steps/fall-back.js';
import type { WriteBlocker } from '../../shared/mysql/write-block.js';
import type { CutoverResult, FallbackResult, MigrationState, PriorCutover } from '../../shared/state.js';
import { APP_PASSWORD, APP_USER, type WriteLoad } from '../support/write-load.js';
import { ageMarkers, invoke, prepareApp, replicateUnderLoad, scalar, slaveStatus, sql, startServers, stateFor, until, useLocalSecrets } from './fixtures.js';

let source: MariaDbServer;
let target: MariaDbServer;
let state: MigrationState;
let load: WriteLoad;
let nextId = 5_000_000;

const readOnly = async (server: MariaDbServer) => Number(await scalar(server, 'SELECT @@global.read_only'));
const addr = (server: MariaDbServer) => `${server.host}:${server.port}`;

/** One application write (non-admin user): true when the server acknowledged it. */
async function appWrites(server: MariaDbServer): Promise<boolean> {
  const c = await mysql.createConnection({ host: server.host, port: server.port, user: APP_USER, password: APP_PASSWORD, database: 'app' });
  try {
    await c.query("INSERT INTO writes (id, payload, created) VALUES (?, 'guard test', NOW(6))", [nextId++]);
    return true;
  } catch {
    return false;
  } finally {
    await c.end();
  }
}

async function failureOf(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: Error) => e,
  );
}

beforeAll(async () => {
  useLocalSecrets();
  [source, target] = await startServers(2, 81);
  state = stateFor(source, target, { migrationId: 'guard-test' });
  await prepareApp(source, target);
  ({ state, load } = await replicateUnderLoad(state, source, target, { ratePerSec: 100, ackedBefore: 20 }));
  await load.stop();
  // Replicating, nothing cut over: the record says the source is the primary.
  expect(await invoke<PriorCutover>(readCutoverRecord, state)).toMatchObject({ targetIsPrimary: false, phase: null });
}, 120_000);

afterAll(async () => {
  await load?.stop();
  await Promise.all([source?.stop(), target?.stop()]);
});

it('a cutover finishing past its point of no return refuses to make the target writable while the source was reopened by hand', async () => {
  // The cutover Lambda died right after recording its point of no return; seeing the application
  // down, an operator made the source writable again.
  const s = await source.connect();
  const t = await target.connect();
  const finalSourcePosition = (await binlogStatus(s))!;
  await until(async () => (await slaveStatus(target))?.Exec_Master_Log_Pos === finalSourcePosition.position, 20_000);
  const recorded: CutoverResult = {
    ok: true, rolledBack: false, writeBlockedMs: 12, finalSourcePosition, targetPositionAtSwitch: (await binlogStatus(t))!,
    tablesVerified: 1, checksumsMatch: null, grantDifferences: [], steps: [],
  };
  await writeCutoverMarker(t, 'crossmove', 'guard-test', { phase: 'past-point-of-no-return', result: recorded, blockState: null });
  await Promise.all([s.end(), t.end()]);
  expect(await readOnly(source)).toBe(0);

  const refused = await failureOf(invoke(cutOver, state));
  expect(refused.name).toBe('TwoWritablePrimariesError');
  expect(refused.message).toContain(`the target (${addr(target)}) would take writes while the source (${addr(source)}) takes writes too`);
  expect(refused.message).toContain('read_only is OFF');
  // Nothing was made writable: the source stays the only primary.
  expect(await readOnly(target)).toBe(1);
  expect(await appWrites(target)).toBe(false);
  expect(await appWrites(source)).toBe(true);

  // The operator blocks the source again (and, here, takes back the write the target never got,
  // which is what reopening the source costs), then the next attempt finishes the switch.
  await sql(source, 'SET GLOBAL read_only = ON');
  await sql(source, 'SET SESSION sql_log_bin = 0; DELETE FROM app.writes WHERE id = ?', [nextId - 1]);
  const finished = await invoke<CutoverResult>(cutOver, state);
  expect(finished).toMatchObject({ ok: true, finalSourcePosition });
  expect(await readOnly(target)).toBe(0);
  expect(await readOnly(source)).toBe(1);
  expect(await appWrites(target)).toBe(true);
  expect(await appWrites(source)).toBe(false);
  state = { ...state, cutover: finished };
});

it('a re-run reads the record (the target is the primary) and "Start replication on the target" refuses to replicate into it', async () => {
  const rerun = { ...state, cutover: undefined } as MigrationState;
  const record = await invoke<PriorCutover>(readCutoverRecord, rerun);
  expect(record).toMatchObject({ targetIsPrimary: true, phase: 'done', targetEndpoint: { host: target.host, port: target.port } });
  expect(record.cutover).toEqual(state.cutover);

  const refused = await failureOf(invoke(startReplication, rerun));
  expect(refused.name).toBe('TargetIsPrimaryError');
  expect(refused.message).toContain(`Refused to start replication into the target ${addr(target)}: migration guard-test already cut over`);
  // Nothing changed: the target stays writable and replicates from nowhere, the source stays blocked.
  expect(await slaveStatus(target)).toBeUndefined();
  expect(await readOnly(target)).toBe(0);
  expect(await readOnly(source)).toBe(1);
});

it('a fallback refuses to make the source writable while its target write block does not hold', async () => {
  state = { ...state, reverse: await invoke(startReverseReplication, state) };
  await until(async () => (await slaveStatus(source))?.Slave_SQL_Running === 'Yes', 20_000);
  // A write block that reports success but leaves the application in (a security group with another rule open).
  const leaky: WriteBlocker = { method: 'security-group', plan: async () => null, block: async () => undefined, unblock: async () => undefined, undo: async () => undefined, inPlace: async () => false };
  const refused = await failureOf(fallBackStep(state, { blocker: async () => leaky }));
  expect(refused.name).toBe('FallbackIncompleteError');
  expect(refused.message).toContain(`TwoWritablePrimariesError: Refused to make the source writable: the source (${addr(source)}) would take writes while the target (${addr(target)}) takes writes too`);
  expect(refused.message).toContain('its security-group write block is not in place');
  expect(await readOnly(source)).toBe(1);
  expect(await appWrites(source)).toBe(false);
  expect(await appWrites(target)).toBe(true);

  // Blocked for real (read_only on the target): the next fallback attempt finishes the switch.
  await sql(target, 'SET GLOBAL read_only = ON');
  const done = await fallBackStep(state, { blocker: async () => leaky });
  expect(done).toMatchObject<Partial<FallbackResult>>({ ok: true });
  expect(await readOnly(source)).toBe(0);
  expect(await appWrites(source)).toBe(true);
  expect(await appWrites(target)).toBe(false);
});

it('undoing a crashed cutover refuses to reopen the source while the target was promoted by hand', async () => {
  // A cutover attempt died before its point of no return (the source still blocked, its marker
  // in-progress), and someone promoted the target by hand meanwhile.
  await sql(source, 'SET GLOBAL read_only = ON');
  const t = await target.connect();
  await writeCutoverMarker(t, 'crossmove', 'guard-test', { phase: 'in-progress', result: null, blockState: null });
  await t.query('SET GLOBAL read_only = OFF');
  await t.end();
  await ageMarkers(target, 'guard-test');
  expect(await slaveStatus(target)).toBeUndefined();

  const refused = await failureOf(invoke(cutOver, state));
  expect(refused.name).toBe('CutoverRollbackFailedError');
  expect(refused.message).toContain('its write block was NOT undone');
  expect(refused.message).toContain(`the source (${addr(source)}) would take writes while the target (${addr(target)}) takes writes too`);
  expect(await readOnly(source)).toBe(1);
  expect(await appWrites(source)).toBe(false);
  expect(await appWrites(target)).toBe(true);
});
