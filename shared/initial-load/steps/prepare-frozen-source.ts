// "Prepare the frozen source" and "Check the frozen source" (polled until done): the source the copy
// reads and the source binlog position its data stands at (frozen-source/choose.ts says which).
//   live           nothing to prepare: the copy's snapshot gives the position later
//   named-replica  its SQL thread stopped now (frozen-source/named-replica.ts)
//   rds-replica    a read replica made, then stopped once available (frozen-source/rds-replica.ts)
//   source-clone   an Aurora clone made, then its crash-recovery position read (frozen-source/source-clone.ts)
// Idempotent: a replica or clone this migration made, or a replica it paused, is found and reused.
import { FrozenSourceError } from '../../errors.js';
import { logStep } from '../../logger.js';
import { closeQuietly, openConnection, q, type Conn } from '../../mysql/connection.js';
import { resolveDialect } from '../../mysql/dialect.js';
import { readCredentials } from '../../secrets.js';
import { MARKER_SCHEMA, SYSTEM_SCHEMAS } from '../inspect.js';
import { sourceAdminCredentials, targetAdminCredentials } from '../../db-credentials.js';
import { sourceEndpoint, targetEndpoint } from '../../endpoints.js';
import type { FrozenSourceState } from '../../state.js';
import { assertPositionOnSource } from '../frozen-source/position.js';
import { chooseFrozenSource } from '../frozen-source/choose.js';
import { pauseNamedReplica } from '../frozen-source/named-replica.js';
import { checkRdsReplica, prepareRdsReplica } from '../frozen-source/rds-replica.js';
import { checkSourceClone, prepareSourceClone } from '../frozen-source/source-clone.js';
import type { CopyState } from './sides.js';

/** Running in a Lambda (every round a new invocation) rather than in one local process. */
export const onAws = () => Boolean(process.env.AWS_LAMBDA_FUNCTION_NAME);

/** Bytes of the schemas the copy moves, by the source's statistics. */
async function copiedBytes(conn: Conn, schemas: string[] | undefined): Promise<number> {
  const excluded = [...SYSTEM_SCHEMAS, MARKER_SCHEMA];
  const [row] = await q<{ b: unknown }>(
    conn,
    schemas?.length
      ? "SELECT COALESCE(SUM(DATA_LENGTH), 0) AS b FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA IN (?)"
      : "SELECT COALESCE(SUM(DATA_LENGTH), 0) AS b FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN (?)",
    [schemas?.length ? schemas : excluded],
  );
  return Number(row?.b ?? 0);
}

export async function prepareFrozenSourceStep(state: CopyState): Promise<FrozenSourceState> {
  const { input } = state;
  const sourceEp = sourceEndpoint(state);
  let source: Conn | undefined;
  try {
    source = await openConnection(sourceEp, await sourceAdminCredentials(state));
    const choice = chooseFrozenSource(input, await copiedBytes(source, input.initialLoad.schemas), onAws());
    if (!choice.kind) throw new FrozenSourceError(choice.reason);
    logStep('Prepare the frozen source', { kind: choice.kind, reason: choice.reason });
    const base = { done: true, attempts: 1, kind: choice.kind, fingerprint: null };
    switch (choice.kind) {
      case 'live':
        return { ...base, status: 'live source, one snapshot', endpoint: sourceEp, position: null };
      case 'named-replica':
        return await pauseReplica(state, source);
      case 'rds-replica':
        return await prepareRdsReplica(state);
      case 'source-clone':
        return await prepareSourceClone(state);
    }
  } finally {
    await closeQuietly(source);
  }
}

export async function checkFrozenSourceStep(state: CopyState & { frozenSource: FrozenSourceState }): Promise<FrozenSourceState> {
  const f = state.frozenSource;
  const attempts = f.attempts + 1;
  if (f.done) return { ...f, attempts };
  if (f.kind === 'rds-replica') return checkRdsReplica(state, attempts);
  if (f.kind === 'source-clone') return checkSourceClone(state, attempts);
  return { ...f, attempts };
}

async function pauseReplica(state: CopyState, source: Conn): Promise<FrozenSourceState> {
  const f = state.input.initialLoad.frozenSource;
  const where = f.endpoint!;
  const replica = await openConnection(where, await (f.adminSecret ? readCredentials(f.adminSecret) : sourceAdminCredentials(state)));
  const target = await openConnection(targetEndpoint(state), await targetAdminCredentials(state));
  try {
    const dialect = await resolveDialect(replica, f.engine);
    const [row] = await q<{ id: unknown }>(source, 'SELECT @@server_id AS id');
    const paused = await pauseNamedReplica(replica, dialect, target, {
      migrationId: state.input.migrationId,
      where: { host: where.host, port: where.port },
      sourceServerId: row ? Number(row.id) : null,
    });
    await assertPositionOnSource(source, paused.position, `The named replica ${where.host}:${where.port}`);
    return {
      done: true,
      attempts: 1,
      status: paused.pausedByCrossmove ? 'paused by crossmove' : 'stopped before crossmove (left stopped)',
      kind: 'named-replica',
      endpoint: { host: where.host, port: where.port },
      position: paused.position,
      fingerprint: paused.fingerprint,
      pausedByCrossmove: paused.pausedByCrossmove,
    };
  } finally {
    await closeQuietly(replica);
    await closeQuietly(target);
  }
}
