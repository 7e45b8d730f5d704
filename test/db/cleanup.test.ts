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
import { writeMarker } from '../../shared/initial-load/marker.js';
import { writeFallbackMarker } from '../../shared/mysql/switch-log.js';
import { cutOverAndReverse, invoke, prepareApp, replicateUnderLoad, scalar, slaveStatus, sql, startServers, stateFor, until, useLocalSecrets } from './fixtures.js';

let source: MariaDbServer;
let target: MariaDbServer;
let state: MigrationState;
let load: WriteLoad;
let report: CleanupReport;

const users = async (server: MariaDbServer) =>
  Number(await scalar(server, "SELECT COUNT(*) FROM mysql.user WHERE User IN ('crossmove_repl', 'crossmove_repl_r')"));
const schemaExists = async (server: MariaDbServer) => Number(await scalar(server, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'crossmove'"));
const markerSchemaExists = async (server: MariaDbServer) => Number(await scalar(server, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'crossmove_load'"));

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

    // The logical copy's bookkeeping on the target, as the copy leaves it (this test copies with mariadb-dump).
    const t = await target.connect();
    await t.query('SET SESSION sql_log_bin = 0'); // as the copy writes it
    await writeMarker(t, state.input.migrationId, { schemas: ['app'], status: 'done', result: null });
    await t.end();
    expect(await markerSchemaExists(target)).toBe(1);

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
    expect(outcome('copy-bookkeeping', 'on the target')).toEqual(['removed']);
    expect(outcome('copy-bookkeeping', 'on the source')).toEqual(['gone']);
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
    expect(await markerSchemaExists(target)).toBe(0);
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

  it("keeps crossmove_load while another migration into the same server still uses it, removing only this migration's marker", async () => {
    const t = await target.connect();
    await writeMarker(t, state.input.migrationId, { schemas: ['app'], status: 'done', result: null });
    await writeMarker(t, 'other-migration', { schemas: ['shop'], status: 'copying', result: null });
    await t.end();
    const fourth = await invoke<CleanupReport>(cleanupDb, state);
    const bookkeeping = fourth.items.find((i) => i.kind === 'copy-bookkeeping' && i.id.includes('target'))!;
    expect(bookkeeping).toMatchObject({ outcome: 'removed' });
    expect(bookkeeping.detail).toMatch(/kept: migration\(s\) other-migration still use it/);
    expect(await scalar(target, 'SELECT GROUP_CONCAT(migration_id) FROM crossmove_load.copies')).toBe('other-migration');
  });

  it('refuses while a fallback is unfinished (nothing changed); after a fallback that rolled back it cleans up', async () => {
    const s = await source.connect();
    await writeFallbackMarker(s, 'crossmove', state.input.migrationId, { phase: 'past-point-of-no-return', result: null, blockState: null });
    await s.end();
    const t = await target.connect();
    await writeMarker(t, state.input.migrationId, { schemas: ['app'], status: 'done', result: null });
    await t.end();
    const err = await invoke(cleanupDb, state).then(() => null, (e: Error) => e);
    expect(err?.name).toBe('CleanupRefusedError');
    expect(err?.message).toMatch(/fallback of db-test has not finished \(phase past-point-of-no-return\)/);
    expect(Number(await scalar(target, "SELECT COUNT(*) FROM crossmove_load.copies WHERE migration_id = 'db-test'"))).toBe(1);

    const s2 = await source.connect();
    await writeFallbackMarker(s2, 'crossmove', state.input.migrationId, { phase: 'rolled-back', result: null, blockState: null });
    await s2.end();
    const after = await invoke<CleanupReport>(cleanupDb, state);
    expect(after.items.find((i) => i.kind === 'heartbeat-objects' && i.id.includes('source'))).toMatchObject({ outcome: 'removed' });
    expect(Number(await scalar(target, "SELECT COUNT(*) FROM crossmove_load.copies WHERE migration_id = 'db-test'"))).toBe(0);
  });
});
