// "Check the copy" after every round of chunk workers: the copy job's progress from the cursor store
// (rows, bytes, ranges, rate, ETA; the truth for status, the API and the dashboard), published as
// CloudWatch metrics on AWS; and "Explain the failed copy round": the error a worker recorded.
import { PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { cloudWatchClient } from '../../aws/cloudwatch.js';
import { closeQuietly, openConnection } from '../../mysql/connection.js';
import type { CopyProgressState, FailureInfo, MigrationState } from '../../state.js';
import { COPY_JOB, openStore } from '../copy-job.js';
import { latestCopyFailure } from '../copy-failures.js';
import { copyProgressOf } from '../progress.js';
import { targetSide, type CopyState } from './sides.js';

export async function checkCopyStep(state: CopyState & Partial<Pick<MigrationState, 'copy'>>): Promise<CopyProgressState> {
  const target = await targetSide(state);
  const conn = await openConnection(target.endpoint, target.credentials);
  try {
    const store = await openStore(conn, state.input.migrationId);
    const p = await store.progress(COPY_JOB);
    const tables = await store.tableProgress(COPY_JOB);
    const before = state.copy;
    const copy: CopyProgressState = {
      job: COPY_JOB,
      rangesTotal: p.rangesTotal,
      rangesDone: p.rangesDone,
      rows: p.rows,
      bytes: p.bytes,
      estimatedRows: p.estimatedRows,
      rowsPerSec: p.rowsPerSec,
      etaSeconds: p.etaSeconds,
      chunksCopiedTwice: p.chunksCopiedTwice,
      done: p.done,
      idle: !p.done && !!before && before.rows === p.rows && before.rangesDone === p.rangesDone,
      checkedAt: new Date().toISOString(),
    };
    copyProgressOf(state.input.migrationId).setStore({ ...tables, chunksDone: p.rangesDone, chunksTotal: p.rangesTotal, rows: p.rows, bytes: p.bytes, estimatedRows: p.estimatedRows });
    await publishCopyMetrics(state.input.migrationId, copy);
    return copy;
  } finally {
    await closeQuietly(conn);
  }
}

const COPY_METRICS = { rows: 'CopyRows', bytes: 'CopyBytes', rate: 'CopyRowsPerSecond', chunksLeft: 'CopyChunksLeft', eta: 'CopyEtaSeconds' } as const;

function copyMetricData(migrationId: string, c: CopyProgressState, at: Date): MetricDatum[] {
  const d = [{ Name: 'MigrationId', Value: migrationId }];
  const figures: [string, number | null, MetricDatum['Unit']][] = [
    [COPY_METRICS.rows, c.rows, 'Count'],
    [COPY_METRICS.bytes, c.bytes, 'Bytes'],
    [COPY_METRICS.rate, c.rowsPerSec, 'Count/Second'],
    [COPY_METRICS.chunksLeft, c.rangesTotal - c.rangesDone, 'Count'],
    [COPY_METRICS.eta, c.etaSeconds, 'Seconds'],
  ];
  return figures.filter(([, v]) => v !== null && Number.isFinite(v)).map(([MetricName, Value, Unit]) => ({ MetricName, Value: Value!, Unit, Timestamp: at, Dimensions: d }));
}

/** On AWS (the stack sets CROSSMOVE_METRICS_NAMESPACE): the dashboard's copy graphs. Locally: nothing to publish to. */
async function publishCopyMetrics(migrationId: string, c: CopyProgressState): Promise<void> {
  const namespace = process.env.CROSSMOVE_METRICS_NAMESPACE;
  if (!namespace) return;
  await cloudWatchClient().send(new PutMetricDataCommand({ Namespace: namespace, MetricData: copyMetricData(migrationId, c, new Date()) }));
}

/** Fails with the error a worker of this window recorded, else with the Map's own. */
export async function explainCopyFailure(event: CopyState & { failure: FailureInfo; since: string }): Promise<never> {
  const target = await targetSide(event);
  const conn = await openConnection(target.endpoint, target.credentials);
  try {
    const recorded = await latestCopyFailure(conn, event.input.migrationId, event.since);
    const err = new Error(recorded ? `worker ${recorded.worker}: ${recorded.message}` : event.failure.Cause);
    err.name = recorded?.error ?? event.failure.Error;
    throw err;
  } finally {
    await closeQuietly(conn);
  }
}
