// "Clean up (databases)": the database half of the cleanup after a successful cutover (cleanup-aws is
// the AWS half). Reverse replication on the old source is stopped and forgotten, the replication
// users and their secrets removed, crossmove's heartbeat/cutover/fallback tables dropped on both sides,
// the logical copy's bookkeeping schema (crossmove_load) dropped, and binlog retention put back if
// crossmove raised it. After a fallback the source's fallback_log stays (it says the source is the
// primary again) and stopping or deleting the source is refused. Every part is idempotent: what is already gone
// is reported as `gone`. Refused (nothing changed) while forward replication still runs: that is a
// migration that has not cut over, and dropping its user would break it.
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CleanupRefusedError } from '../errors.js';
import type { CleanupReport, MigrationState } from '../state.js';
import { closeQuietly, type Conn } from '../mysql/connection.js';
import { reverseUserName } from '../mysql/replication-user.js';
import { readReplicaStatus } from '../mysql/status.js';
import { openSource, openTarget, type Side } from '../mysql/steps/sides.js';
import { dropCrossmoveObjects } from './db-objects.js';
import { dropCopyBookkeeping } from './db-copy-bookkeeping.js';
import { FALLBACK_TABLE, readFallbackMarker } from '../mysql/switch-log.js';
import { dropReplicationUser, removeReverseReplication } from './db-replication.js';
import { resetRetention } from './db-retention.js';
import { removeReplicationSecrets } from './db-secrets.js';
import type { CleanupState } from './types.js';

export type DbCleanupState = CleanupState & Partial<Pick<MigrationState, 'reverse' | 'binlogs' | 'clone'>>;

async function assertNotReplicatingForward(target: Side, userName: string): Promise<void> {
  const status = await readReplicaStatus(target.conn, target.dialect);
  if (status && status.sourceUser === userName) {
    throw new CleanupRefusedError(
      `Cleanup refused, nothing was changed: the target still replicates from the source (${status.sourceHost}:${status.sourcePort} as ${userName}, IO thread ${status.ioState}). The migration has not cut over; finish or abandon it (stop and reset replication on the target) first.`,
    );
  }
}

const FALLBACK_RECORD_KEPT = 'it records that this migration fell back (the source is the primary again), so that no later cleanup stops or deletes the source';

/**
 * After a fallback the old source is the primary again: stopping or deleting it would take the
 * application down, so that is refused before anything changes (whatever cleanupOptions say). A
 * fallback that has not finished is finished first (`crossmove fallback` again). Returns whether the
 * migration fell back.
 */
async function assertFallbackAllowsCleanup(source: Conn, schema: string, state: DbCleanupState): Promise<boolean> {
  const marker = await readFallbackMarker(source, schema, state.input.migrationId);
  if (!marker || marker.phase === 'rolled-back') return false;
  if (marker.phase !== 'done') {
    throw new CleanupRefusedError(
      `Cleanup refused, nothing was changed: the fallback of ${state.input.migrationId} has not finished (phase ${marker.phase}). Run \`crossmove fallback\` again to finish it, then cleanup.`,
    );
  }
  const wanted = state.cleanupOptions?.sourceCluster ?? 'keep';
  if (wanted !== 'keep') {
    throw new CleanupRefusedError(
      `Cleanup refused, nothing was changed: cleanupOptions.sourceCluster ${wanted}, but ${state.input.migrationId} fell back and the source is the primary again; stopping or deleting it would stop the application. Run cleanup with sourceCluster keep (the default).`,
    );
  }
  return true;
}

export async function cleanupDatabases(state: DbCleanupState, opts: { secretsManager?: SecretsManagerClient } = {}): Promise<CleanupReport> {
  const { input } = state;
  const userName = input.replication.userName;
  const reverseUser = reverseUserName(userName);
  const schema = input.names.heartbeatSchema;
  const full = state as MigrationState;
  let source: Side | null = null;
  let target: Side | null = null;
  try {
    target = await openTarget(full);
    source = await openSource(full);
    await assertNotReplicatingForward(target, userName);
    const fellBack = await assertFallbackAllowsCleanup(source.conn, schema, state);
    const s: Conn = source.conn;
    const t: Conn = target.conn;
    const items = [
      // First: once it is stopped, nothing done on the target below reaches the source.
      await removeReverseReplication(s, source.dialect, reverseUser),
      // Each user was made on one side, but replication may have carried its CREATE USER to the other
      // (MySQL/MariaDB replicate DCL; Aurora MySQL 3 may not): both sides are checked.
      await dropReplicationUser(s, 'replication-user', userName, 'source'),
      await dropReplicationUser(t, 'replication-user', userName, 'target'),
      await dropReplicationUser(t, 'reverse-replication-user', reverseUser, 'target'),
      await dropReplicationUser(s, 'reverse-replication-user', reverseUser, 'source'),
      ...(await removeReplicationSecrets(state, opts.secretsManager)),
      await dropCrossmoveObjects(t, schema, 'target'),
      await dropCrossmoveObjects(s, schema, 'source', fellBack ? { tables: [FALLBACK_TABLE], why: FALLBACK_RECORD_KEPT } : undefined),
      await dropCopyBookkeeping(t, input.migrationId, 'target'),
      await dropCopyBookkeeping(s, input.migrationId, 'source'),
      await resetRetention(s, source.dialect, state.binlogs),
    ];
    return { migrationId: input.migrationId, items, complete: items.every((i) => i.outcome !== 'pending' && i.outcome !== 'blocked') };
  } finally {
    await closeQuietly(source?.conn);
    await closeQuietly(target?.conn);
  }
}
