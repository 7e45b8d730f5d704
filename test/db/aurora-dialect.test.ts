// The Aurora dialects against real MariaDB servers emulating Aurora (test/support/aurora-emulation.ts),
// every step logged in as the emulated master user: no SUPER, only the Aurora master user's privileges,
// so whatever Aurora does through mysql.rds_* procedures must go through them. Source: Aurora MySQL 3
// (detected by aurora_version(); retention through rds_set_configuration, sessions killed with
// rds_kill, replica status with Replica_*/*_Source_* columns when it replicates back). Target: Aurora
// MySQL 2 (replication configured with rds_set_external_master, reset with rds_reset_external_master).
// Aurora's writer cannot be write-blocked with read_only, so the cutover needs the security-group write
// block: emulated here, from outside the database as AWS would, by locking the application's account
// (new connections fail, like a closed network) while the cutover kills its sessions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MariaDbServer } from '../../local/mariadb.js';
import { handler as keepBinlogs } from '../../handlers/keep-binlogs.js';
import { handler as createReplicationUser } from '../../handlers/create-replication-user.js';
import { handler as startReplication } from '../../handlers/start-replication.js';
import { handler as checkReplication } from '../../handlers/check-replication.js';
import { handler as cutOver } from '../../handlers/cut-over.js';
import { handler as startReverseReplication } from '../../handlers/start-reverse-replication.js';
import { cutOverStep } from '../../shared/mysql/steps/cut-over.js';
import mysql from 'mysql2/promise';
import { detectEngine } from '../../shared/mysql/dialect.js';
import { detectServer } from '../../shared/mysql/detect.js';
import type { WriteBlocker } from '../../shared/mysql/write-block.js';
import type { BinlogSettings, CutoverResult, MigrationState, ReplicationCheck, ReplicationStartResult } from '../../shared/state.js';
import { AURORA_ADMIN, installAuroraEmulation, masterPrivileges, useAuroraAdminSecret } from '../support/aurora-emulation.js';
import { APP_USER, prepareLoadSchema, WriteLoad } from '../support/write-load.js';
import { consistentCopy, invoke, scalar, slaveStatus, startServers, stateFor, until, useLocalSecrets } from './fixtures.js';

let source: MariaDbServer;
let target: MariaDbServer;
let state: MigrationState;
let load: WriteLoad;
/** The test's own superuser session on the source: it plays AWS (the security group), never crossmove. */
let sourceSuper: Awaited<ReturnType<MariaDbServer['connect']>>;

beforeAll(async () => {
  useLocalSecrets();
  [source, target] = await startServers(2, 51);
  const [s, t] = [await source.connect(), await target.connect()];
  await installAuroraEmulation(s, 3);
  await installAuroraEmulation(t, 2);
  await prepareLoadSchema(s);
  await prepareLoadSchema(t, 'app', { user: true, table: false });
  await s.end();
  await t.end();
  sourceSuper = await source.connect();
  const adminSecret = useAuroraAdminSecret();
  state = stateFor(source, target, { migrationId: 'aurora-test', source: { adminSecret }, target: { adminSecret } });
});

const ioAndSqlRunning = async () => {
  const st = await slaveStatus(target);
  return st?.Slave_IO_Running === 'Yes' && st?.Slave_SQL_Running === 'Yes';
};

afterAll(async () => {
  await load?.stop();
  await sourceSuper?.end();
  await Promise.all([source?.stop(), target?.stop()]);
});

describe('Aurora dialects (emulated rds_* procedures)', () => {
  it('logs crossmove in as a master user without SUPER or any read_only/binlog bypass of Aurora MySQL 2', async () => {
    const [[grants]] = (await sourceSuper.query(`SHOW GRANTS FOR ?@'%'`, [AURORA_ADMIN.username])) as unknown as [Record<string, string>[]];
    const line = Object.values(grants!)[0]!;
    expect(line).not.toMatch(/ALL PRIVILEGES|SUPER|BINLOG ADMIN|REPLICATION SLAVE ADMIN|REPLICATION MASTER ADMIN|BINLOG REPLAY/);
    expect(masterPrivileges(2)).not.toContain('READ_ONLY ADMIN');
    const admin = await mysql.createConnection({ host: target.host, port: target.port, user: AURORA_ADMIN.username, password: AURORA_ADMIN.password });
    const refused = await admin.query("CHANGE MASTER TO MASTER_HOST='elsewhere'").then(() => null, (e: { errno: number }) => e.errno);
    await admin.end();
    expect(refused).toBe(1227); // access denied: replication is configured through the procedures only
  });

  it('detects aurora-mysql-3 on the source and aurora-mysql-2 on the target by aurora_version(), as the master user', async () => {
    const [s, t] = [await mysql.createConnection({ host: source.host, port: source.port, user: AURORA_ADMIN.username, password: AURORA_ADMIN.password }), await mysql.createConnection({ host: target.host, port: target.port, user: AURORA_ADMIN.username, password: AURORA_ADMIN.password })];
    expect(await detectServer(s)).toMatchObject({ engine: 'aurora-mysql-3', auroraVersion: '3.06.0' });
    expect(await detectEngine(t)).toBe('aurora-mysql-2');
    await s.end();
    await t.end();
  });

  it('sets binlog retention with rds_set_configuration (previous NULL = not retained)', async () => {
    const binlogs = await invoke<BinlogSettings>(keepBinlogs, state);
    expect(binlogs).toMatchObject({ logBin: true, previousRetentionHours: null, retentionHours: 72, changed: true });
    expect(Number(await scalar(source, "SELECT value FROM mysql.rds_configuration WHERE name = 'binlog retention hours'"))).toBe(72);
    state = { ...state, binlogs };
  });

  it('replicates through rds_set_external_master / rds_start_replication', async () => {
    load = new WriteLoad({ host: source.host, port: source.port, name: 'source' }, { ratePerSec: 200 }).start();
    await until(async () => load.acked.length > 40);
    const position = await consistentCopy(source, target, ['app', 'crossmove']);
    state = { ...state, binlogPosition: { done: true, attempts: 1, status: 'found', position, origin: 'logical-copy' } };
    state = { ...state, replicationUser: await invoke(createReplicationUser, state) };
    const started = await invoke<ReplicationStartResult>(startReplication, state);
    expect(started.targetEngine).toBe('aurora-mysql-2');
    state = { ...state, replication: started };
    expect((await slaveStatus(target))!.Master_Port).toBe(source.port);
    await until(async () => {
      const lag = await invoke<ReplicationCheck>(checkReplication, state);
      state = { ...state, lag };
      return lag.caughtUp;
    }, 30_000, 50);
  });

  it('refuses the cutover without a security group to block writes (Aurora ignores read_only)', async () => {
    const err = await invoke(cutOver, state).then(() => null, (e: Error) => e);
    expect(err?.name).toBe('CutoverNotReadyError');
    expect(err?.message).toContain('cutover.writeBlock.securityGroupId');
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(0);
  });

  it('rolls back when a session the block cannot stop keeps writing (the source binlog moved after the block)', async () => {
    // An admin session: neither the network block nor read_only stops it, and it logs in after the kill.
    // It writes right after the final position was read (the test seam), so it can never lose a race.
    const slipped = 5_000_000;
    const unverified = { ...state, input: { ...state.input, cutover: { ...state.input.cutover, verify: 'none' as const } } };
    let hookRan = 0;
    const err = await cutOverStep(unverified, {
      blocker: async () => accountLock(source),
      afterFinalPosition: async () => {
        hookRan++;
        const admin = await source.connect();
        await admin.query("INSERT INTO app.writes VALUES (?, 'slipped past the block', NOW(6))", [slipped]);
        await admin.end();
      },
    }).then(() => null, (e: Error) => e);
    expect(hookRan).toBe(1);
    expect(err?.name).toBe('CutoverRolledBackError');
    expect(err?.message).toMatch(/the source binlog moved from \S+ to \S+ after writes were blocked: a session still writes \(check cutover\.writeBlock\.keepUsers/);
    expect(err?.message).toMatch(/source is writable again and replication is running/);
    // Rolled back: the application can log in and write again (account unlocked), replication runs, nothing is lost.
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(0);
    await until(ioAndSqlRunning, 20_000);
    const before = load.acked.length;
    await until(async () => load.acked.length > before + 20, 20_000);
    const acked = load.ackedIds();
    await until(async () => Number(await scalar(target, 'SELECT COUNT(*) FROM app.writes WHERE id IN (?)', [[...acked, slipped]])) === acked.length + 1, 20_000);
  });

  it('cuts over with an injected network block: sessions killed with rds_kill, nothing lost, replication reset', async () => {
    await until(async () => load.acked.length > 300, 20_000);
    // The emulated "security group": the application cannot log in again, like a closed network.
    const result = await cutOverStep(state, { blocker: async () => accountLock(source) });
    // The kill-only path: read_only was never used.
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(0);
    load.repoint({ host: target.host, port: target.port, name: 'target' });
    await until(async () => load.ackedIds('target').length > 50, 20_000);
    await load.stop();
    expect(result).toMatchObject({ ok: true, checksumsMatch: true });
    expect(Number(await scalar(source, 'SELECT COUNT(*) FROM mysql.rds_kill_log'))).toBeGreaterThan(0);
    expect(await slaveStatus(target)).toBeUndefined();
    const c = await target.connect();
    const [rows] = await c.query('SELECT id FROM app.writes');
    await c.end();
    const onTarget = new Set((rows as { id: number }[]).map((r) => Number(r.id)));
    expect(load.ackedIds().filter((id) => !onTarget.has(id))).toEqual([]);
    state = { ...state, cutover: result as CutoverResult };
  });

  it('starts reverse replication on the aurora-mysql-3 source with rds_set_external_source', async () => {
    const reverse = await invoke(startReverseReplication, state);
    expect(reverse).toMatchObject({ started: true, skipped: false });
    const t = await target.connect();
    await t.query("INSERT INTO app.writes VALUES (999999, 'fallback', NOW(6))");
    await t.end();
    await until(async () => Number(await scalar(source, 'SELECT COUNT(*) FROM app.writes WHERE id = 999999')) === 1, 20_000);
    // The source is an Aurora MySQL 3 replica now: its status has MySQL 8.0's column names, which crossmove read to start it.
    const [[status]] = (await (await source.connect()).query('SHOW REPLICA STATUS')) as unknown as [Record<string, unknown>[]];
    expect(status).toMatchObject({ Replica_IO_Running: 'Yes', Replica_SQL_Running: 'Yes', Source_Port: target.port });
    expect(Object.keys(status!).filter((k) => /Slave|Master/.test(k))).toEqual([]);
  });
});

/** A block without read_only, applied from outside crossmove's session (as AWS applies a security group): the application's account is locked (not replicated), sessions are killed by the cutover. */
function accountLock(server: MariaDbServer): WriteBlocker {
  // A fresh superuser session per call, like an EC2 API call: the cutover kills every session that is
  // not crossmove's own, this test's too.
  const set = async (how: 'LOCK' | 'UNLOCK') => {
    const conn = await server.connect();
    try {
      await conn.query('SET SESSION sql_log_bin = 0');
      await conn.query(`ALTER USER '${APP_USER}'@'%' ACCOUNT ${how}`);
    } finally {
      await conn.end();
    }
  };
  return {
    method: 'test-account-lock',
    plan: async () => null,
    block: async () => void (await set('LOCK')),
    unblock: async () => void (await set('UNLOCK')),
    undo: async () => void (await set('UNLOCK')),
  };
}
