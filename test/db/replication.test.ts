// Replication from a consistent copy's coordinates under a continuous non-admin write load, on two
// real MariaDB servers: binlog retention, the replication user, start (idempotent), the lag loop,
// a source restart mid-replication, and the lag figures against a known MASTER_DELAY.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MariaDbServer } from '../../local/mariadb.js';
import { startMariaDb } from '../../local/mariadb.js';
import { handler as keepBinlogs } from '../../handlers/keep-binlogs.js';
import { handler as createReplicationUser } from '../../handlers/create-replication-user.js';
import { handler as startReplication } from '../../handlers/start-replication.js';
import { handler as checkReplication } from '../../handlers/check-replication.js';
import { checkReplicationStep } from '../../shared/mysql/steps/check-replication.js';
import { detectEngine } from '../../shared/mysql/dialect.js';
import type { BinlogSettings, MigrationState, ReplicationCheck, ReplicationStartResult, ReplicationUserResult } from '../../shared/state.js';
import { prepareLoadSchema, WriteLoad } from '../support/write-load.js';
import { consistentCopy, invoke, scalar, slaveStatus, stateFor, until, useLocalSecrets } from './fixtures.js';

let source: MariaDbServer;
let target: MariaDbServer;
let state: MigrationState;
let load: WriteLoad;

beforeAll(async () => {
  useLocalSecrets();
  [source, target] = await Promise.all([
    startMariaDb({ serverId: 11, config: { binlog_expire_logs_seconds: 3600 } }),
    startMariaDb({ serverId: 12 }),
  ]);
  state = stateFor(source, target);
  const [s, t] = [await source.connect(), await target.connect()];
  await prepareLoadSchema(s);
  await prepareLoadSchema(t, 'app', { user: true, table: false });
  await s.end();
  await t.end();
});

afterAll(async () => {
  await load?.stop();
  await Promise.all([source?.stop(), target?.stop()]);
});

async function check(): Promise<ReplicationCheck> {
  const lag = await invoke<ReplicationCheck>(checkReplication, state);
  state = { ...state, lag };
  return lag;
}

describe('replication from a consistent copy under write load', () => {
  it('keeps binlogs long enough and records the previous retention', async () => {
    const binlogs = await invoke<BinlogSettings>(keepBinlogs, state);
    expect(binlogs).toMatchObject({ logBin: true, format: 'ROW', previousRetentionHours: 1, retentionHours: 72, changed: true });
    expect(Number(await scalar(source, 'SELECT @@global.binlog_expire_logs_seconds'))).toBe(72 * 3600);
    // Idempotent: a second run changes nothing.
    expect(await invoke<BinlogSettings>(keepBinlogs, state)).toMatchObject({ previousRetentionHours: 72, changed: false });
    state = { ...state, binlogs };
  });

  it('detects the engine from VERSION()', async () => {
    const c = await source.connect();
    expect(await detectEngine(c)).toBe('mariadb');
    await c.end();
  });

  it('copies consistently under load, creates the user (secret ref only) and starts replication idempotently', async () => {
    load = new WriteLoad({ host: source.host, port: source.port, name: 'source' }).start();
    await until(async () => load.acked.length > 60);
    // The copy leaves out the crossmove schema: "Start replication" must give the target its heartbeat table.
    const position = await consistentCopy(source, target, ['app']);
    state = { ...state, binlogPosition: { done: true, attempts: 1, status: 'found', position, origin: 'logical-copy' } };

    const user = await invoke<ReplicationUserResult>(createReplicationUser, state);
    expect(user).toMatchObject({ userName: 'crossmove_repl', requireSsl: false });
    expect(user.secretRef).toMatch(/^file:.*crossmove\/db-test\/replication-user\.json$/);
    const stored = JSON.parse(readFileSync(user.secretRef.slice(5), 'utf8')) as { password: string };
    expect(JSON.stringify(user)).not.toContain(stored.password);
    // Re-running keeps the stored password (a running replica is not locked out).
    const again = await invoke<ReplicationUserResult>(createReplicationUser, state);
    expect(JSON.parse(readFileSync(again.secretRef.slice(5), 'utf8')).password).toBe(stored.password);
    const grants = await scalar<string>(source, "SHOW GRANTS FOR 'crossmove_repl'@'%'");
    expect(grants).toMatch(/REPLICATION SLAVE/);
    // mysql_native_password, with only its hash sent (MariaDB would log a plain-text password to its binlog).
    expect(await scalar(source, "SELECT CONCAT(plugin, ' ', authentication_string = PASSWORD(?)) FROM mysql.user WHERE User = 'crossmove_repl'", [stored.password])).toBe('mysql_native_password 1');
    const c = await source.connect();
    const [status] = (await c.query('SHOW MASTER STATUS')) as unknown as [{ File: string }[]];
    const [events] = (await c.query(`SHOW BINLOG EVENTS IN '${status[0]!.File}'`)) as unknown as [{ Info: string }[]];
    await c.end();
    expect(events.some((e) => /crossmove_repl/.test(e.Info))).toBe(true);
    expect(events.filter((e) => e.Info.includes(stored.password))).toEqual([]);
    state = { ...state, replicationUser: user };

    const started = await invoke<ReplicationStartResult>(startReplication, state);
    expect(started).toMatchObject({ sourceHost: '127.0.0.1', sourcePort: source.port, from: position, targetEngine: 'mariadb' });
    state = { ...state, replication: started };
    await until(async () => (await slaveStatus(target))?.Exec_Master_Log_Pos > position.position);
    const before = (await slaveStatus(target))!;
    await invoke(startReplication, state); // already running: not re-pointed to the copy's coordinates
    const after = (await slaveStatus(target))!;
    expect(after.Slave_SQL_Running).toBe('Yes');
    expect(after.Last_SQL_Errno).toBe(0);
    // (file number, position) compared as numbers: '...000010' vs '...000009' and 999 vs 1000 as strings mislead.
    const coord = (st: Record<string, any>) => [Number(String(st.Relay_Master_Log_File).split('.').pop()), Number(st.Exec_Master_Log_Pos)] as const;
    const [[fa, pa], [fb, pb]] = [coord(after), coord(before)];
    expect(fa > fb || (fa === fb && pa >= pb)).toBe(true);
  });

  it('reports lag figures and counts consecutive checks until caught up', async () => {
    const first = await check();
    expect(first).toMatchObject({ ioRunning: true, sqlRunning: true, healthy: true, attempts: 1 });
    expect(first.heartbeatLagMs).not.toBeNull();
    expect(first.heartbeatLagMs!).toBeGreaterThanOrEqual(0);
    expect(first.byteLag).not.toBeNull();
    await until(async () => (await check()).caughtUp, 30_000, 50);
    expect(state.lag!.consecutiveUnderLimit).toBeGreaterThanOrEqual(2);
    expect(state.lag!.attempts).toBeGreaterThan(1);
  });

  it('survives a source restart: reconnecting is not an error, replication resumes', async () => {
    await source.restart();
    // The IO thread notices and reconnects (MASTER_CONNECT_RETRY=1); the load reconnects too.
    const healthy = await until(async () => {
      try {
        return (await check()).healthy ? state.lag : null;
      } catch (err) {
        expect((err as Error).name).toBe('TransientError');
        return null;
      }
    }, 60_000, 200);
    expect(healthy!.healthy).toBe(true);
    const acked = load.acked.length;
    await until(async () => load.acked.length > acked + 20, 20_000);
  });

  it('loses no acknowledged write: every acked id is on the target', async () => {
    await until(async () => load.acked.length > 400, 30_000);
    await load.stop();
    const srcCount = Number(await scalar(source, 'SELECT COUNT(*) FROM app.writes'));
    await until(async () => Number(await scalar(target, 'SELECT COUNT(*) FROM app.writes')) === srcCount, 30_000);
    const c = await target.connect();
    const [rows] = await c.query('SELECT id FROM app.writes');
    await c.end();
    const onTarget = new Set((rows as { id: number }[]).map((r) => Number(r.id)));
    const lost = load.ackedIds().filter((id) => !onTarget.has(id));
    expect(load.acked.length).toBeGreaterThan(400);
    expect(lost).toEqual([]);
    const [sc, tc] = [await source.connect(), await target.connect()];
    const [[s]] = (await sc.query('CHECKSUM TABLE app.writes')) as any;
    const [[t]] = (await tc.query('CHECKSUM TABLE app.writes')) as any;
    await sc.end();
    await tc.end();
    expect(s.Checksum).not.toBeNull();
    expect(t.Checksum).toBe(s.Checksum);
  });

  it('measures a known lag (MASTER_DELAY=2): the heartbeat sees it, Seconds_Behind_Master is kept for reference', async () => {
    const undelayed = await checkReplicationStep(state, { activeWaitMs: 6000 });
    const t = await target.connect();
    await t.query('STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=2; START SLAVE');
    await t.end();
    // The delayed SQL thread settles: the heartbeat lag reaches the delay (bounded poll, no fixed sleep).
    // Against a 1 s limit, which a 2 s delay exceeds.
    const limited = { ...state, input: { ...state.input, replication: { ...state.input.replication, maxLagSeconds: 1 } } };
    const lag = await until(async () => {
      const l = await checkReplicationStep(limited, { activeWaitMs: 6000 });
      return l.heartbeatLagMs !== null && l.heartbeatLagMs >= 1900 && l;
    }, 30_000, 200);
    expect(lag.healthy).toBe(true);
    // Against the known delay, not the test's own timing: about the delay, and well above the undelayed lag.
    expect(lag.heartbeatLagMs!).toBeLessThan(2000 + 6000);
    expect(lag.heartbeatLagMs! - (undelayed.heartbeatLagMs ?? 0)).toBeGreaterThan(1000);
    expect(lag.underLimit).toBe(false);
    expect(lag.consecutiveUnderLimit).toBe(0);
    expect(lag.caughtUp).toBe(false);
    const t2 = await target.connect();
    await t2.query('STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=0; START SLAVE');
    await t2.end();
  });
});
