// "Clean up (AWS)" after a successful cutover, started by the operator when ready: the RAM share, the
// key policy statements, the replication user's secret, the target admin secret crossmove made, the snapshot path's snapshots, the logical copy's frozen read replica or clone in the source account, the per-migration
// alarms the scheduled lag check created and, only when
// asked, the old source cluster. Each part is idempotent (already gone = `gone`), so cleanup can be run
// again until the report is complete. The database half (replication users, heartbeat and
// switch logs, binlog retention, reverse replication, copy bookkeeping) is shared/cleanup/db.ts.
import type { CleanupReport } from '../state.js';
import { removeMigrationAlarms } from './alarms.js';
import { removeKeyStatement } from './key-statement.js';
import { removeShare } from './ram-share.js';
import { removeReplicationSecret } from './replication-secret.js';
import { removeSnapshots } from './snapshots.js';
import { removeFrozenSource } from './frozen-source.js';
import { removeTargetAdminSecret } from './target-admin-secret.js';
import { assertSourceShutdownAllowed, shutDownSource } from './source-cluster.js';
import type { CleanupState } from './types.js';

export async function cleanupAws(state: CleanupState): Promise<CleanupReport> {
  // Refuse an unsafe request before anything at all is removed.
  assertSourceShutdownAllowed(state);
  const items = [
    await removeShare(state),
    await removeKeyStatement(state),
    await removeReplicationSecret(state),
    await removeTargetAdminSecret(state),
    ...(await removeSnapshots(state)),
    ...(await removeFrozenSource(state)),
    ...(await removeMigrationAlarms(state)),
    // Last: once the source is stopped, nothing else can be undone from it.
    ...(await shutDownSource(state)),
  ];
  return {
    migrationId: state.input.migrationId,
    items,
    complete: items.every((i) => i.outcome !== 'pending' && i.outcome !== 'blocked'),
  };
}
