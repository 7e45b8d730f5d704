// The cutover's edges on real MariaDB servers: a failure after the point of no return (the source is
// never unblocked, the next invocation finishes the switch), a replica stop that fails midway (restarted
// on rollback), a security-group block whose revoke failed after being applied (rolled back from the
// stored plan, one source at a time), crash recovery that restores the network before connecting to
// the source, a read-only block bounded by the budget, markers that survive a server_id change, and
// events the copy disabled being enabled after the switch.
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupsCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { readCredentials } from '../../shared/secrets.js';
import type { MariaDbServer } from '../../local/mariadb.js';
import { handler as cutOver } from '../../handlers/cut-over.js';
import { runCutover, type CutoverDeps } from '../../shared/mysql/cutover.js';
import { readCutoverMarker, writeCutoverMarker } from '../../shared/mysql/switch-log.js';
import type { Dialect } from '../../shared/mysql/dialect.js';
import { cutOverStep } from '../../shared/mysql/steps/cut-over.js';
import { openSource, openTarget, type Side } from '../../shared/mysql/steps/sides.js';
import { SecurityGroupBlocker } from '../../shared/aws/write-block-sg.js';
import { ReadOnlyBlocker, type WriteBlocker } from '../../shared/mysql/write-block.js';
import type { CutoverResult, MigrationState } from '../../shared/state.js';
import { WriteLoad } from '../support/write-load.js';
import { beforeCopy, invoke, prepareApp, recopy, scalar, slaveStatus, sql, startServers, stateFor, until, useLocalSecrets, ageMarkers } from './fixtures.js';

let source: MariaDbServer;
let target: MariaDbServer;
let state: MigrationState;
const GROUP = 'sg-0123456789abcdef0';

/** The target a caught-up read-only replica again, the source writable, no cutover markers. */
async function freshReplication(): Promise<void> {
  await sql(source, 'SET GLOBAL read_only = OFF');
  await sql(target, 'STOP SLAVE; RESET SLAVE ALL; DROP DATABASE IF EXISTS app; SET sql_log_bin=0; DROP TABLE IF EXISTS crossmove.cutover_log; SET sql_log_bin=1');
  state = await recopy(state, source, target);
}

/** runCutover on fresh connections, with parts swapped in. */
async function cutoverWith(parts: {
  targetDialect?: (d: Dialect) => Dialect;
  blocker?: (s: Side) => WriteBlocker;
  targetConn?: (c: Side['conn']) => Side['conn'];
  afterFinalPosition?: () => Promise<void>;
}): Promise<CutoverResult> {
  const [s, t] = [await openSource(state), await openTarget(state)];
  try {
    const deps: CutoverDeps = {
      source: s.conn,
      target: parts.targetConn ? parts.targetConn(t.conn) : t.conn,
      sourceDialect: s.dialect,
      targetDialect: parts.targetDialect ? parts.targetDialect(t.dialect) : t.dialect,
      input: state.input,
      blocker: parts.blocker ? parts.blocker(s) : new ReadOnlyBlocker(s.conn),
      crossmoveUsers: ['admin', 'crossmove_repl', 'crossmove_repl_r'],
      afterFinalPosition: parts.afterFinalPosition,
    };
    return await runCutover(deps);
  } finally {
    await s.conn.end();
    await t.conn.end();
  }
}

const ioAndSqlRunning = async () => {
  const st = await slaveStatus(target);
  return st?.Slave_IO_Running === 'Yes' && st?.Slave_SQL_Running === 'Yes';
};

beforeAll(async () => {
  useLocalSecrets();
  [source, target] = await startServers(2, 71);
  state = stateFor(source, target, { migrationId: 'ponr-test', cutover: { catchUpTimeoutSeconds: 5 } });
  await prepareApp(source, target);
  state = await beforeCopy(state);
});

afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
});

describe('past the point of no return', () => {
  it('a failure there never unblocks the source (CutoverIncompleteError); the next invocation finishes and enables the copied events', async () => {
    await freshReplication();
    await sql(source, "CREATE EVENT app.nightly ON SCHEDULE EVERY 1 DAY DO UPDATE app.writes SET payload = payload WHERE id = 0");
    await until(async () => (await scalar(target, "SELECT STATUS FROM information_schema.EVENTS WHERE EVENT_NAME = 'nightly'")) === 'SLAVESIDE_DISABLED', 20_000);
    const load = new WriteLoad({ host: source.host, port: source.port, name: 'source' }, { ratePerSec: 100 }).start();
    try {
      await until(async () => load.acked.length > 30, 20_000);
      const err = await cutoverWith({
        targetDialect: (d) => ({ ...d, reset: () => Promise.reject(new Error('injected: connection lost during RESET SLAVE ALL')) }),
      }).then(() => null, (e: Error) => e);
      expect(err?.name).toBe('CutoverIncompleteError');
      expect(err?.message).toMatch(/point of no return.*source stays blocked/);
      // The source stays blocked: no second primary.
      expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(1);
      expect(await scalar(target, "SELECT phase FROM crossmove.cutover_log WHERE migration_id = 'ponr-test' ORDER BY seq DESC LIMIT 1")).toBe('past-point-of-no-return');

      const result = await invoke<CutoverResult>(cutOver, state);
      expect(result).toMatchObject({ ok: true, rolledBack: false });
      expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(1);
      expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(0);
      expect(await slaveStatus(target)).toBeUndefined();
      expect(await scalar(target, "SELECT STATUS FROM information_schema.EVENTS WHERE EVENT_NAME = 'nightly'")).toBe('ENABLED');
      load.repoint({ host: target.host, port: target.port, name: 'target' });
      await until(async () => load.ackedIds('target').length > 10, 20_000);
    } finally {
      await load.stop();
    }
    const acked = load.ackedIds();
    const onTarget = new Set(((await (async () => {
      const c = await target.connect();
      const [rows] = await c.query('SELECT id FROM app.writes');
      await c.end();
      return rows;
    })()) as { id: number }[]).map((r) => Number(r.id)));
    expect(acked.filter((id) => !onTarget.has(id))).toEqual([]);
  });
});

describe('sessions the cutover kills', () => {
  it("spares the replication user's sessions (it can only replicate, and may be between connecting and Binlog Dump) and kills the application's", async () => {
    await freshReplication();
    const creds = await readCredentials(state.replicationUser!.secretRef);
    const repl = await mysql.createConnection({ host: source.host, port: source.port, user: creds.username, password: creds.password });
    const app = await source.connect();
    const idOf = async (c: { query: (s: string) => Promise<unknown> }) => Number(((await c.query('SELECT CONNECTION_ID() AS id')) as [{ id: number }[]])[0][0]!.id);
    const [replId, appId] = [await idOf(repl), await idOf(app)];
    const alive = async (id: number) => Number(await scalar(source, 'SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?', [id]));
    let seen: { repl: number; app: number } | undefined;
    const err = await cutoverWith({
      afterFinalPosition: async () => {
        seen = { repl: await alive(replId), app: await alive(appId) };
        throw new Error('test: stop after the kill');
      },
    }).then(() => null, (e: Error) => e);
    expect(err?.name).toBe('CutoverRolledBackError');
    expect(seen).toEqual({ repl: 1, app: 0 });
    await repl.end();
    app.destroy();
  });
});

describe('an uncertain point of no return', () => {
  it('a marker write that committed but lost its answer keeps the source blocked; the next attempt finishes', async () => {
    await freshReplication();
    // The target connection commits the past-point-of-no-return row, then the reply is "lost".
    const lossy = (c: Side['conn']) =>
      new Proxy(c, {
        get(obj, prop, recv) {
          const v = Reflect.get(obj, prop, recv);
          if (prop !== 'query' && prop !== 'execute') return typeof v === 'function' ? v.bind(obj) : v;
          return async (...args: unknown[]) => {
            const out = await (v as (...a: unknown[]) => Promise<unknown>).apply(obj, args);
            if (JSON.stringify(args).includes('past-point-of-no-return')) throw new Error('injected: connection lost after the commit');
            return out;
          };
        },
      });
    const err = await cutoverWith({ targetConn: lossy }).then(() => null, (e: Error) => e);
    expect(err?.name).toBe('CutoverIncompleteError');
    // Never rolled back: the marker says past the point of no return, so a rollback would make two primaries.
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(1);
    expect(await scalar(target, "SELECT phase FROM crossmove.cutover_log WHERE migration_id = 'ponr-test' ORDER BY seq DESC LIMIT 1")).toBe('past-point-of-no-return');
    const result = await invoke<CutoverResult>(cutOver, state);
    expect(result).toMatchObject({ ok: true, rolledBack: false });
    expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(0);
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(1);
  });
});

describe('past the point of no return, the source out of reach', () => {
  it('finishes on the target alone and reports what needed the source', async () => {
    await freshReplication();
    const err = await cutoverWith({
      targetDialect: (d) => ({ ...d, reset: () => Promise.reject(new Error('injected: connection lost during RESET SLAVE ALL')) }),
    }).then(() => null, (e: Error) => e);
    expect(err?.name).toBe('CutoverIncompleteError');
    // The block (or an outage) now keeps crossmove from the source: nothing listens where it was.
    const unreachable = { ...state, input: { ...state.input, source: { ...state.input.source, endpoint: { host: '127.0.0.1', port: 1 } } } };
    const result = await invoke<CutoverResult>(cutOver, unreachable);
    expect(result).toMatchObject({ ok: true, rolledBack: false });
    // A logical copy's events need the source: said, not thrown.
    expect(result.grantDifferences.at(-1)).toMatch(/^could not apply missing users and grants or enable the copied events \(do it by hand\): the source could not be reached \(.*\)$/);
    expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(0);
    expect(await slaveStatus(target)).toBeUndefined();
    expect(await scalar(target, "SELECT phase FROM crossmove.cutover_log WHERE migration_id = 'ponr-test' ORDER BY seq DESC LIMIT 1")).toBe('done');
    // The source is never unblocked by this.
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(1);
    // A second invocation returns the recorded result.
    expect(await invoke<CutoverResult>(cutOver, unreachable)).toEqual(result);
  });

  it('without a pending switch, a source out of reach is still an error', async () => {
    await freshReplication();
    const unreachable = { ...state, input: { ...state.input, source: { ...state.input.source, endpoint: { host: '127.0.0.1', port: 1 } } } };
    await expect(invoke(cutOver, unreachable)).rejects.toThrow(/ECONNREFUSED|connect/i);
    expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(1);
  });
});

describe('rollback before the point of no return', () => {
  beforeEach(freshReplication);

  it('a replica stop that failed midway is restarted', async () => {
    const err = await cutoverWith({
      targetDialect: (d) => ({ ...d, stop: async (c) => {
        await d.stop(c);
        throw new Error('injected: lost the answer to STOP SLAVE');
      } }),
    }).then(() => null, (e: Error) => e);
    expect(err?.name).toBe('CutoverRolledBackError');
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(0);
    await until(ioAndSqlRunning, 20_000);
  });

  it('security group: a revoke that failed after being applied is undone from the plan, one source at a time', async () => {
    const ec2 = new EC2Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const mock = mockClient(ec2);
    mock.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [{ GroupId: GROUP, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, IpRanges: [{ CidrIp: '10.1.0.0/16' }, { CidrIp: '10.2.0.0/16' }] }] }],
    });
    mock.on(RevokeSecurityGroupIngressCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    // The first range is somehow still there: its Duplicate must not stop the second.
    mock
      .on(AuthorizeSecurityGroupIngressCommand)
      .rejectsOnce(Object.assign(new Error('the specified rule already exists'), { name: 'InvalidPermission.Duplicate' }))
      .resolves({ Return: true });
    const err = await cutoverWith({ blocker: () => new SecurityGroupBlocker(ec2, GROUP) }).then(() => null, (e: Error) => e);
    expect(err?.name).toBe('CutoverRolledBackError');
    const restored = mock.commandCalls(AuthorizeSecurityGroupIngressCommand).map((c) => c.args[0].input.IpPermissions);
    expect(restored).toEqual([
      [{ IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, IpRanges: [{ CidrIp: '10.1.0.0/16' }] }],
      [{ IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, IpRanges: [{ CidrIp: '10.2.0.0/16' }] }],
    ]);
    await until(ioAndSqlRunning, 20_000);
  });
});

describe('security group recovery and keep groups', () => {
  it('restores the stored rules before connecting to the source (which the block may have closed to us)', async () => {
    const ec2 = new EC2Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const mock = mockClient(ec2);
    mock.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
    const rules = [{ IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, UserIdGroupPairs: [{ GroupId: 'sg-0aaaaaaaaaaaaaaaa', UserId: '111111111111' }] }];
    const t = await target.connect();
    await writeCutoverMarker(t as any, 'crossmove', 'ponr-test', { phase: 'in-progress', result: null, blockState: { groupId: GROUP, rules } });
    await t.end();
    // While the attempt that wrote it may still run, its rules are left alone.
    const young = await cutOverStep(state, { sgBlocker: async () => new SecurityGroupBlocker(ec2, GROUP) }).then(() => null, (e: Error) => e);
    expect(young?.name).toBe('TransientError');
    expect(mock.commandCalls(AuthorizeSecurityGroupIngressCommand)).toEqual([]);
    await ageMarkers(target, 'ponr-test');
    // The source is unreachable (closed network): only the restore can happen, and it must.
    const unreachable = { ...state, input: { ...state.input, source: { ...state.input.source, endpoint: { host: '127.0.0.1', port: 1 } } } } as MigrationState;
    const err = await cutOverStep(unreachable, { sgBlocker: async () => new SecurityGroupBlocker(ec2, GROUP) }).then(() => null, (e: Error) => e);
    expect(err?.name).toBe('TransientError');
    expect(mock.commandCalls(AuthorizeSecurityGroupIngressCommand).map((c) => c.args[0].input.IpPermissions)).toEqual([rules]);
    await sql(target, 'SET sql_log_bin=0; DROP TABLE IF EXISTS crossmove.cutover_log; SET sql_log_bin=1');
  });

  it('never revokes the rules of the keep groups', async () => {
    const ec2 = new EC2Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const mock = mockClient(ec2);
    mock.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [
        {
          GroupId: GROUP,
          IpPermissions: [
            { IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, UserIdGroupPairs: [{ GroupId: 'sg-0lambda0000000000' }, { GroupId: 'sg-0app000000000000' }] },
            { IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, UserIdGroupPairs: [{ GroupId: 'sg-0replication0000' }] },
          ],
        },
      ],
    });
    mock.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
    const blocker = new SecurityGroupBlocker(ec2, GROUP, 3306, ['sg-0lambda0000000000', 'sg-0replication0000']);
    const plan = (await blocker.plan()) as { rules: unknown[] };
    await blocker.block();
    const revoked = mock.commandCalls(RevokeSecurityGroupIngressCommand)[0]!.args[0].input.IpPermissions;
    expect(revoked).toEqual([{ IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, UserIdGroupPairs: [{ GroupId: 'sg-0app000000000000' }] }]);
    expect(plan.rules).toEqual(revoked);
  });
});

describe('read-only block bounded by the budget', () => {
  it('gives up within the budget when a statement holds the commit lock, and leaves no waiting SET GLOBAL behind', async () => {
    await sql(source, 'SET GLOBAL read_only = OFF');
    const holder = await source.connect();
    const running = holder.query("UPDATE app.writes SET payload = payload WHERE SLEEP(4) = 0 LIMIT 1").catch(() => undefined);
    await until(async () => Number(await scalar(source, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'UPDATE app.writes%SLEEP%'")) === 1, 5_000, 20);
    const c = await source.connect();
    const blocker = new ReadOnlyBlocker(c as any, async () => (await source.connect()) as any);
    const err = await blocker.block(Date.now() + 1_000).then(() => null, (e: Error) => e);
    expect(err).not.toBeNull();
    // Nothing keeps waiting for the global lock on the server (it would queue every write behind it).
    expect(Number(await scalar(source, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SET GLOBAL read_only%'"))).toBe(0);
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(0);
    await running;
    await holder.end();
    c.destroy();
  });
});

describe('after the switch', () => {
  it('a grant that cannot be applied on the target is reported, and the switch stands', async () => {
    await freshReplication();
    // A grant on a table that exists only on the source (outside the copied schemas): GRANT fails there with 1146.
    await sql(source, "SET sql_log_bin=0; CREATE DATABASE side; CREATE TABLE side.t (id INT PRIMARY KEY); CREATE USER 'reader'@'%' IDENTIFIED BY 'reader-pw-123'; GRANT SELECT ON side.t TO 'reader'@'%'; SET sql_log_bin=1");
    const withGrants = { ...state, input: { ...state.input, cutover: { ...state.input.cutover, applyMissingGrants: true } } };
    const result = await invoke<CutoverResult>(cutOver, withGrants);
    expect(result.ok).toBe(true);
    expect(result.grantDifferences.join('\n')).toMatch(/could not apply missing users and grants on the target.*1146/);
    expect(result.grantDifferences.join('\n')).not.toContain('reader-pw-123');
    expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(0);
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(1);
    await sql(source, "SET sql_log_bin=0; DROP USER 'reader'@'%'; DROP DATABASE side; SET sql_log_bin=1");
  });
});

describe('cutover markers', () => {
  it('are found after a failover changed the server_id', async () => {
    const t = await target.connect();
    const originalId = Number(await scalar(target, 'SELECT @@global.server_id'));
    try {
      await writeCutoverMarker(t as any, 'crossmove', 'failover-test', { phase: 'in-progress', result: null, blockState: { x: 1 } });
      await t.query('SET GLOBAL server_id = 4242');
      const t2 = await target.connect();
      expect(await readCutoverMarker(t2 as any, 'crossmove', 'failover-test')).toMatchObject({ phase: 'in-progress', blockState: { x: 1 } });
      await t2.end();
    } finally {
      await t.query('SET GLOBAL server_id = ?', [originalId]);
      await t.end();
    }
  });
});
