// The operator's actions after a migration, on AWS: cleanup and fallback. Each runs its own state
// machine (statemachine/cleanup.asl.yaml, fallback.asl.yaml) on the final state of the migration's
// newest run that cut over: a successful run's output, or the history of a run that ended "Migrated, with
// unfinished steps" (the payload holds only references, never a secret); a run resumed after the cutover
// on top of the run that cut over (shared/final-state.ts). Execution names derive from the migration id,
// so asking twice while one runs (or after one succeeded) answers with that execution instead of starting
// another.
import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { BadRequestError, MIGRATED_WITH_UNFINISHED_STEPS, MigrationNotFoundError } from '../errors.js';
import { logStep } from '../logger.js';
import { describeExecution, executionArnFor, executionHistory, runsOf, type RunSummary } from './executions.js';
import { digestHistory } from './history-digest.js';
import { onTopOf, resumedAfterCutover } from '../final-state.js';
import { sfnClient } from '../aws/sfn.js';

export type FollowUpKind = 'cleanup' | 'fallback';

export interface FollowUpResult {
  migrationId: string;
  kind: FollowUpKind;
  executionName: string;
  executionArn: string;
  /** true: started now; false: an execution of this action already ran or runs (its status says which). */
  started: boolean;
  status: string;
}

/** crossmove-migration-<stage> -> crossmove-<kind>-<stage> in the same account and region. */
export function followUpStateMachineArn(migrationStateMachineArn: string, kind: FollowUpKind): string {
  return migrationStateMachineArn.replace(/:stateMachine:crossmove-migration-/, `:stateMachine:crossmove-${kind}-`);
}

function followUpExecutionName(migrationId: string, kind: FollowUpKind, attempt: number): string {
  return attempt <= 1 ? `${migrationId}--${kind}` : `${migrationId}--${kind}-${attempt}`;
}

const MAX_ATTEMPTS = 20;

/**
 * The final state of the newest run that took the migration past its point of no return: a run that
 * SUCCEEDED (its output), or one that FAILED as MigratedWithUnfinishedSteps (a Fail state has no output:
 * the newest state in its history, which holds only references, never a secret).
 */
async function newestFinalState(runs: RunSummary[]): Promise<{ run: RunSummary; finalState: Record<string, unknown> } | null> {
  for (const [i, run] of runs.entries()) {
    const finalState = await finalStateOf(run);
    if (!finalState) continue;
    // A run resumed after its cutover holds only what came after it; the rest is in the run that cut over.
    if (!resumedAfterCutover(finalState)) return { run, finalState };
    const earlier = await newestFinalState(runs.slice(i + 1));
    return { run, finalState: earlier ? onTopOf(earlier.finalState, finalState) : finalState };
  }
  return null;
}

async function finalStateOf(run: RunSummary): Promise<Record<string, unknown> | null> {
  if (run.status === 'SUCCEEDED') {
    const out = await describeExecution(run.executionArn);
    return JSON.parse(out.output ?? '{}') as Record<string, unknown>;
  }
  if (run.status !== 'FAILED') return null;
  const out = await describeExecution(run.executionArn);
  if (out.error !== MIGRATED_WITH_UNFINISHED_STEPS) return null;
  return (digestHistory(await executionHistory(run.executionArn), 'FAILED').state as unknown as Record<string, unknown> | null) ?? null;
}

export async function startFollowUp(
  kind: FollowUpKind,
  migrationId: string,
  migrationStateMachineArn: string,
  options: Record<string, unknown> = {},
): Promise<FollowUpResult> {
  const runs = await runsOf(migrationStateMachineArn, migrationId);
  if (!runs.length) throw new MigrationNotFoundError(`No migration ${migrationId} on ${migrationStateMachineArn}`);
  const found = await newestFinalState(runs);
  if (!found) {
    throw new BadRequestError(
      `Migration ${migrationId} has no run that cut over (latest: ${runs[0]!.name} ${runs[0]!.status}): there is nothing to ${kind === 'cleanup' ? 'clean up' : 'fall back from'} yet.`,
    );
  }
  const { run: done, finalState } = found;
  const input = JSON.stringify({ ...finalState, [kind === 'cleanup' ? 'cleanupOptions' : 'fallbackOptions']: options });
  const stateMachineArn = followUpStateMachineArn(migrationStateMachineArn, kind);

  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const executionName = followUpExecutionName(migrationId, kind, attempt);
    const executionArn = executionArnFor(stateMachineArn, executionName);
    const existing = await describeExecution(executionArn).catch((err: Error) => {
      if (err.name === 'ExecutionDoesNotExist') return null;
      throw err;
    });
    // A failed attempt may be retried under the next name; a running or finished one is the answer.
    if (existing && existing.status !== 'FAILED' && existing.status !== 'ABORTED' && existing.status !== 'TIMED_OUT') {
      return { migrationId, kind, executionName, executionArn, started: false, status: existing.status! };
    }
    if (existing) continue;
    logStep(`start the ${kind}`, { migrationId, executionName, fromRun: done.name });
    try {
      const started = await sfnClient().send(new StartExecutionCommand({ stateMachineArn, name: executionName, input }));
      return { migrationId, kind, executionName, executionArn: started.executionArn!, started: true, status: 'RUNNING' };
    } catch (err) {
      if (!(err instanceof ExecutionAlreadyExists) && (err as Error).name !== 'ExecutionAlreadyExists') throw err;
      return { migrationId, kind, executionName, executionArn, started: false, status: 'RUNNING' };
    }
  }
  throw new BadRequestError(`${kind} of ${migrationId} failed ${MAX_ATTEMPTS} times; look at the executions of ${stateMachineArn}`);
}
