// A target without binary logging: the cutover needs the target's binlog only for reverse replication.
// With cutover.reverseReplication false it cuts over; with it on it rolls back, naming the setting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMariaDb, type MariaDbServer } from '../../local/mariadb.js';
import { handler as keepBinlogs } from '../../handlers/keep-binlogs.js';
import { handler as createReplicationUser } from '../../handlers/create-replication-user.js';
import { handler as startReplication } from '../../handlers/start-replication.js';
import { handler as checkReplication } from '../../handlers/check-replication.js';
import { handler as cutOver } from '../../handlers/cut-over.js';
import type { CutoverResult, MigrationState, ReplicationCheck } from '../../shared/state.js';
import { prepareLoadSchema } from '../support/write-load.js';
import { consistentCopy, invoke, scalar, slaveStatus, stateFor, until, useLocalSecrets } from './fixtures.js';

let source: MariaDbServer;
let target: MariaDbServer;
let state: MigrationState;

beforeAll(async () => {
  useLocalSecrets();
  [source, target] = await Promise.all([
    startMariaDb({ serverId: 61 }),
    startMariaDb({ serverId: 62, config: { 'skip-log-bin': 1, log_slave_updates: 'OFF' } }),
  ]);
  state = stateFor(source, target, { migrationId: 'nobinlog-test' });
  const [s, t] = [await source.connect(), await target.connect()];
  await prepareLoadSchema(s);
  await prepareLoadSchema(t, 'app', { user: true, table: false });
  await s.query("INSERT INTO app.writes VALUES (1, 'a', NOW(6))");
  await s.end();
  await t.end();
  state = { ...state, binlogs: await invoke(keepBinlogs, state) };
  state = { ...state, replicationUser: await invoke(createReplicationUser, state) };
  const position = await consistentCopy(source, target, ['app', 'crossmove']);
  state = { ...state, binlogPosition: { done: true, attempts: 1, status: 'found', position, origin: 'logical-copy' } };
  state = { ...state, replication: await invoke(startReplication, state) };
  await until(async () => (await invoke<ReplicationCheck>(checkReplication, state)).underLimit, 30_000, 50);
});

afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
});

const withReverse = (on: boolean): MigrationState => ({ ...state, input: { ...state.input, cutover: { ...state.input.cutover, reverseReplication: on } } });

describe('cutover to a target without binary logging', () => {
  it('rolls back when reverse replication is on, naming cutover.reverseReplication', async () => {
    const err = await invoke(cutOver, withReverse(true)).then(() => null, (e: Error) => e);
    expect(err?.name).toBe('CutoverRolledBackError');
    expect(err?.message).toMatch(/binary logging on the target.*cutover\.reverseReplication/);
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(0);
  });

  it('cuts over when reverse replication is off', async () => {
    await until(async () => (await slaveStatus(target))?.Slave_IO_Running === 'Yes', 20_000);
    const result = await invoke<CutoverResult>(cutOver, withReverse(false));
    expect(result).toMatchObject({ ok: true, targetPositionAtSwitch: null });
    expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(0);
    expect(await slaveStatus(target)).toBeUndefined();
  });
});
