// Fallback after a crashed attempt (real MariaDB): an attempt that died before the point of no return
// is undone by the next invocation (target writable, reverse replication resumed); a failure after the
// point of no return never unblocks the target, and the next invocation finishes with nothing lost; one
// that died after it is finished. And the Aurora way of re-enabling the
// source: the security-group rules the cutover removed are read from its marker on the target and
// authorised again (EC2 mocked, exact parameters).
import { AuthorizeSecurityGroupIngressCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MariaDbServer } from '../../local/mariadb.js';
import { handler as fallBack } from '../../handlers/fall-back.js';
import { readFallbackMarker, writeCutoverMarker, writeFallbackMarker } from '../../shared/mysql/switch-log.js';
import { runFallback } from '../../shared/mysql/fallback.js';
import { openSource, openTarget } from '../../shared/mysql/steps/sides.js';
import { ReadOnlyBlocker } from '../../shared/mysql/write-block.js';
import { sourceEnabler } from '../../shared/mysql/fallback-source.js';
import { dialectFor } from '../../shared/mysql/dialect.js';
import type { FallbackResult, MigrationState } from '../../shared/state.js';
import type { WriteLoad } from '../support/write-load.js';
import { cutOverAndReverse, invoke, prepareApp, replicateUnderLoad, scalar, slaveStatus, sql, startServers, stateFor, until, useLocalSecrets, ageMarkers } from './fixtures.js';

const ec2 = mockClient(EC2Client);
let source: MariaDbServer;
let target: MariaDbServer;
let state: MigrationState;
let load: WriteLoad;
let first: FallbackResult;

beforeAll(async () => {
  useLocalSecrets();
  [source, target] = await startServers(2, 91);
  state = stateFor(source, target, { migrationId: 'recovery-test' });
  await prepareApp(source, target);
  ({ state, load } = await replicateUnderLoad(state, source, target, { ratePerSec: 100, ackedBefore: 20, until: 'underLimit' }));
  state = await cutOverAndReverse(state, load, target, 50);
}, 120_000);

/** runFallback on fresh connections, with the way the source is made writable swapped in. */
async function fallbackWith(enableSource: () => Promise<void>): Promise<FallbackResult> {
  const [s, t] = [await openSource(state), await openTarget(state)];
  try {
    return await runFallback({
      source: s.conn,
      target: t.conn,
      sourceDialect: s.dialect,
      targetDialect: t.dialect,
      input: state.input,
      blocker: new ReadOnlyBlocker(t.conn),
      enableSource,
      crossmoveUsers: ['admin', 'crossmove_repl', 'crossmove_repl_r'],
    });
  } finally {
    await s.conn.end();
    await t.conn.end();
  }
}

afterAll(async () => {
  await load?.stop();
  await Promise.all([source?.stop(), target?.stop()]);
});

describe('fallback recovery', () => {
  it('an attempt that died before the point of no return is undone; a failure after it keeps the target blocked and the next invocation finishes, nothing lost', async () => {
    // What a Lambda killed mid-fallback leaves: marker in-progress, target read-only, reverse SQL thread stopped.
    const c = await source.connect();
    await writeFallbackMarker(c as any, 'crossmove', 'recovery-test', { phase: 'in-progress', result: null, blockState: null });
    await c.end();
    await ageMarkers(source, 'recovery-test');
    await sql(target, 'SET GLOBAL read_only = ON');
    await sql(source, 'STOP SLAVE SQL_THREAD');
    await new Promise((r) => setTimeout(r, 200));

    // The recovering invocation gets past the point of no return, then cannot make the source writable.
    const err = await fallbackWith(() => Promise.reject(new Error('injected: connection lost while enabling the source'))).then(() => null, (e: Error) => e);
    expect(err?.name).toBe('FallbackIncompleteError');
    expect(err?.message).toMatch(/point of no return but did not finish \(Error: injected.*\)\. The target stays blocked; the next attempt finishes the switch \(run the fallback again\)/);
    // Never unblocked: the source may already take writes, two primaries would split the data.
    expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(1);
    expect(await scalar(source, "SELECT phase FROM crossmove.fallback_log WHERE migration_id = 'recovery-test' ORDER BY seq DESC LIMIT 1")).toBe('past-point-of-no-return');

    first = await invoke<FallbackResult>(fallBack, state);
    expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(1);
    load.repoint({ host: source.host, port: source.port, name: 'source-again' });
    await until(async () => load.ackedIds('source-again').length > 30, 20_000);
    await load.stop();

    expect(first).toMatchObject({ ok: true, checksumsMatch: null });
    const reader = await source.connect();
    const rows = (await reader.query('SELECT id FROM app.writes'))[0] as { id: number }[];
    await reader.end();
    const onSource = new Set(rows.map((r) => Number(r.id)));
    expect(load.ackedIds().filter((id) => !onSource.has(id))).toEqual([]);
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(0);
    expect(await slaveStatus(source)).toBeUndefined();
    const c2 = await source.connect();
    expect((await readFallbackMarker(c2 as any, 'crossmove', 'recovery-test'))?.phase).toBe('done');
    await c2.end();
  });

  it('an attempt that died after the point of no return is finished: source writable, the stored result returned', async () => {
    const c = await source.connect();
    await writeFallbackMarker(c as any, 'crossmove', 'recovery-test', { phase: 'past-point-of-no-return', result: first, blockState: null });
    await c.end();
    await sql(source, 'SET GLOBAL read_only = ON');
    const again = await invoke<FallbackResult>(fallBack, state);
    expect({ ...again, dns: undefined }).toEqual({ ...first, dns: undefined });
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(0);
  });

  it('Aurora source: re-authorises the inbound rules the cutover removed, read from its marker on the target', async () => {
    const rules = [{ IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, IpRanges: [{ CidrIp: '10.0.0.0/16' }] }];
    const t = await target.connect();
    await writeCutoverMarker(t as any, 'crossmove', 'sg-test', { phase: 'past-point-of-no-return', result: null, blockState: { groupId: 'sg-0123456789abcdef0', rules } });
    ec2.reset();
    ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
    const sgState = stateFor(source, target, { migrationId: 'sg-test', source: { engine: 'aurora-mysql-3' }, cutover: { writeBlock: { method: 'security-group', securityGroupId: 'sg-0123456789abcdef0' } } });
    const s = await source.connect();
    const enable = await sourceEnabler(sgState, s as any, dialectFor('aurora-mysql-3'), t as any, new EC2Client({ region: 'us-east-1' }));
    await enable();
    const calls = ec2.commandCalls(AuthorizeSecurityGroupIngressCommand);
    expect(calls.map((x) => x.args[0].input)).toEqual([{ GroupId: 'sg-0123456789abcdef0', IpPermissions: rules }]);
    // Without the cutover's record, the fallback refuses before anything changes.
    const missing = { ...sgState, input: { ...sgState.input, migrationId: 'sg-none' } };
    const err = await sourceEnabler(missing, s as any, dialectFor('aurora-mysql-3'), t as any, new EC2Client({ region: 'us-east-1' })).then(() => null, (e: Error) => e);
    expect(err?.name).toBe('FallbackNotReadyError');
    expect(err?.message).toMatch(/restore the rules by hand/);
    await s.end();
    await t.end();
  });
});
