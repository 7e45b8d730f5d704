// "Check replication": threads, mapped errors and the lag figures, plus the counters the state machine's
// lag loop needs (consecutive checks under the limit). Permanent errors are thrown as typed errors;
// a source restart (IO thread reconnecting) is reported as not healthy and `reconnecting`.
import { ReplicationBrokenError, TransientError } from '../errors.js';
import type { MigrationInput } from '../input/validate.js';
import type { ReplicationCheck } from '../state.js';
import type { Conn } from './connection.js';
import type { Dialect } from './dialect.js';
import { measureLag } from './lag.js';
import { isReconnecting, replicationError } from './replication-errors.js';
import { readReplicaStatus } from './status.js';
import { purposefulPause } from './pause-lease.js';

export interface CheckOptions {
  /** Wait for the active heartbeat; default: 3 x the lag limit, between 2 and 10 s. */
  activeWaitMs?: number;
  previous?: ReplicationCheck;
  replicationUser?: string;
}

export function defaultActiveWaitMs(input: MigrationInput): number {
  return Math.min(10_000, Math.max(2_000, input.replication.maxLagSeconds * 3000));
}

export async function checkReplication(
  source: Conn | null,
  target: Conn,
  dialect: Dialect,
  input: MigrationInput,
  opts: CheckOptions = {},
): Promise<ReplicationCheck> {
  const status = await readReplicaStatus(target, dialect);
  if (!status) {
    throw new ReplicationBrokenError('No external source is configured on the target: run "Start replication on the target" first.');
  }
  const broken = replicationError(status, { binlogRetentionHours: input.replication.binlogRetentionHours, replicationUser: opts.replicationUser });
  if (broken) throw broken;
  const reconnecting = isReconnecting(status);
  const healthy = status.ioRunning && status.sqlRunning;
  if (!healthy && !reconnecting) {
    const pause = await purposefulPause(target, input.migrationId, status);
    if (pause === 'live') throw new TransientError('Replication is paused for a moment by the data comparison (a sync point); checking again');
    if (pause === 'dead') {
      throw new ReplicationBrokenError(
        'Replication on the target was paused by a data comparison that did not finish its sync point. Run the comparison again (crossmove verify; its first worker resumes replication) or start replication by hand (START SLAVE / CALL mysql.rds_start_replication).',
      );
    }
    throw new ReplicationBrokenError(
      `Replication on the target is stopped (IO thread ${status.ioState}, SQL thread ${status.sqlRunning ? 'Yes' : 'No'}) without an error: someone stopped it. Start it again (START SLAVE / CALL mysql.rds_start_replication) and re-run the migration.`,
    );
  }
  const lag =
    healthy && source
      ? await measureLag(source, target, status, { heartbeatSchema: input.names.heartbeatSchema, activeWaitMs: opts.activeWaitMs ?? defaultActiveWaitMs(input) })
      : { heartbeatLagMs: null, byteLag: null, secondsBehind: status.secondsBehind };
  const underLimit = healthy && lag.heartbeatLagMs !== null && lag.heartbeatLagMs <= input.replication.maxLagSeconds * 1000;
  const consecutiveUnderLimit = underLimit ? (opts.previous?.consecutiveUnderLimit ?? 0) + 1 : 0;
  return {
    ...lag,
    ioRunning: status.ioRunning,
    sqlRunning: status.sqlRunning,
    healthy,
    underLimit,
    consecutiveUnderLimit,
    caughtUp: consecutiveUnderLimit >= input.replication.requiredConsecutiveChecks,
    checkedAt: new Date().toISOString(),
    attempts: (opts.previous?.attempts ?? 0) + 1,
    ...(reconnecting ? { reconnecting: true } : {}),
  };
}
