// Starting a migration: validate first (a bad input is answered with every offending field, before
// anything runs), refuse a second start while a run is going, otherwise start the next run.
import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { MigrationAlreadyRunningError } from '../errors.js';
import { validateMigrationInput } from '../input/validate.js';
import { logger, logStep } from '../logger.js';
import { runExecutionName, runsOf } from './executions.js';
import { sfnClient } from '../aws/sfn.js';

export interface StartResult {
  migrationId: string;
  executionName: string;
  executionArn: string;
  run: number;
  startedAt: string;
}

export async function startMigration(raw: unknown, stateMachineArn: string): Promise<StartResult> {
  const input = validateMigrationInput(raw);
  const migrationId = input.migrationId;
  const runs = await runsOf(stateMachineArn, migrationId);
  const running = runs.find((r) => r.status === 'RUNNING');
  if (running) throw alreadyRunning(migrationId, running.name, running.startDate);
  const run = (runs[0]?.run ?? 0) + 1;
  const executionName = runExecutionName(input.names.executionName, run);
  logger.appendKeys({ migrationId, executionName });
  logStep('start the migration', { migrationId, executionName, run });
  try {
    const out = await sfnClient().send(
      // The raw input: "Validate the input" validates it again and fills the defaults in the state.
      new StartExecutionCommand({ stateMachineArn, name: executionName, input: JSON.stringify(raw) }),
    );
    return { migrationId, executionName, executionArn: out.executionArn!, run, startedAt: (out.startDate ?? new Date()).toISOString() };
  } catch (err) {
    // Two starts raced for the same run name: the other one won.
    if (err instanceof ExecutionAlreadyExists || (err as Error).name === 'ExecutionAlreadyExists') {
      throw alreadyRunning(migrationId, executionName, undefined);
    }
    throw err;
  }
}

function alreadyRunning(migrationId: string, executionName: string, since: Date | undefined): MigrationAlreadyRunningError {
  return new MigrationAlreadyRunningError(
    `Migration ${migrationId} is already running (execution ${executionName}${since ? `, started ${since.toISOString()}` : ''}); nothing was started. See \`crossmove status ${migrationId}\`.`,
  );
}
