// Read-only inspection of a migration's executions. A migration's first run is named after its id
// (input.names.executionName); Step Functions keeps names of Standard executions for 90 days, so a
// re-run after a failed or rejected run is named `<id>--r2`, `<id>--r3`... ("--" cannot occur in a
// migrationId, so the suffix is never ambiguous).
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionListItem,
  type ExecutionStatus,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { MigrationNotFoundError } from '../errors.js';
import { sfnClient } from '../aws/sfn.js';

/** The error of every operation on a migration id that has no run on this stack. */
export function notFound(migrationId: string): MigrationNotFoundError {
  return new MigrationNotFoundError(
    `No migration "${migrationId}" was started on this stack. Check the id (\`crossmove list\` shows them) or start it with \`crossmove start <input>\`.`,
  );
}

const RUN_SUFFIX = /^(.+)--r(\d+)$/;

export function runExecutionName(executionName: string, run: number): string {
  return run <= 1 ? executionName : `${executionName}--r${run}`;
}

/** The migration id and run number an execution name belongs to. */
export function parseExecutionName(name: string): { migrationId: string; run: number } {
  const m = RUN_SUFFIX.exec(name);
  return m ? { migrationId: m[1]!, run: Number(m[2]) } : { migrationId: name, run: 1 };
}

export function executionArnFor(stateMachineArn: string, executionName: string): string {
  const parts = stateMachineArn.split(':');
  // arn:aws:states:REGION:ACCOUNT:stateMachine:NAME -> arn:aws:states:REGION:ACCOUNT:execution:NAME:EXEC
  return [...parts.slice(0, 5), 'execution', parts[6], executionName].join(':');
}

export interface RunSummary {
  name: string;
  executionArn: string;
  migrationId: string;
  run: number;
  status: ExecutionStatus | string;
  startDate?: Date;
  stopDate?: Date;
}

function summary(e: ExecutionListItem): RunSummary {
  const { migrationId, run } = parseExecutionName(e.name!);
  return { name: e.name!, executionArn: e.executionArn!, migrationId, run, status: e.status!, startDate: e.startDate, stopDate: e.stopDate };
}

/** Every execution of the state machine (newest first), optionally only the running ones. */
export async function listRuns(stateMachineArn: string, statusFilter?: ExecutionStatus): Promise<RunSummary[]> {
  const runs: RunSummary[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfnClient().send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter, maxResults: 1000, nextToken }),
    );
    runs.push(...(page.executions ?? []).map(summary));
    nextToken = page.nextToken;
  } while (nextToken);
  return runs.sort((a, b) => (b.startDate?.getTime() ?? 0) - (a.startDate?.getTime() ?? 0));
}

/** The runs of one migration, latest (highest run number) first. */
export async function runsOf(stateMachineArn: string, migrationId: string): Promise<RunSummary[]> {
  const runs = (await listRuns(stateMachineArn)).filter((r) => r.migrationId === migrationId);
  return runs.sort((a, b) => b.run - a.run);
}

export async function describeExecution(executionArn: string): Promise<DescribeExecutionCommandOutput> {
  return sfnClient().send(new DescribeExecutionCommand({ executionArn }));
}

/** The whole history, oldest first (a migration's parent execution stays far below 25,000 events). */
export async function executionHistory(executionArn: string, options: { newestFirst?: boolean; limit?: number } = {}): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfnClient().send(
      new GetExecutionHistoryCommand({
        executionArn,
        includeExecutionData: true,
        reverseOrder: options.newestFirst ?? false,
        maxResults: Math.min(options.limit ?? 1000, 1000),
        nextToken,
      }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken && (options.limit === undefined || events.length < options.limit));
  return events;
}
