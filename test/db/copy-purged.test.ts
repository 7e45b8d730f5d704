// After BinlogPurgedError the migration must be able to start over: a finished copy whose binlog file
// is gone from the source (and that no running replica is past) is copied again instead of reused, and
// "Start replication" configures the replica from the new copy's position instead of resuming the
// purged one. A finished copy that a running replica is past is still reused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MariaDbServer } from '../../local/mariadb.js';
import { handler as startReplication } from '../../handlers/start-replication.js';
import { handler as checkReplication } from '../../handlers/check-replication.js';
import type { MigrationState, ReplicationCheck } from '../../shared/state.js';
import { beforeCopy, copyLogically, invoke, prepareApp, purgeBinlogsPast, scalar, slaveStatus, sql, startServers, stateFor, until, useLocalSecrets } from './fixtures.js';

let source: MariaDbServer;
let target: MariaDbServer;
let state: MigrationState;

beforeAll(async () => {
  useLocalSecrets();
  [source, target] = await startServers(2, 81);
  state = stateFor(source, target, { migrationId: 'purge-test' });
  await prepareApp(source, target, ["INSERT INTO app.writes VALUES (1, 'a', NOW(6)), (2, 'b', NOW(6))"]);
  state = await beforeCopy(state);
});

afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
});

describe('a copy whose binlog position was purged', () => {
  it('is copied again, and replication starts from the new position (not the purged one)', async () => {
    state = await copyLogically(state);
    const first = state.logicalCopy!;
    await sql(source, "INSERT INTO app.writes VALUES (3, 'c', NOW(6))");
    await purgeBinlogsPast(source, first.position!.file);
    await invoke(startReplication, state);
    await until(async () => (await slaveStatus(target))?.Last_IO_Errno === 1236, 20_000);

    state = await copyLogically({ ...state, copy: undefined, logicalCopy: undefined });
    const second = state.logicalCopy!;
    expect(second.position).not.toEqual(first.position);
    expect(Number(await scalar(target, 'SELECT COUNT(*) FROM app.writes'))).toBe(3);
    await invoke(startReplication, state);
    await until(async () => (await invoke<ReplicationCheck>(checkReplication, state)).healthy, 20_000, 100);
    await sql(source, "INSERT INTO app.writes VALUES (4, 'd', NOW(6))");
    await until(async () => Number(await scalar(target, 'SELECT COUNT(*) FROM app.writes')) === 4, 20_000);
  });

  it('is reused while a running replica is past the purged file', async () => {
    await purgeBinlogsPast(source, state.logicalCopy!.position!.file);
    const again = (await copyLogically({ ...state, copy: undefined, logicalCopy: undefined })).logicalCopy!;
    expect(again.position).toEqual(state.logicalCopy!.position);
    expect((await slaveStatus(target))!.Slave_SQL_Running).toBe('Yes');
  });
});
