// The comparison is resumable and pauses replication only for an instant:
// - a worker whose time ran out gives its range back at the cursor, and one that died keeps it until
//   its lease expires; either way the next run resumes the same job and reads no finished sub-chunk
//   again (rows compared = rows of the table, exactly);
// - a sync point under writes stops the applier exactly at the source position, opens both reads
//   there (equal hashes), restarts the applier and clears its pause lease; while a lease is live, a
//   replication check says "paused, check again", not "broken".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransientError } from '../../shared/errors.js';
import type { Budget } from '../../shared/chunks/budget.js';
import { CursorStore } from '../../shared/chunks/cursor-store.js';
import { q } from '../../shared/mysql/connection.js';
import { readPauseLease, takePauseLease } from '../../shared/mysql/pause-lease.js';
import { checkReplicationStep } from '../../shared/mysql/steps/check-replication.js';
import { chunkHashSql } from '../../shared/verify/row-hash.js';
import { compareColumns, storedColumns } from '../../shared/verify/columns.js';
import { closeDiffSessions, openDiffSessions, type DiffSessions } from '../../shared/verify/sessions.js';
import { checkDiffStep, compareChunksStep, planDiffStep, runDiffLocally } from '../../shared/verify/steps.js';
import { closeSyncPoint, openSyncPoint } from '../../shared/verify/sync-point.js';
import { diffPair, MixedWriters, type DiffPair } from './diff-fixtures.js';
import { slaveStatus } from './fixtures.js';

const ROWS = 40_000;
let pair: DiffPair;

beforeAll(async () => {
  pair = await diffPair(71, [
    'CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(40) NOT NULL, n INT NOT NULL) ENGINE=InnoDB',
    `INSERT INTO big SELECT seq, CONCAT('value ', seq), seq MOD 97 FROM seq_1_to_${ROWS}`,
    'CREATE TABLE hot (id INT PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB',
    'INSERT INTO hot SELECT seq, 0 FROM seq_1_to_100',
  ], { state: { verify: { parallelism: 1, maxRowsPerChunk: 1000, chunkSeconds: 0.001 } } });
}, 120_000);

afterAll(async () => pair?.stop());

/** A budget that runs out after `calls` checks (a Lambda reaching its 15 minutes, made deterministic). */
function budgetOf(calls: number): Budget {
  let n = 0;
  return { remainingMs: () => (n < calls ? 60_000 : 0), expired: () => ++n > calls };
}

describe('resuming from the cursor', () => {
  it('a worker out of time, then a dead worker: the next runs resume the same job and read every row exactly once', async () => {
    const plan = await planDiffStep(pair.state);
    const event = { worker: 1, job: plan.job, input: pair.state.input, accounts: pair.state.accounts, diffPlan: plan };
    const first = await compareChunksStep(event, budgetOf(12));
    expect(first.stoppedBy).toBe('budget');
    expect(first.rows).toBeGreaterThan(0);
    expect(first.rows).toBeLessThan(ROWS);
    const partial = await checkDiffStep({ ...pair.state, diffPlan: plan });
    expect(partial).toMatchObject({ done: false, verdict: 'incomplete', rowsCompared: first.rows });

    // The next worker dies with the range claimed (its Lambda was killed): the range waits for its lease.
    const second = await compareChunksStep({ ...event, worker: 2 }, budgetOf(20));
    const t = await pair.target.connect();
    const store = await CursorStore.open(t as never, pair.state.input.migrationId);
    const [range] = (await store.ranges(plan.job)).filter((r) => r.table.name === 'big');
    await t.query("UPDATE crossmove_load.chunk_ranges SET state = 'claimed', owner = 'killed-lambda', lease_until = NOW(3) + INTERVAL 1 HOUR WHERE job = ? AND seq = ?", [plan.job, range!.seq]);
    const blocked = await compareChunksStep({ ...event, worker: 3 }, budgetOf(50));
    // The live lease is respected: worker 3 compared only the other table and never touched big's range.
    expect(blocked.rows).toBeLessThanOrEqual(100);
    const [untouched] = (await store.ranges(plan.job)).filter((r) => r.table.name === 'big');
    expect(untouched).toMatchObject({ cursor: range!.cursor, rowsDone: range!.rowsDone, state: 'claimed' });
    await t.query('UPDATE crossmove_load.chunk_ranges SET lease_until = NOW(3) - INTERVAL 1 SECOND WHERE job = ? AND seq = ?', [plan.job, range!.seq]);
    await t.end();

    const { plan: resumed, summary, workers } = await runDiffLocally(pair.state);
    expect(resumed).toMatchObject({ job: plan.job, resumed: true });
    const later = workers.reduce((n, w) => n + w.rows, 0);
    expect(first.rows + second.rows + blocked.rows + later).toBe(ROWS + 100);
    expect(summary).toMatchObject({ done: true, verdict: 'clean', rowsCompared: ROWS + 100 });

    // A finished job is never reused: the next comparison is a new job.
    const next = await planDiffStep(pair.state);
    expect(next).toMatchObject({ resumed: false });
    expect(next.job).not.toBe(plan.job);
  });
});

describe('sync points', () => {
  let s: DiffSessions;
  beforeAll(async () => {
    s = await openDiffSessions(pair.state, { source: { host: pair.source.host, port: pair.source.port }, target: { host: pair.target.host, port: pair.target.port } });
  });
  afterAll(async () => closeDiffSessions(s));

  it('stop the applier exactly at the source position under writes, open equal reads, restart and clear the lease', async () => {
    const writers = new MixedWriters(pair.source, (r) => (r() < 0.5 ? `UPDATE big SET n = n + 1 WHERE id = ${1 + Math.floor(r() * ROWS)}` : `UPDATE hot SET n = n + 1 WHERE id = ${1 + Math.floor(r() * 100)}`), 3).start();
    const table = { schema: 'app', name: 'big' };
    const columns = compareColumns(await storedColumns(s.sourceControl, table), await storedColumns(s.targetControl, table), true).columns;
    const paused: number[] = [];
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const sync = await openSyncPoint(s, { migrationId: pair.state.input.migrationId, owner: `test-${i}`, tables: [table], mode: 'exact' });
      expect(sync).toMatchObject({ exact: true, method: 'binlog-snapshot' });
      paused.push(sync.pausedMs);
      const sql = chunkHashSql(table, null, { lo: null, hi: null }, columns);
      const [[a], [b]] = await Promise.all([q(s.sourceSnapshot, sql), q(s.targetSnapshot, sql)]);
      expect(b).toEqual(a);
      await closeSyncPoint(s);
      const status = await slaveStatus(pair.target);
      expect(status?.Slave_SQL_Running).toBe('Yes');
      expect(await readPauseLease(s.targetControl, pair.state.input.migrationId)).toBeNull();
    }
    await writers.stop();
    console.log(`[sync point] applier paused ${paused.map((p) => p.toFixed(1)).join(', ')} ms under ${writers.writes} writes`);
    expect(Math.max(...paused)).toBeLessThan(10_000); // the pause budget: a pause that took longer would have been undone
  });

  it('while a pause lease is live a replication check says "paused, check again"; a dead one is named and resumed by the next sync point', async () => {
    const id = pair.state.input.migrationId;
    await q(s.targetControl, 'STOP SLAVE SQL_THREAD');
    await takePauseLease(s.targetControl, id, 'someone', 'mysql-bin.000001:4', 30);
    const live = await checkReplicationStep(pair.state).catch((e: Error) => e);
    expect(live).toBeInstanceOf(TransientError);
    expect((live as Error).message).toContain('paused for a moment by the data comparison');
    await q(s.targetControl, "UPDATE crossmove_load.replication_pause SET lease_until = NOW(3) - INTERVAL 1 SECOND");
    const dead = await checkReplicationStep(pair.state).catch((e: Error) => e);
    expect(dead).toMatchObject({ name: 'ReplicationBrokenError', message: expect.stringContaining('did not finish its sync point') });
    const table = { schema: 'app', name: 'hot' };
    await openSyncPoint(s, { migrationId: id, owner: 'next', tables: [table], mode: 'exact' });
    await closeSyncPoint(s);
    expect((await slaveStatus(pair.target))?.Slave_SQL_Running).toBe('Yes');
    expect(await readPauseLease(s.targetControl, id)).toBeNull();
  });

  it('through LOCK TABLES: the lock is held only while the position is read and the read opened', async () => {
    const table = { schema: 'app', name: 'hot' };
    const sync = await openSyncPoint(s, { migrationId: pair.state.input.migrationId, owner: 'lock', tables: [table], mode: 'exact', forceLockTables: true });
    expect(sync).toMatchObject({ exact: true, method: 'lock-tables' });
    // The application can write again at once (the lock is gone while the comparison reads).
    await pair.write(['UPDATE hot SET n = n + 1 WHERE id = 1']);
    await closeSyncPoint(s);
    console.log(`[sync point] LOCK TABLES held ${sync.lockMs.toFixed(1)} ms, applier paused ${sync.pausedMs.toFixed(1)} ms`);
  });
});
