// "Prepare the frozen source" for initialLoad.frozenSource kind named-replica: a replica of the source
// that the user names (self-managed MySQL/MariaDB, or any replica crossmove can reach). Its SQL thread is
// stopped, so its data stays exactly what the source held at the executed position it reports
// (Relay_Master_Log_File / Exec_Master_Log_Pos, or the Source names) while the copy reads it for as
// long as it takes; its IO thread keeps fetching, so it catches up quickly once started again. The
// target replicates from the SOURCE from that position. crossmove starts the SQL thread again when
// the copy is done ("Finish the copy") and cleanup does if that never ran; a replica someone else had
// stopped is used as it is and left stopped.
// The same statements as the data comparison's applier (STOP/START SLAVE|REPLICA SQL_THREAD, Aurora's
// rds_stop/start_replication).
import { FrozenSourceError } from '../../errors.js';
import { logStep } from '../../logger.js';
import { q, type Conn } from '../../mysql/connection.js';
import type { Dialect } from '../../mysql/dialect.js';
import { readReplicaStatus, type ReplicaStatus } from '../../mysql/status.js';
import type { BinlogPosition, FrozenFingerprint } from '../../state.js';
import { readFingerprint } from './fingerprint.js';
import { markFrozenResumed, readFrozenRecord, writeFrozenRecord } from './record.js';

export interface NamedReplicaPause {
  position: BinlogPosition;
  fingerprint: FrozenFingerprint;
  pausedByCrossmove: boolean;
}

async function stopSqlThread(conn: Conn, dialect: Dialect): Promise<void> {
  if (dialect.aurora) await q(conn, 'CALL mysql.rds_stop_replication');
  else await q(conn, dialect.engine === 'mysql-8' ? 'STOP REPLICA SQL_THREAD' : 'STOP SLAVE SQL_THREAD');
}

async function startSqlThread(conn: Conn, dialect: Dialect): Promise<void> {
  if (dialect.aurora) await q(conn, 'CALL mysql.rds_start_replication');
  else await q(conn, dialect.engine === 'mysql-8' ? 'START REPLICA SQL_THREAD' : 'START SLAVE SQL_THREAD');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The replica's source server id (Master_Server_Id / Source_Server_Id), to tell it replicates from our source. */
async function sourceServerIdOf(conn: Conn, dialect: Dialect): Promise<number | null> {
  const [row] = await q<Record<string, unknown>>(conn, dialect.statusSql);
  const id = row?.Source_Server_Id ?? row?.Master_Server_Id;
  return id === undefined || id === null || id === '' ? null : Number(id);
}

/**
 * A MySQL 8 replica applying in parallel without keeping the commit order can stop with gaps: later
 * transactions applied, earlier ones not, so no executed position describes its data.
 */
async function assertNoApplierGaps(conn: Conn, dialect: Dialect, where: string): Promise<void> {
  if (dialect.engine !== 'mysql-8') return; // MariaDB's parallel replication commits in order
  const [row] = await q<{ workers: unknown; ordered: unknown }>(conn, 'SELECT @@GLOBAL.replica_parallel_workers AS workers, @@GLOBAL.replica_preserve_commit_order AS ordered').catch(() =>
    q<{ workers: unknown; ordered: unknown }>(conn, 'SELECT @@GLOBAL.slave_parallel_workers AS workers, @@GLOBAL.slave_preserve_commit_order AS ordered'),
  );
  if (Number(row?.workers ?? 0) > 1 && Number(row?.ordered ?? 1) !== 1) {
    throw new FrozenSourceError(
      `initialLoad.frozenSource: the replica ${where} applies with ${row?.workers} parallel workers without replica_preserve_commit_order, so a stopped SQL thread can leave gaps and no position describes its data. Set replica_preserve_commit_order = ON on it (or replica_parallel_workers = 1), then start again.`,
    );
  }
}

/**
 * Pauses the named replica (or finds it paused by an earlier attempt of this migration) and returns
 * the source position its data stands at. `sourceServerId`: the source's @@server_id, which the
 * replica must report as its source's.
 */
export async function pauseNamedReplica(
  replica: Conn,
  dialect: Dialect,
  target: Conn,
  ctx: { migrationId: string; where: { host: string; port: number }; sourceServerId: number | null },
): Promise<NamedReplicaPause> {
  const where = `${ctx.where.host}:${ctx.where.port}`;
  let status = await readReplicaStatus(replica, dialect);
  if (!status?.sourceHost) {
    throw new FrozenSourceError(`initialLoad.frozenSource.endpoint ${where} is not a replica (${dialect.statusSql} is empty): name a replica of the source, or use another frozenSource kind.`);
  }
  const replicaOf = await sourceServerIdOf(replica, dialect);
  if (ctx.sourceServerId !== null && replicaOf !== null && replicaOf !== ctx.sourceServerId) {
    throw new FrozenSourceError(
      `initialLoad.frozenSource.endpoint ${where} replicates from the server with server_id ${replicaOf} (${status.sourceHost}:${status.sourcePort}), not from the source (server_id ${ctx.sourceServerId}): its position would not be a position of the source's binlog. Name a direct replica of the source.`,
    );
  }
  if (status.lastSqlErrno) {
    throw new FrozenSourceError(`The replica ${where} stopped with SQL error ${status.lastSqlErrno} (${status.lastSqlError}): its data is not a consistent point of the source. Fix its replication first.`);
  }
  await assertNoApplierGaps(replica, dialect, where);

  const record = await readFrozenRecord(target, ctx.migrationId);
  const ours = record?.kind === 'named-replica' && record.host === ctx.where.host && record.port === ctx.where.port && !record.resumedAt;
  let pausedByCrossmove: boolean;
  if (status.sqlRunning) {
    logStep('pause the named replica', { replica: where });
    await stopSqlThread(replica, dialect);
    status = await waitStopped(replica, dialect, where);
    pausedByCrossmove = true;
  } else {
    // Stopped by an earlier attempt of this migration (resumed later by crossmove), or by someone else (left as it is).
    pausedByCrossmove = ours ? record!.pausedByCrossmove : false;
  }
  const position = { file: status.execFile!, position: status.execPosition! };
  if (!ours || !samePosition(record!.position, position) || record!.pausedByCrossmove !== pausedByCrossmove) {
    await writeFrozenRecord(target, ctx.migrationId, { kind: 'named-replica', host: ctx.where.host, port: ctx.where.port, position, pausedByCrossmove });
  }
  return { position, fingerprint: await readFingerprint(replica, dialect), pausedByCrossmove };
}

async function waitStopped(replica: Conn, dialect: Dialect, where: string): Promise<ReplicaStatus> {
  for (let i = 0; i < 100; i++) {
    const s = await readReplicaStatus(replica, dialect);
    if (s && !s.sqlRunning && s.execFile) return s;
    await sleep(100);
  }
  throw new FrozenSourceError(`The SQL thread of the replica ${where} did not stop within 10 s.`);
}

const samePosition = (a: BinlogPosition | null, b: BinlogPosition) => !!a && a.file === b.file && a.position === b.position;

/** Starts the SQL thread again if crossmove stopped it and nothing started it since; returns what it did. */
export async function resumeNamedReplica(replica: Conn, dialect: Dialect, target: Conn, migrationId: string, where: string): Promise<'resumed' | 'not-paused-by-crossmove' | 'already-resumed'> {
  const record = await readFrozenRecord(target, migrationId);
  if (record?.kind !== 'named-replica' || !record.pausedByCrossmove) return 'not-paused-by-crossmove';
  if (record.resumedAt) return 'already-resumed';
  const status = await readReplicaStatus(replica, dialect);
  if (status && !status.sqlRunning) {
    logStep('resume the named replica', { replica: where });
    await startSqlThread(replica, dialect);
  }
  await markFrozenResumed(target, migrationId);
  return 'resumed';
}
