// The scheduled lag check (EventBridge, every minute): for every running migration that is
// replicating or waiting for approval, read replication on the target, publish the metrics, keep the
// per-migration memory in the approval table and send the notifications the rules call for.
// The reader is injected: on AWS it is the MySQL side's replication check; tests give their own.
import pLimit from 'p-limit';
import { logger } from '../logger.js';
import { ensureMigrationAlarms } from '../metrics/alarms.js';
import { publishLagMetrics } from '../metrics/publish.js';
import type { MigrationState } from '../state.js';
import type { ApprovalTable } from '../approval/table.js';
import { executionHistory, listRuns } from './executions.js';
import { digestHistory, type Phase } from './history-digest.js';
import { evaluateWatch, type ReplicationSample } from './lag-rules.js';
import { publishNotification } from '../notify/publish.js';

type ReplicationReader = (state: MigrationState) => Promise<ReplicationSample>;

export interface LagWatchDeps {
  stateMachineArn: string;
  table: ApprovalTable;
  reader: ReplicationReader;
  namespace: string;
  topicArn: string | null;
  lagAlertMinutes: number;
  /** Create the per-migration CloudWatch alarms the first time a migration is seen replicating. */
  createAlarms?: boolean;
  alarmPrefix?: string;
  now?: () => Date;
}

export interface WatchOutcome {
  migrationId: string;
  executionName: string;
  checked: boolean;
  /** Why the migration was not checked (not replicating yet, already past the cutover). */
  skipped?: string;
  sample?: ReplicationSample;
  metrics?: number;
  notifications?: string[];
  error?: string;
}

const WATCHED_PHASES: Phase[] = ['replicating', 'awaiting-approval'];

export async function runLagWatch(deps: LagWatchDeps): Promise<WatchOutcome[]> {
  const runs = await listRuns(deps.stateMachineArn, 'RUNNING');
  // A few at a time: each check opens a database connection.
  const limit = pLimit(4);
  return Promise.all(runs.map((run) => limit(() => watchOne(run.executionArn, run.name, deps))));
}

async function watchOne(executionArn: string, executionName: string, deps: LagWatchDeps): Promise<WatchOutcome> {
  const digest = digestHistory(await executionHistory(executionArn), 'RUNNING');
  const migrationId = digest.state?.input.migrationId ?? executionName;
  const outcome: WatchOutcome = { migrationId, executionName, checked: false };
  if (!WATCHED_PHASES.includes(digest.phase)) return { ...outcome, skipped: `phase ${digest.phase}` };
  const state = digest.state;
  if (!state?.replication) return { ...outcome, skipped: 'replication not started yet' };

  let sample: ReplicationSample;
  try {
    sample = await deps.reader(state);
  } catch (err) {
    // Cannot reach the target this minute: say so, keep the memory as it is (no false "broken").
    const e = err as Error;
    logger.warn('lag check could not read replication', { migrationId, executionName, errorName: e.name, errorMessage: e.message });
    return { ...outcome, error: `${e.name}: ${e.message}` };
  }
  const now = (deps.now ?? (() => new Date()))();
  const metrics = await publishLagMetrics(deps.namespace, migrationId, sample, now);
  const { next, notifications } = evaluateWatch(await deps.table.watch(migrationId), sample, {
    migrationId,
    executionName,
    maxLagSeconds: state.input.replication.maxLagSeconds,
    lagAlertMinutes: deps.lagAlertMinutes,
    now,
  });
  if (deps.createAlarms && !next.alarmsCreated) {
    await ensureMigrationAlarms({
      namespace: deps.namespace,
      migrationId,
      maxLagSeconds: state.input.replication.maxLagSeconds,
      lagAlertMinutes: deps.lagAlertMinutes,
      topicArn: deps.topicArn,
      prefix: deps.alarmPrefix,
    });
    next.alarmsCreated = true;
  }
  for (const n of notifications) await publishNotification([deps.topicArn, state.input.notify?.topicArn], n);
  await deps.table.putWatch(migrationId, next);
  logger.info('lag checked', { migrationId, executionName, ...sample, notifications: notifications.map((n) => n.kind) });
  return { ...outcome, checked: true, sample, metrics, notifications: notifications.map((n) => n.kind) };
}
