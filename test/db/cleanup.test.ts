// The database half of the cleanup on real MariaDB servers after a real cutover and reverse
// replication: refused while forward replication runs (nothing changed); then everything crossmove
// made is gone (reverse replication, both replication users on both sides, their secrets, the
// crossmove tables and schema on both sides) and binlog retention is back to what it was; a second
// run reports everything as already gone.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MariaDbServer } from '../../local/mariadb.js';
import { handler as cleanupDb } from '../../handlers/cleanup-db.js';
import type { CleanupReport, MigrationState } from '../../shared/state.js';
import type { WriteLoad } from '../support/write-load.js';
import { cutOverAndReverse, invoke, prepareApp, replicateUnderLoad, scalar, slaveStatus, sql, startServers, stateFor, until, useLocalSecrets } from './fixtures.js';

let source: MariaDbServer;
let target: MariaDbServer;
let state: MigrationState;
let load: WriteLoad;
let report: CleanupReport;

const users = async (server: MariaDbServer) =>
  Number(await scalar(server, "SELECT COUNT(*) FROM mysql.user WHERE User IN ('crossmove_repl', 'crossmove_repl_r')"));
const schemaExists = async (server: MariaDbServer) => Number(await scalar(server, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'crossmove'"));

beforeAll(async () => {
  useLocalSecrets();
  [source, target] = await startServers(2, 81);
  state = stateFor(source, target);
  // Retention shorter than binlogRetentionHours: "Keep binlogs long enough" raises it, cleanup puts it back.
  await sql(source, 'SET GLOBAL binlog_expire_logs_seconds = 7200');
  await prepareApp(source, target);
  ({ state, load } = await replicateUnderLoad(state, source, target, { ratePerSec: 100, ackedBefore: 20 }));
}, 120_000);

afterAll(async () => {
  await load?.stop();
  await Promise.all([source?.stop(), target?.stop()]);
});

describe('cleanup, database half', () => {
  it('refuses while forward replication runs, and changes nothing', async () => {
    const err = await invoke(cleanupDb, state).then(() => null, (e: Error) => e);
    expect(err?.name).toBe('CleanupRefusedError');
    expect(err?.message).toMatch(/has not cut over/);
    expect(await users(source)).toBeGreaterThan(0);
    expect((await slaveStatus(target))!.Slave_SQL_Running).toBe('Yes');
    expect(existsSync(state.replicationUser!.secretRef.slice(5))).toBe(true);
  });

  it('after a real cutover and reverse replication: removes everything crossmove made and reports it', async () => {
    state = await cutOverAndReverse(state, load, target, 30);
    expect(state.binlogs).toMatchObject({ changed: true, previousRetentionHours: 2, retentionHours: 72 });
    const reverseSecret = state.replicationUser!.secretRef.replace(/\.json$/, '-reverse.json').slice(5);
    expect(existsSync(reverseSecret)).toBe(true);
    expect(await users(target)).toBe(2); // the forward user replicated to the target, the reverse one made there

    report = await invoke<CleanupReport>(cleanupDb, state);

    const outcome = (kind: string, idPart = '') => report.items.filter((i) => i.kind === kind && i.id.includes(idPart)).map((i) => i.outcome);
    expect(outcome('reverse-replication')).toEqual(['removed']);
    expect(outcome('replication-user', 'on the source')).toEqual(['removed']);
    expect(outcome('replication-user', 'on the target')).toEqual(['removed']);
    expect(outcome('reverse-replication-user', 'on the target')).toEqual(['removed']);
    expect(outcome('reverse-replication-user', 'on the source')).toEqual(['removed']);
    expect(outcome('replication-secret')).toEqual(['removed']);
    expect(outcome('reverse-replication-secret')).toEqual(['removed']);
    expect(outcome('heartbeat-objects')).toEqual(['removed', 'removed']);
    expect(outcome('binlog-retention')).toEqual(['removed']);
    expect(report.complete).toBe(true);

    // And really gone.
    expect(await slaveStatus(source)).toBeUndefined();
    expect(await users(source)).toBe(0);
    expect(await users(target)).toBe(0);
    expect(existsSync(state.replicationUser!.secretRef.slice(5))).toBe(false);
    expect(existsSync(reverseSecret)).toBe(false);
    expect(await schemaExists(source)).toBe(0);
    expect(await schemaExists(target)).toBe(0);
    expect(Number(await scalar(source, 'SELECT @@global.binlog_expire_logs_seconds'))).toBe(7200);
    // The application's data and the application on the target are untouched.
    const before = load.ackedIds('target').length;
    await until(async () => load.ackedIds('target').length > before + 20, 20_000);
    expect(Number(await scalar(target, 'SELECT COUNT(*) FROM app.writes'))).toBeGreaterThan(0);
  });

  it('a second run reports everything as already gone and changes nothing', async () => {
    const again = await invoke<CleanupReport>(cleanupDb, state);
    expect(again.items.map((i) => [i.kind, i.outcome])).toEqual(report.items.map((i) => [i.kind, 'gone']));
    expect(again.complete).toBe(true);
  });

  it('leaves crossmove schema alone when it holds other tables, and a retention changed since by someone else', async () => {
    await load.stop();
    const t = await target.connect();
    await t.query('CREATE DATABASE crossmove');
    await t.query('CREATE TABLE crossmove.heartbeat (id INT PRIMARY KEY)');
    await t.query('CREATE TABLE crossmove.notes (id INT PRIMARY KEY)');
    await t.end();
    const s = await source.connect();
    await s.query('SET GLOBAL binlog_expire_logs_seconds = 3600');
    await s.end();
    const third = await invoke<CleanupReport>(cleanupDb, { ...state, binlogs: { ...state.binlogs!, retentionHours: 72 } });
    const objects = third.items.find((i) => i.kind === 'heartbeat-objects' && i.id.includes('target'))!;
    expect(objects).toMatchObject({ outcome: 'removed' });
    expect(objects.detail).toMatch(/schema crossmove kept: it holds 1 other table/);
    expect(Number(await scalar(target, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'crossmove'"))).toBe(1);
    expect(third.items.find((i) => i.kind === 'binlog-retention')).toMatchObject({ outcome: 'kept' });
    expect(Number(await scalar(source, 'SELECT @@global.binlog_expire_logs_seconds'))).toBe(3600);
  });
});
