// Encrypted replication into Aurora (replication.ssl, the default), as the AWS documentation describes
// it, against an emulated Aurora target run by its master user: Aurora MySQL 2 with ssl_encryption=1,
// Aurora MySQL 3.06+ with mysql.rds_set_binlog_source_ssl(1) (no client material), an older 3.x only
// with material imported by mysql.rds_import_binlog_ssl_material, and refused before anything is
// configured otherwise. The source serves TLS with a certificate from a test CA, and the replication
// user is created REQUIRE SSL: whenever replication runs, it runs encrypted.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMariaDb, type MariaDbServer } from '../../local/mariadb.js';
import { handler as createReplicationUser } from '../../handlers/create-replication-user.js';
import { handler as startReplication } from '../../handlers/start-replication.js';
import { dialectFor } from '../../shared/mysql/dialect.js';
import { inspectDatabases } from '../../shared/preflight/db-checks.js';
import type { MigrationState, ReplicationStartResult } from '../../shared/state.js';
import { installAuroraEmulation, AURORA_ADMIN, useAuroraAdminSecret, type AuroraVersion } from '../support/aurora-emulation.js';
import { makeTestCa, mariaDbTlsConfig, type TestCa } from '../support/test-ca.js';
import { invoke, scalar, slaveStatus, sql, stateFor, until, useLocalSecrets } from './fixtures.js';

let source: MariaDbServer;
let target: MariaDbServer;
let adminSecret: string;
let ca: TestCa;

beforeAll(async () => {
  useLocalSecrets();
  ca = makeTestCa();
  [source, target] = await Promise.all([startMariaDb({ serverId: 71, config: mariaDbTlsConfig(ca.issue('localhost')) }), startMariaDb({ serverId: 72 })]);
  adminSecret = useAuroraAdminSecret();
  await sql(source, 'CREATE DATABASE app');
  await sql(source, 'CREATE TABLE app.t (id INT PRIMARY KEY)');
  await sql(target, 'SET SESSION sql_log_bin = 0; CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY)');
});

afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
  ca?.remove();
});

/** The target emulates `auroraVersion` afresh, with no replication configured. */
async function targetIs(version: AuroraVersion, auroraVersion: string): Promise<void> {
  const c = await target.connect();
  await c.query('STOP SLAVE').catch(() => undefined);
  await c.query('RESET SLAVE ALL');
  await c.query('SET GLOBAL read_only = OFF');
  await c.query('SET SESSION sql_log_bin = 0');
  await c.query('DELETE FROM mysql.rds_binlog_ssl_material').catch(() => undefined);
  await installAuroraEmulation(c, version, { auroraVersion });
  await c.end();
}

async function replicationReady(overrides: Record<string, unknown> = {}): Promise<MigrationState> {
  let state = stateFor(source, target, { migrationId: 'aurora-ssl', target: { adminSecret }, replication: { ssl: true, ...overrides } });
  state = { ...state, replicationUser: await invoke(createReplicationUser, state) };
  const c = await source.connect();
  const [[pos]] = (await c.query('SHOW MASTER STATUS')) as unknown as [{ File: string; Position: number }[]];
  await c.end();
  return { ...state, binlogPosition: { done: true, attempts: 1, status: 'found', position: { file: pos!.File, position: Number(pos!.Position) }, origin: 'logical-copy' } };
}

let nextId = 1;
async function replicatesARow(): Promise<void> {
  const id = nextId++;
  await sql(source, 'INSERT INTO app.t VALUES (?)', [id]);
  await until(async () => Number(await scalar(target, 'SELECT COUNT(*) FROM app.t WHERE id = ?', [id])) === 1, 20_000);
}

describe('encrypted replication into emulated Aurora (master user, REQUIRE SSL replication user)', () => {
  beforeEach(() => {
    process.env.CROSSMOVE_DB_TLS = 'off'; // crossmove's own sessions; the replication link is what is tested
  });

  it('Aurora MySQL 3.06: rds_set_external_source(..., 0) then rds_set_binlog_source_ssl(1), no material needed', async () => {
    await targetIs(3, '3.06.0');
    const state = await replicationReady();
    expect(await scalar(source, "SELECT ssl_type FROM mysql.user WHERE User = 'crossmove_repl'")).toBe('ANY');
    const started = await invoke<ReplicationStartResult>(startReplication, state);
    expect(started.targetEngine).toBe('aurora-mysql-3');
    await replicatesARow();
    expect(await slaveStatus(target)).toMatchObject({ Source_SSL_Allowed: 'Yes', Source_SSL_Verify_Server_Cert: 'No', Replica_IO_Running: 'Yes' });
    expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(1); // rds_set_read_only(1), 3.06+
  });

  it('Aurora MySQL 2: ssl_encryption=1 of rds_set_external_master encrypts without imported material', async () => {
    await targetIs(2, '2.11.2');
    const started = await invoke<ReplicationStartResult>(startReplication, await replicationReady());
    expect(started.targetEngine).toBe('aurora-mysql-2');
    await replicatesARow();
    expect(await slaveStatus(target)).toMatchObject({ Master_SSL_Allowed: 'Yes', Slave_IO_Running: 'Yes' });
  });

  it('Aurora MySQL 3.04 without material: the preflight fails and "Start replication" refuses before configuring anything', async () => {
    await targetIs(3, '3.04.1');
    const state = await replicationReady();
    const checks = await inspectDatabases(state);
    expect(checks.find((c) => c.id === 'replication-ssl')).toMatchObject({ status: 'fail', message: expect.stringContaining('Aurora MySQL 3.04.1'), fix: expect.stringContaining('3.06 or newer') });
    const err = await invoke(startReplication, state).then(() => null, (e: Error) => e);
    expect(err?.name).toBe('ReplicationSslUnsupportedError');
    expect(err?.message).toMatch(/rds_set_binlog_source_ssl.*replication\.sslMaterialImported/);
    expect(await slaveStatus(target)).toBeUndefined();
  });

  it('Aurora MySQL 3.04 with the material imported (rds_import_binlog_ssl_material, sslMaterialImported): ssl_encryption=1', async () => {
    await targetIs(3, '3.04.1');
    const mysql = (await import('mysql2/promise')).default;
    const master = await mysql.createConnection({ host: target.host, port: target.port, user: AURORA_ADMIN.username, password: AURORA_ADMIN.password });
    await master.query('CALL mysql.rds_import_binlog_ssl_material(?)', [JSON.stringify({ ssl_ca: 'ca', ssl_cert: 'cert', ssl_key: 'key' })]);
    await master.end();
    const state = await replicationReady({ sslMaterialImported: true });
    expect(await invoke<ReplicationStartResult>(startReplication, state)).toMatchObject({ targetEngine: 'aurora-mysql-3' });
    await replicatesARow();
    expect(await slaveStatus(target)).toMatchObject({ Source_SSL_Allowed: 'Yes' });
    // No rds_set_read_only before 3.06: the target stays writable (nothing else Aurora offers).
    expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(0);
  });

  it('the emulation refuses what Aurora refuses: ssl_encryption=1 on 3.x without material, and autocommit off', async () => {
    await targetIs(3, '3.06.0');
    const mysql = (await import('mysql2/promise')).default;
    const master = await mysql.createConnection({ host: target.host, port: target.port, user: AURORA_ADMIN.username, password: AURORA_ADMIN.password });
    const call = (ssl: number) => master.query("CALL mysql.rds_set_external_source('localhost', 3306, 'u', 'p', 'mysql-bin.000001', 4, ?)", [ssl]).then(() => null, (e: Error) => e.message);
    expect(await call(1)).toMatch(/rds_import_binlog_ssl_material/);
    await master.query('SET autocommit = 0');
    expect(await call(0)).toMatch(/autocommit must be enabled/);
    // crossmove's dialect turns autocommit on itself (a cluster parameter group may default it off).
    await dialectFor('aurora-mysql-3').configureSource(master, { host: 'localhost', port: source.port, user: 'u', password: 'p', file: 'mysql-bin.000001', position: 4, ssl: false });
    await dialectFor('aurora-mysql-3').reset(master);
    await master.end();
  });
});

describe('the emulation has each procedure on the versions the Aurora User Guide gives it', () => {
  const routines = async () => {
    const c = await target.connect();
    const [rows] = (await c.query("SELECT ROUTINE_NAME AS n FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'mysql' AND ROUTINE_TYPE = 'PROCEDURE'")) as unknown as [{ n: string }[]];
    await c.end();
    return rows.map((r) => r.n);
  };
  const versioned = ['rds_set_read_only', 'rds_set_binlog_source_ssl', 'rds_start_replication_until', 'rds_disable_session_binlog', 'rds_set_external_source'];

  it.each([
    [2, '2.11.2', []],
    [2, '2.12.4', ['rds_disable_session_binlog']],
    [3, '3.04.1', ['rds_start_replication_until', 'rds_set_external_source']],
    [3, '3.06.0', ['rds_set_read_only', 'rds_set_binlog_source_ssl', 'rds_start_replication_until', 'rds_set_external_source']],
  ] as const)('Aurora MySQL %s (%s)', async (version, auroraVersion, present) => {
    await targetIs(version, auroraVersion);
    const have = await routines();
    expect(versioned.filter((p) => have.includes(p)).sort()).toEqual([...present].sort());
  });

  it('rds_disable_session_binlog (2.12+) takes the master user\'s session out of the binlog, which it may not do itself', async () => {
    await targetIs(2, '2.12.4');
    const mysql = (await import('mysql2/promise')).default;
    const master = await mysql.createConnection({ host: target.host, port: target.port, user: AURORA_ADMIN.username, password: AURORA_ADMIN.password });
    const refused = await master.query('SET SESSION sql_log_bin = 0').then(() => null, (e: { errno: number }) => e.errno);
    await master.query('CALL mysql.rds_disable_session_binlog');
    const [[row]] = (await master.query('SELECT @@session.sql_log_bin AS v')) as unknown as [{ v: number }[]];
    await master.end();
    expect([refused, Number(row!.v)]).toEqual([1227, 0]);
  });

  it('rds_start_replication_until (3.04+) starts replication that stops at the given source position', async () => {
    await targetIs(3, '3.04.1');
    const mysql = (await import('mysql2/promise')).default;
    const master = await mysql.createConnection({ host: target.host, port: target.port, user: AURORA_ADMIN.username, password: AURORA_ADMIN.password });
    const aurora3 = dialectFor('aurora-mysql-3');
    await aurora3.configureSource(master, { host: 'localhost', port: source.port, user: 'nobody', password: 'p', file: 'mysql-bin.000001', position: 4, ssl: false });
    await master.query('CALL mysql.rds_start_replication_until(?, ?)', ['mysql-bin.000001', 120]);
    expect(await slaveStatus(target)).toMatchObject({ Until_Condition: 'Master', Until_Log_File: 'mysql-bin.000001', Until_Log_Pos: 120 });
    await aurora3.stop(master);
    await aurora3.reset(master);
    await master.end();
  });
});
