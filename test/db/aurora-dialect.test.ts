// The Aurora dialects against real MariaDB servers emulating Aurora (test/support/aurora-emulation.ts),
// every step logged in as the emulated master user: no SUPER, only the Aurora master user's privileges,
// so whatever Aurora does through mysql.rds_* procedures must go through them. Source: Aurora MySQL 2
// (detected by aurora_version(); retention through rds_set_configuration, sessions killed with rds_kill
// since its master user may not KILL others, reverse replication with rds_set_external_master).
// Target: Aurora MySQL 3.06 (replication configured with rds_set_external_source, read-only through
// rds_set_read_only while it replicates and writable again at the cutover, replica status with the
// Replica_*/*_Source_* columns).
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
import { runDiffLocally } from '../../shared/verify/steps.js';
import { APP_PASSWORD, APP_USER, prepareLoadSchema, WriteLoad } from '../support/write-load.js';
import { consistentCopy, invoke, scalar, slaveStatus, startServers, stateFor, until, useLocalSecrets } from './fixtures.js';

let source: MariaDbServer;
let target: MariaDbServer;
let state: MigrationState;
let load: WriteLoad;

beforeAll(async () => {
  useLocalSecrets();
  [source, target] = await startServers(2, 51);
  const [s, t] = [await source.connect(), await target.connect()];
  await installAuroraEmulation(s, 2);
  await installAuroraEmulation(t, 3);
  await prepareLoadSchema(s);
  await prepareLoadSchema(t, 'app', { user: true, table: false });
  await s.end();
  await t.end();
  const adminSecret = useAuroraAdminSecret();
  state = stateFor(source, target, { migrationId: 'aurora-test', source: { adminSecret }, target: { adminSecret } });
});

const ioAndSqlRunning = async () => {
  const st = await slaveStatus(target); // an Aurora MySQL 3 answers with the new column names
  return st?.Replica_IO_Running === 'Yes' && st?.Replica_SQL_Running === 'Yes';
};

afterAll(async () => {
  await load?.stop();
  await Promise.all([source?.stop(), target?.stop()]);
});

describe('Aurora dialects (emulated rds_* procedures)', () => {
  it('logs crossmove in as a master user: no SUPER, no binlog or replication admin; read_only binds it on Aurora MySQL 2 only', async () => {
    for (const [server, version] of [[source, 2], [target, 3]] as const) {
      const c = await server.connect();
      const [[grants]] = (await c.query(`SHOW GRANTS FOR ?@'%'`, [AURORA_ADMIN.username])) as unknown as [Record<string, string>[]];
      await c.end();
      const line = Object.values(grants!)[0]!;
      expect(line).not.toMatch(/ALL PRIVILEGES|SUPER|BINLOG ADMIN|REPLICATION SLAVE ADMIN|REPLICATION MASTER ADMIN|BINLOG REPLAY/);
      // MySQL 8.0's CONNECTION_ADMIN (Aurora 3) lets its holder write under read_only; Aurora 2's master has nothing like it.
      expect(line.includes('READ_ONLY ADMIN')).toBe(version === 3);
      const admin = await mysql.createConnection({ host: server.host, port: server.port, user: AURORA_ADMIN.username, password: AURORA_ADMIN.password });
      const refused = await admin.query("CHANGE MASTER TO MASTER_HOST='elsewhere'").then(() => null, (e: { errno: number }) => e.errno);
      const setGlobal = await admin.query('SET GLOBAL read_only = ON').then(() => null, (e: { errno: number }) => e.errno);
      await admin.end();
      expect([refused, setGlobal]).toEqual([1227, 1227]); // access denied: only the procedures may
    }
    expect(masterPrivileges(2)).not.toContain('CONNECTION ADMIN');
  });

  it('detects aurora-mysql-2 on the source and aurora-mysql-3 on the target by aurora_version(), as the master user', async () => {
    const [s, t] = [await mysql.createConnection({ host: source.host, port: source.port, user: AURORA_ADMIN.username, password: AURORA_ADMIN.password }), await mysql.createConnection({ host: target.host, port: target.port, user: AURORA_ADMIN.username, password: AURORA_ADMIN.password })];
    expect(await detectServer(s)).toMatchObject({ engine: 'aurora-mysql-2', auroraVersion: '2.12.4' });
    expect(await detectServer(t)).toMatchObject({ engine: 'aurora-mysql-3', auroraVersion: '3.06.0' });
    expect(await detectEngine(t)).toBe('aurora-mysql-3');
    await s.end();
    await t.end();
  });

  it('sets binlog retention with rds_set_configuration (previous NULL = not retained)', async () => {
    const binlogs = await invoke<BinlogSettings>(keepBinlogs, state);
    expect(binlogs).toMatchObject({ logBin: true, previousRetentionHours: null, retentionHours: 72, changed: true });
    expect(Number(await scalar(source, "SELECT value FROM mysql.rds_configuration WHERE name = 'binlog retention hours'"))).toBe(72);
    state = { ...state, binlogs };
  });

  it('replicates through rds_set_external_source / rds_start_replication, the target read-only meanwhile (rds_set_read_only)', async () => {
    load = new WriteLoad({ host: source.host, port: source.port, name: 'source' }, { ratePerSec: 200 }).start();
    await until(async () => load.acked.length > 40);
    const position = await consistentCopy(source, target, ['app', 'crossmove']);
    state = { ...state, binlogPosition: { done: true, attempts: 1, status: 'found', position, origin: 'logical-copy' } };
    state = { ...state, replicationUser: await invoke(createReplicationUser, state) };
    const started = await invoke<ReplicationStartResult>(startReplication, state);
    expect(started.targetEngine).toBe('aurora-mysql-3');
    state = { ...state, replication: started };
    expect((await slaveStatus(target))!.Source_Port).toBe(source.port);
    // Applications are kept off the target while it replicates.
    expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(1);
    const app = await mysql.createConnection({ host: target.host, port: target.port, user: APP_USER, password: APP_PASSWORD, database: 'app' });
    const refused = await app.query("INSERT INTO writes VALUES (4000000, 'on the replica', NOW(6))").then(() => null, (e: { errno: number }) => e.errno);
    await app.end();
    expect(refused).toBe(1290); // ER_OPTION_PREVENTS_STATEMENT: --read-only
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
    // Compared first, under the write load. The target is Aurora MySQL 3.06: its applier stops at the
    // source's position with mysql.rds_start_replication_until, so every read is exact.
    const { summary, workers } = await runDiffLocally(state);
    expect(summary).toMatchObject({ verdict: 'clean', mode: 'exact' });
    expect(workers.reduce((n, w) => n + w.exactSyncPoints, 0)).toBeGreaterThan(0);
    const result = await cutOverStep(state, { blocker: async () => accountLock(source) });
    // The kill-only path: read_only was never used.
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(0);
    // The cutover made the target writable (rds_set_read_only(0)): the application writes there now.
    expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(0);
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

  it('starts reverse replication on the aurora-mysql-2 source with rds_set_external_master, as a mysql_native_password user', async () => {
    const reverse = await invoke(startReverseReplication, state);
    expect(reverse).toMatchObject({ started: true, skipped: false });
    const t = await target.connect();
    await t.query("INSERT INTO app.writes VALUES (999999, 'fallback', NOW(6))");
    await t.end();
    await until(async () => Number(await scalar(source, 'SELECT COUNT(*) FROM app.writes WHERE id = 999999')) === 1, 20_000);
    // The source is an Aurora MySQL 2 replica now: MySQL 5.7's column names, and no 8.0 statement.
    const status = await slaveStatus(source);
    expect(status).toMatchObject({ Slave_IO_Running: 'Yes', Slave_SQL_Running: 'Yes', Master_Port: target.port });
    expect(Object.keys(status!).filter((k) => /^Replica_|^Source_|_Source_/.test(k))).toEqual([]);
    const s = await source.connect();
    const syntax = await s.query('SHOW REPLICA STATUS').then(() => null, (e: { errno: number }) => e.errno);
    await s.end();
    expect(syntax).toBe(1064);
    // The replication user the old source logs in with on the target (created by the Aurora 3 master user).
    expect(await scalar(target, "SELECT plugin FROM mysql.user WHERE User = 'crossmove_repl_r'")).toBe('mysql_native_password');
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
    // Like a security group, the block leaves read_only alone: the two-primaries guard asks it directly.
    inPlace: async () => {
      const conn = await server.connect();
      try {
        const [[row]] = (await conn.query(`SHOW CREATE USER '${APP_USER}'@'%'`)) as any;
        return /ACCOUNT LOCK/i.test(String(Object.values(row)[0]));
      } finally {
        await conn.end();
      }
    },
  };
}
