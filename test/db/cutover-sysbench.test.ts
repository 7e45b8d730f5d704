// The cutover and the fallback under sysbench's stock OLTP load (16 client threads through a
// non-admin user and a switchable endpoint, every acknowledged transaction in a ledger), in what
// applications have in flight on cutover day: an idle transaction holding the hottest rows with clients
// queued behind it, long write statements (a paced UPDATE, an INSERT ... SELECT batch) and a long read
// in flight, clients storming the blocked server with new connections, a catch-up that cannot finish
// (rollback), a batch transaction that is slow to roll back, and the way back. Each: no acknowledged transaction lost, none committed that no client
// committed, no trace of what did not commit, every client committing again afterwards, no application
// session left holding locks on the old primary.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as cutOver } from '../../handlers/cut-over.js';
import { cutOverStep } from '../../shared/mysql/steps/cut-over.js';
import { startReverseReplicationStep } from '../../shared/mysql/steps/start-reverse-replication.js';
import { fallBackStep } from '../../shared/mysql/steps/fall-back.js';
import type { CutoverResult, FallbackResult, MigrationState } from '../../shared/state.js';
import type { MariaDbServer } from '../../local/mariadb.js';
import { appConnection, appLeftovers, idleTransaction, longRead, longWrite, markedRows, queuedWrite, type Actor } from '../../local/sysbench-actors.js';
import { stallTarget, sysbenchPair, switchUnderLoad, type SwitchFigures, type SysbenchPair } from '../../local/sysbench-pair.js';
import { sysbenchBinary, SYSBENCH_INSTALL_HINT } from '../../local/sysbench.js';
import { invoke, scalar, slaveStatus, sql, until } from './fixtures.js';

const DATA = { tables: 4, tableSize: 2000 };
// Below what the target's one replication thread applies on a loaded machine (at full rate 16 clients
// outrun it, and the cutover rightly refuses on lag), above what makes clients queue behind hot rows.
const RATE = 400;

function withCutover(state: MigrationState, patch: Record<string, unknown>): MigrationState {
  return { ...state, input: { ...state.input, cutover: { ...state.input.cutover, ...patch } } };
}

/** The switch's error, if it failed (the assertion message). */
const outcomeText = (f: SwitchFigures) => (f.outcome.ok ? 'switched' : `${f.outcome.error.name}: ${f.outcome.error.message}`);

/** What every scenario must show, whatever else happened. */
function expectNothingLost(f: SwitchFigures): void {
  expect(f.run.exitCode, f.run.output.slice(-1000)).toBe(0);
  expect(f.ledger.acknowledged).toBeGreaterThan(100);
  expect(f.ledger.lost).toEqual([]);
  expect(f.ledger.halfCommitted).toEqual([]);
  // Every client thread that committed before the switch committed again after it.
  expect(f.neverBack).toBe(0);
  expect(f.windows.length).toBeGreaterThan(0);
}

async function expectNoTrace(actor: Actor, servers: MariaDbServer[]): Promise<void> {
  const outcome = await actor.outcome();
  expect(outcome.ok, `${actor.name} must not have committed`).toBe(false);
  for (const server of servers) {
    const c = await server.connect();
    try {
      expect(await markedRows(c, actor.marker!), `rows of the ${actor.name} on the server at port ${server.port}`).toBe(0);
    } finally {
      await c.end();
    }
  }
}

/** The old primary keeps no application session and no application transaction holding locks. */
async function expectNothingLeftOn(server: MariaDbServer): Promise<void> {
  const c = await server.connect();
  try {
    await until(async () => {
      const left = await appLeftovers(c);
      return left.sessions.length === 0 && left.lockingTransactions.length === 0;
    }, 15_000, 50);
  } finally {
    await c.end();
  }
}

/** Connections a server has accepted since it started. */
async function connectionsTo(server: MariaDbServer): Promise<number> {
  return Number(await scalar(server, "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'CONNECTIONS'"));
}

async function sessionsMatching(server: MariaDbServer, where: string): Promise<number> {
  return Number(await scalar(server, `SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ${where}`));
}

beforeAll(() => {
  if (!sysbenchBinary()) throw new Error(SYSBENCH_INSTALL_HINT);
});

describe('cutover under sysbench: a rollback, then idle transactions and reports, then the way back', () => {
  let pair: SysbenchPair;
  let state: MigrationState;

  beforeAll(async () => {
    pair = await sysbenchPair({ n: 61, threads: 16, data: DATA, load: { rate: RATE }, cutover: { catchUpTimeoutSeconds: 10 } });
    state = pair.state;
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('rolls back a catch-up that cannot finish: the source takes the clients\' writes again, nothing lost', async () => {
    let release: (() => Promise<void>) | undefined;
    const stall = async () => void (release = await stallTarget(pair, DATA));
    const f = await switchUnderLoad(pair, pair.load, () => cutOverStep(withCutover(state, { catchUpTimeoutSeconds: 1 }), { beforeBlock: stall }), {
      after: 'target',
      steadyMs: 500,
      afterMs: 500,
    });
    await release!();
    expect(f.outcome.ok).toBe(false);
    expect(!f.outcome.ok && f.outcome.error).toMatchObject({ name: 'CutoverRolledBackError', message: expect.stringContaining('catchUpTimeoutSeconds') });
    expect(pair.endpoint.current.name).toBe('source');
    expect(Number(await scalar(pair.source, 'SELECT @@global.read_only'))).toBe(0);
    expectNothingLost(f);
    // Replication runs and catches up once the stall is gone.
    await until(async () => {
      const st = await slaveStatus(pair.target);
      return st?.Slave_SQL_Running === 'Yes' && st?.Slave_IO_Running === 'Yes' && Number(st?.Seconds_Behind_Master) === 0;
    }, 20_000);
  });

  it('an idle transaction holding the hottest rows, clients queued behind it, a report running: switched, nothing of it kept', async () => {
    const load = pair.startLoad();
    await load.untilAcked(200);
    const idle = await idleTransaction(pair.endpoint, DATA.tableSize);
    const queued = await queuedWrite(pair.endpoint, DATA.tableSize);
    const report = await longRead(pair.endpoint, 20, DATA.tableSize);
    // The situation that stalls a read_only block: statements waiting for the idle transaction's rows
    // (the queued client's always; sysbench's by chance, which on a loaded machine may not happen).
    await until(async () => Number(await scalar(pair.source, "SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'")) > 0, 30_000, 10);
    const f = await switchUnderLoad(pair, load, () => invoke<CutoverResult>(cutOver, state), { after: 'target', steadyMs: 200 });
    expect(f.outcome, outcomeText(f)).toMatchObject({ ok: true, result: { ok: true, rolledBack: false, checksumsMatch: true } });
    state = { ...state, cutover: (f.outcome as { result: CutoverResult }).result };
    expectNothingLost(f);
    await expectNoTrace(idle, [pair.source, pair.target]);
    // The queued client's statement ends (killed, refused as read-only, or in before the block); what it
    // wrote is not compared, since the clients' updates on the new primary may overwrite the row.
    await queued.outcome();
    expect((await report.outcome()).ok).toBe(false); // an application session on the old primary: killed
    await expectNothingLeftOn(pair.source);
  });

  it('falls back under load with a long UPDATE in flight on the target: nothing lost, nothing of it kept', async () => {
    state = { ...state, reverse: await startReverseReplicationStep(state) };
    const load = pair.startLoad(); // through the endpoint, now the target
    await load.untilAcked(200);
    const update = await longWrite(pair.endpoint, 'update', 20, DATA.tableSize);
    await until(async () => (await sessionsMatching(pair.target, "INFO LIKE 'UPDATE sbtest2 SET pad%'")) === 1, 10_000, 10);
    const f = await switchUnderLoad(pair, load, () => fallBackStep(state), { after: 'source', steadyMs: 300 });
    expect(f.outcome, outcomeText(f)).toMatchObject({ ok: true, result: { ok: true, rolledBack: false } as Partial<FallbackResult> });
    expectNothingLost(f);
    await expectNoTrace(update, [pair.source, pair.target]);
    await expectNothingLeftOn(pair.target);
  });
});

describe('cutover under sysbench: long write statements in flight and a connection storm', () => {
  let pair: SysbenchPair;

  beforeAll(async () => {
    // Every failed transaction is retried at once on a new connection: a storm while writes are blocked.
    pair = await sysbenchPair({ n: 62, threads: 16, data: DATA, load: { rate: RATE, replaceConnectionOn: 'all', retryPauseMs: 0 }, cutover: { catchUpTimeoutSeconds: 10 } });
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('switches with a 20 s UPDATE and a 20 s INSERT ... SELECT running and a session idle under LOCK TABLES ... WRITE: all end, nothing of them kept, nothing lost', async () => {
    await sql(pair.source, 'CREATE TABLE sbtest.report_cache (id INT PRIMARY KEY)');
    // Idle, so not a running statement, yet read_only waits for its table lock.
    const locker = await pair.source.connect();
    locker.on('error', () => undefined);
    await locker.query('LOCK TABLES sbtest.report_cache WRITE');
    const actors = [await longWrite(pair.endpoint, 'update', 20, DATA.tableSize), await longWrite(pair.endpoint, 'insert-select', 20, DATA.tableSize)];
    await until(async () => (await sessionsMatching(pair.source, "INFO LIKE 'UPDATE sbtest2 SET pad%' OR INFO LIKE 'INSERT INTO sbtest_batch%'")) === 2, 10_000, 10);
    const connections = await connectionsTo(pair.source);
    const f = await switchUnderLoad(pair, pair.load, () => invoke<CutoverResult>(cutOver, pair.state), { after: 'target', steadyMs: 300 });
    expect(f.outcome, outcomeText(f)).toMatchObject({ ok: true, result: { ok: true, rolledBack: false } });
    expectNothingLost(f);
    // The clients did storm the blocked source with new connections.
    expect((await connectionsTo(pair.source)) - connections).toBeGreaterThan(2 * 16);
    for (const a of actors) await expectNoTrace(a, [pair.source, pair.target]);
    await expectNothingLeftOn(pair.source);
    await expect(locker.query('SELECT 1')).rejects.toThrow(); // killed
    locker.destroy();
  });
});

describe('cutover under sysbench: a batch transaction that is slow to roll back', () => {
  let pair: SysbenchPair;
  const BATCH_ROWS = 50_000;

  beforeAll(async () => {
    pair = await sysbenchPair({ n: 63, threads: 16, data: DATA, load: { rate: RATE }, cutover: { catchUpTimeoutSeconds: 10 } });
    // Replicated like any application table (it exists on both sides before the batch starts).
    await sql(pair.source, `INSERT INTO sbtest.sbtest_batch (id, k, c, pad) SELECT seq, seq, 'batch', 'batch' FROM sbtest.seq_1_to_${BATCH_ROWS}`);
    await until(async () => Number(await scalar(pair.target, 'SELECT COUNT(*) FROM sbtest.sbtest_batch')) === BATCH_ROWS, 60_000, 200);
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('ends it and lets it roll back before the block, while writes still flow: nothing of it kept, nothing lost', async () => {
    // The batch changed every row and sits idle, uncommitted: killed at the block, its rollback (about as
    // long as the UPDATE took) would keep every write blocked, and past the budget roll the cutover back.
    const batch = await idleBatch(pair, BATCH_ROWS);
    let batchSessionsAtBlock: number | undefined;
    const beforeBlock = async () => void (batchSessionsAtBlock = await sessionsMatching(pair.source, `ID = ${batch.connectionId}`));
    const f = await switchUnderLoad(pair, pair.load, () => cutOverStep(pair.state, { beforeBlock }), { after: 'target', steadyMs: 200 });
    expect(f.outcome, outcomeText(f)).toMatchObject({ ok: true, result: { ok: true, rolledBack: false } });
    expect(batchSessionsAtBlock).toBe(0);
    expectNothingLost(f);
    await expectNoTrace(batch, [pair.source, pair.target]);
    await expectNothingLeftOn(pair.source);
  });
});

/** BEGIN; UPDATE every row of sbtest_batch; nothing more (as the application user, through the endpoint). */
async function idleBatch(pair: SysbenchPair, rows: number): Promise<Actor> {
  const conn = await appConnection(pair.endpoint);
  conn.on('error', () => undefined);
  const marker = 'idle-batch';
  await conn.query('BEGIN');
  const [res] = (await conn.query('UPDATE sbtest_batch SET pad = ?', [marker])) as unknown as [{ affectedRows: number }];
  expect(res.affectedRows).toBe(rows);
  return {
    name: 'idle batch',
    marker,
    connectionId: conn.threadId,
    outcome: async () => {
      const r = await conn.query('COMMIT').then(
        () => ({ ok: true }),
        (e: { errno?: number; message?: string }) => ({ ok: false, errno: e.errno, message: e.message }),
      );
      conn.destroy();
      return r;
    },
  };
}
