// `crossmove verify <migrationId>` on AWS: runs the data comparison again while the target replicates,
// as its own execution of crossmove-verify-<stage> (statemachine/verify.asl.yaml), on the newest state of
// the migration's latest run (references only: the payload holds no secret). The execution plans its
// own job (or resumes an unfinished on-demand one with the same tables), so asking again after an
// interruption goes on from the cursor.
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { BadRequestError } from '../errors.js';
import { logStep } from '../logger.js';
import type { DiffSummary } from '../verify/diff-report.js';
import { describeExecution, executionHistory, notFound, runsOf } from './executions.js';
import { digestHistory, newestDiffCheck } from './history-digest.js';
import { sfnClient } from '../aws/sfn.js';

function verifyStateMachineArn(migrationStateMachineArn: string): string {
  return migrationStateMachineArn.replace(/:stateMachine:crossmove-migration-/, ':stateMachine:crossmove-verify-');
}

export interface VerifyStarted {
  migrationId: string;
  executionName: string;
  executionArn: string;
  fromRun: string;
}

export async function startVerify(migrationId: string, migrationStateMachineArn: string, tables: string[] | undefined, now = new Date()): Promise<VerifyStarted> {
  const [latest] = await runsOf(migrationStateMachineArn, migrationId);
  if (!latest) throw notFound(migrationId);
  const digest = digestHistory(await executionHistory(latest.executionArn), latest.status);
  const state = digest.state as Record<string, unknown> | null;
  if (!state) throw new BadRequestError(`The run ${latest.name} of ${migrationId} has no state yet (it has not validated its input): nothing to compare.`);
  if (state.cutover) {
    throw new BadRequestError(`Migration ${migrationId} has cut over (run ${latest.name}): the comparison runs while the target replicates from the source, before the cutover.`);
  }
  if (!state.replication) throw new BadRequestError(`Migration ${migrationId} is not replicating yet (run ${latest.name} is in ${digest.currentState ?? 'an early state'}): compare once "Start replication on the target" has run.`);
  // Without the gate's plan and verdict: this execution plans (or resumes) an on-demand job.
  const { diffPlan: _plan, diff: _diff, diffWindow: _w, diffWindows: _ws, window: _r, failure: _f, ...rest } = state;
  const input = JSON.stringify({ ...rest, verifyRequest: tables?.length ? { tables } : {} });
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const executionName = `${migrationId}--verify-${stamp}`;
  logStep('start an on-demand comparison', { migrationId, executionName, fromRun: latest.name, tables: tables ?? 'all' });
  const started = await sfnClient().send(new StartExecutionCommand({ stateMachineArn: verifyStateMachineArn(migrationStateMachineArn), name: executionName, input }));
  return { migrationId, executionName, executionArn: started.executionArn!, fromRun: latest.name };
}

export interface VerifyProgress {
  status: string;
  diff: DiffSummary | null;
  error?: string;
  cause?: string;
}

/** The comparison execution now: its status and newest check (its output's verdict once it ended). */
export async function verifyProgress(executionArn: string): Promise<VerifyProgress> {
  const described = await describeExecution(executionArn);
  if (described.status === 'SUCCEEDED') {
    const out = JSON.parse(described.output ?? '{}') as { diff?: DiffSummary };
    return { status: 'SUCCEEDED', diff: out.diff ?? null };
  }
  const diff = newestDiffCheck(await executionHistory(executionArn, { newestFirst: true, limit: 100 }));
  return { status: described.status ?? 'UNKNOWN', diff, ...(described.error ? { error: described.error, cause: described.cause ?? '' } : {}) };
}
