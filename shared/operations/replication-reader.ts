// The scheduled lag check's reader of one migration's replication, built from the MySQL side's
// inspection functions. Unlike the "Check replication" step it never throws for a broken replica: a
// stopped thread or a replication error IS the finding (it becomes a notification and a 0 metric).
// An IO thread that is only reconnecting (source restart) is "try again next minute".
import { TransientError } from '../errors.js';
import { defaultActiveWaitMs } from '../mysql/check.js';
import { measureLag } from '../mysql/lag.js';
import { isReconnecting, replicationError } from '../mysql/replication-errors.js';
import { readReplicaStatus } from '../mysql/status.js';
import { purposefulPause } from '../mysql/pause-lease.js';
import { withSides } from '../mysql/steps/sides.js';
import { redact } from '../redact.js';
import type { MigrationState } from '../state.js';
import type { ReplicationSample } from './lag-rules.js';

export async function readReplicationSample(state: MigrationState): Promise<ReplicationSample> {
  return withSides(state, { target: true, source: true }, async ({ source, target }) => {
    const status = await readReplicaStatus(target!.conn, target!.dialect);
    if (!status) {
      return { heartbeatLagMs: null, byteLag: null, secondsBehind: null, ioRunning: false, sqlRunning: false, lastError: 'No external source is configured on the target' };
    }
    const error = replicationError(status, {
      binlogRetentionHours: state.input.replication.binlogRetentionHours,
      replicationUser: state.replicationUser?.userName,
    });
    if (!error && isReconnecting(status)) {
      throw new TransientError('The target is reconnecting to the source (source restarting or unreachable); checking again next minute');
    }
    if (!error && (await purposefulPause(target!.conn, state.input.migrationId, status)) === 'live') {
      throw new TransientError('Replication is paused for a moment by the data comparison (a sync point); checking again next minute');
    }
    const running = status.ioRunning && status.sqlRunning && !error;
    const lag = running
      ? await measureLag(source!.conn, target!.conn, status, { heartbeatSchema: state.input.names.heartbeatSchema, activeWaitMs: defaultActiveWaitMs(state.input) })
      : { heartbeatLagMs: null, byteLag: null, secondsBehind: status.secondsBehind };
    const ioRunning = status.ioRunning && !(error && status.lastIoErrno);
    let sqlRunning = status.sqlRunning && !(error && status.lastSqlErrno);
    // An error the thread flags do not show (yet) still means replication is broken.
    if (error && ioRunning && sqlRunning) sqlRunning = false;
    return { ...lag, ioRunning, sqlRunning, lastError: error ? redact(error.message) : null };
  });
}
