// Fallback on real MariaDB servers under ~200 writes/s: after a real cutover and reverse replication,
// the application moves back to the source with zero acknowledged writes lost and equal checksums;
// a fallback that cannot catch up within the budget rolls back (target writable, reverse replication
// running); lag above the limit refuses (nothing changed); a second invocation returns the same
// result; DNS is pointed back at the source (Route 53 mocked: the exact UPSERT).
import { ChangeResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, type MariaDbServer } from '../../local/mariadb.js';
import { handler as fallBack } from '../../handlers/fall-back.js';
import { fallBackStep } from '../../shared/mysql/steps/fall-back.js';
import type { FallbackResult, MigrationState } from '../../shared/state.js';
import { dialectFor } from '../../shared/mysql/dialect.js';
import { planFallback } from '../../shared/plan/switch-steps.js';
import { APP_PASSWORD, type WriteLoad } from '../support/write-load.js';
import { cutOverAndReverse, invoke, prepareApp, replicateUnderLoad, scalar, slaveStatus, sql, startServers, stateFor, until, useLocalSecrets } from './fixtures.js';

const r53 = mockClient(Route53Client);
let source: MariaDbServer;
let target: MariaDbServer;
let state: MigrationState;
let load: WriteLoad;
let result: FallbackResult;

/** Binlog dump threads on a server (its replicas' IO threads). */
async function dumpThreads(server: MariaDbServer): Promise<number[]> {
  const c = await server.connect();
  try {
    const [rows] = await c.query("SELECT ID AS id FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%' ORDER BY ID");
    return (rows as { id: number }[]).map((r) => Number(r.id));
  } finally {
    await c.end();
  }
}

const reverseRunning = async () => {
  const st = await slaveStatus(source);
  return st?.Slave_IO_Running === 'Yes' && st?.Slave_SQL_Running === 'Yes';
};

function withInput(s: MigrationState, patch: (input: any) => void): MigrationState {
  const input = structuredClone(s.input);
  patch(input);
  return { ...s, input };
}

beforeAll(async () => {
  useLocalSecrets();
  r53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C123', Status: 'PENDING', SubmittedAt: new Date() } });
  [source, target] = await startServers(2, 71);
  state = stateFor(source, target, { cutover: { dns: { hostedZoneId: 'Z0FALLBACK', recordName: 'db.example.com', ttl: 5 } } });
  await prepareApp(source, target, [
    'CREATE TABLE app.accounts (id INT PRIMARY KEY, balance DECIMAL(12,2), note TEXT)',
    "INSERT INTO app.accounts VALUES (1, 10.50, 'a'), (2, 99.99, NULL)",
  ]);
  ({ state, load } = await replicateUnderLoad(state, source, target, { ratePerSec: 200, ackedBefore: 40 }));
  // A real cutover, the load moves to the target, reverse replication carries its writes back.
  state = await cutOverAndReverse(state, load, target, 100);
}, 120_000);

afterAll(async () => {
  await load?.stop();
  await Promise.all([source?.stop(), target?.stop()]);
});

describe('fallback through reverse replication', () => {
  it('refuses (nothing changed) without a successful cutover or reverse replication in the state', async () => {
    const noCutover = await invoke(fallBack, { ...state, cutover: undefined }).then(() => null, (e: Error) => e);
    expect(noCutover?.name).toBe('FallbackNotReadyError');
    const noReverse = await invoke(fallBack, { ...state, reverse: undefined }).then(() => null, (e: Error) => e);
    expect(noReverse?.name).toBe('FallbackNotReadyError');
    expect(noReverse?.message).toMatch(/reverse replication was not started/);
    expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(0);
  });

  it('refuses (nothing changed) when the reverse lag is above the limit', async () => {
    await sql(source, 'STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=3; START SLAVE');
    try {
      await new Promise((r) => setTimeout(r, 300));
      const tight = withInput(state, (i) => (i.replication.maxLagSeconds = 0.5));
      const err = await invoke(fallBack, tight).then(() => null, (e: Error) => e);
      expect(err?.name).toBe('FallbackNotReadyError');
      expect(err?.message).toMatch(/maxLagSeconds/);
      expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(0);
    } finally {
      await sql(source, 'STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=0; START SLAVE');
    }
  });

  it('a catch-up that cannot finish within the budget rolls back: target writable, reverse replication running, load continues', async () => {
    await sql(source, 'STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=3; START SLAVE');
    try {
      await new Promise((r) => setTimeout(r, 300));
      const ackedBefore = load.ackedIds('target').length;
      const slow = withInput(state, (i) => {
        i.replication.maxLagSeconds = 10;
        i.cutover.catchUpTimeoutSeconds = 1;
      });
      const err = await invoke(fallBack, slow).then(() => null, (e: Error) => e);
      expect(err?.name).toBe('FallbackRolledBackError');
      expect(err?.message).toMatch(/catchUpTimeoutSeconds/);
      expect(err?.message).toMatch(/target is writable again and reverse replication is running/);
      expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(0);
      expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(1);
      const st = (await slaveStatus(source))!;
      expect([st.Slave_IO_Running, st.Slave_SQL_Running]).toEqual(['Yes', 'Yes']);
      expect(Number(st.Master_Port)).toBe(target.port);
      // The application's killed sessions reconnect to the target and write again.
      await until(async () => load.ackedIds('target').length > ackedBefore + 50, 20_000);
      expect(r53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    } finally {
      await sql(source, 'STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=0; START SLAVE');
    }
  });

  it('kills an application session logged in as the target admin user, and spares the reverse replication IO thread', async () => {
    // An application logged in as the admin user: read_only does not stop it, so only the kill does.
    const appAdmin = await target.connect();
    const [[{ id: adminId }]] = (await appAdmin.query('SELECT CONNECTION_ID() AS id')) as any;
    // One dump thread serves the source's reverse IO thread; right after a reconnect (the test before
    // restarted reverse replication) the old one may still be going away: wait for the settled state.
    const dumpBefore = await until(async () => {
      const ids = await dumpThreads(target);
      return ids.length === 1 && ids;
    }, 20_000);
    let seen: { adminSessions: number; dump: number[] } | undefined;
    const err = await fallBackStep(state, {
      afterFinalPosition: async () => {
        seen = { adminSessions: Number(await scalar(target, 'SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?', [adminId])), dump: await dumpThreads(target) };
        throw new Error('test: stop after the kill');
      },
    }).then(() => null, (e: Error) => e);
    expect(err?.name).toBe('FallbackRolledBackError');
    // Killed (before the final position was read); the source's reverse IO thread kept its session.
    // The admin session was killed; the reverse replication link was not cut: a dump thread still serves
    // the source at the final position. (Its id may change if the source's IO thread reconnects on its own
    // under load; a kill would leave none, the IO thread retrying only after master_connect_retry.)
    expect(seen?.adminSessions).toBe(0);
    expect(seen?.dump).toHaveLength(1);
    expect(dumpBefore).toHaveLength(1);
    await expect(appAdmin.query('SELECT 1')).rejects.toThrow();
    appAdmin.destroy();
    expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(0);
    await until(reverseRunning, 20_000);
  });

  it('a write that slips in after the final position rolls back: target writable, reverse replication running, nothing lost', async () => {
    const slipped = 9_000_000;
    // verify none: only the re-read of the target's binlog position can see the write.
    const unverified = withInput(state, (i) => (i.cutover.verify = 'none'));
    const err = await fallBackStep(unverified, {
      afterFinalPosition: async () => {
        // A session the block cannot stop (admin, logged in after the kill).
        await sql(target, `INSERT INTO app.writes VALUES (${slipped}, 'slipped past the block', NOW(6))`);
      },
    }).then(() => null, (e: Error) => e);
    expect(err?.name).toBe('FallbackRolledBackError');
    expect(err?.message).toMatch(/the target binlog moved from \S+ to \S+ after writes were blocked: a session still writes \(check fallbackOptions\.writeBlock\.keepUsers/);
    expect(err?.message).toMatch(/target is writable again and reverse replication is running/);
    expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(0);
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(1);
    await until(reverseRunning, 20_000);
    expect(Number((await slaveStatus(source))!.Master_Port)).toBe(target.port);
    const before = load.ackedIds('target').length;
    await until(async () => load.ackedIds('target').length > before + 50, 20_000);
    // Nothing lost: every acknowledged target write and the slipped one reach the source.
    const acked = [...load.ackedIds('target'), slipped];
    await until(async () => Number(await scalar(source, 'SELECT COUNT(*) FROM app.writes WHERE id IN (?)', [acked])) === acked.length, 20_000);
  });

  it('rolls back from the stored plan: a block that was applied but reported failure still ends unblocked', async () => {
    const undone: unknown[] = [];
    const deadlines: unknown[] = [];
    const err = await fallBackStep(state, {
      blocker: async (_state, conn) => ({
        method: 'test-applied-then-lost',
        plan: async () => ({ readOnlyBefore: 0 }),
        block: async (deadline?: number) => {
          deadlines.push(deadline);
          await conn.query('SET GLOBAL read_only = ON');
          throw new Error('injected: lost the answer to SET GLOBAL read_only');
        },
        // What this instance believes it did: nothing (its call failed). Only the plan knows better.
        unblock: async () => undefined,
        undo: async (plan: unknown) => {
          undone.push(plan);
          await conn.query('SET GLOBAL read_only = OFF');
        },
      }),
    }).then(() => null, (e: Error) => e);
    expect(err?.name).toBe('FallbackRolledBackError');
    expect(err?.message).toMatch(/injected: lost the answer/);
    expect(undone).toEqual([{ readOnlyBefore: 0 }]);
    // The block is bounded by the budget like the cutover's.
    expect(deadlines).toEqual([expect.any(Number)]);
    expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(0);
    await until(reverseRunning, 20_000);
    const before = load.ackedIds('target').length;
    await until(async () => load.ackedIds('target').length > before + 50, 20_000);
  });

  it('falls back under write load: the source takes writes again, zero acknowledged writes lost, checksums equal', async () => {
    await until(async () => {
      const st = await slaveStatus(source);
      return st && Number(st.Seconds_Behind_Master) === 0 && st.Slave_SQL_Running === 'Yes';
    }, 20_000);
    result = await invoke<FallbackResult>(fallBack, state);
    load.repoint({ host: source.host, port: source.port, name: 'source-again' });
    await until(async () => load.ackedIds('source-again').length > 100, 20_000);
    await load.stop();

    // The fallback checks positions and the applier inside its block, never the data (no scan that grows with it).
    expect(result).toMatchObject({ ok: true, rolledBack: false, tablesVerified: 0, checksumsMatch: null });
    expect(result.steps.map((s) => s.step)).toEqual(
      expect.arrayContaining(['block writes on the target', 'wait until the source executed that position', 'stop reverse replication on the source', 'make the source writable']),
    );
    // `crossmove plan` for this input lists exactly the steps this fallback ran, in the same order.
    const planned = await planFallback(state.input, dialectFor('mariadb'), dialectFor('mariadb'));
    expect(result.steps.map((s) => s.step)).toEqual(planned.switch.filter((s) => s.timed).map((s) => s.step));
    // Every acknowledged write (on the source, then the target, then the source again) is on the source.
    const c = await source.connect();
    const [rows] = await c.query('SELECT id FROM app.writes');
    await c.end();
    const onSource = new Set((rows as { id: number }[]).map((r) => Number(r.id)));
    expect(load.ackedIds().filter((id) => !onSource.has(id))).toEqual([]);
    expect(load.ackedIds('target').length).toBeGreaterThan(100);
    // Roles swapped back: source writable with no external source, target read-only.
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(0);
    expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(1);
    expect(await slaveStatus(source)).toBeUndefined();
    const window = load.unavailableMs('target', 'source-again');
    expect(window).not.toBeNull();
    console.info(`fallback: write-unavailability ${window!.toFixed(1)} ms, critical section ${result.writeBlockedMs} ms, ${load.writesPerSec().toFixed(0)} writes/s`);
    // DNS back at the source: one exact UPSERT.
    expect(result.dns).toEqual({ recordName: 'db.example.com', value: source.host, changeId: '/change/C123', skipped: false });
    const calls = r53.commandCalls(ChangeResourceRecordSetsCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toMatchObject({
      HostedZoneId: 'Z0FALLBACK',
      ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: 'db.example.com', Type: 'CNAME', TTL: 5, ResourceRecords: [{ Value: source.host }] } }] },
    });
  });

  it('is idempotent: a second invocation returns the same result and changes nothing', async () => {
    const again = await invoke<FallbackResult>(fallBack, state);
    expect({ ...again, dns: undefined }).toEqual({ ...result, dns: undefined });
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(0);
    expect(await slaveStatus(source)).toBeUndefined();
  });

  it('never puts a password in the result', async () => {
    const text = JSON.stringify(result);
    for (const pw of [ADMIN_PASSWORD, APP_PASSWORD]) expect(text).not.toContain(pw);
  });
});
