// Adds start/status/approve/reject/list to the `crossmove` commander program (cli/main.ts calls
// registerOperationsCommands(program)). Exit codes: 0 done, 1 the service said no, 2 bad usage.
import type { Command } from 'commander';
import { approveCommand, listCommand, rejectCommand, startCommand, statusCommand } from './commands.js';

interface Flags {
  profile?: string;
  region?: string;
  apiUrl?: string;
  stage?: string;
  stateMachineArn?: string;
  table?: string;
  json?: boolean;
}

function withCommon(cmd: Command): Command {
  return cmd
    .option('--profile <name>', 'AWS profile (default: the usual AWS_PROFILE / credential chain)')
    .option('--region <region>', 'AWS region (default: AWS_REGION or the profile\'s)')
    .option('--api-url <url>', 'the deployed API (stack output HttpApiUrl; or CROSSMOVE_API_URL); without it, Step Functions directly')
    .option('--stage <stage>', 'direct mode: the stage whose state machine and approval table to use (default: CROSSMOVE_STAGE or dev)')
    .option('--state-machine-arn <arn>', 'direct mode: the migration state machine (default: crossmove-migration-<stage>)')
    .option('--table <name>', 'direct mode: the approval table (default: crossmove-approvals-<stage>)')
    .option('--json', 'print JSON');
}

const exit = (code: number) => {
  process.exitCode = code;
};

export function registerOperationsCommands(program: Command): void {
  withCommon(program.command('start <input>').description('start a migration on AWS (validates first; refuses a second start while it runs)')).action(
    async (input: string, f: Flags) => exit(await startCommand(input, f)),
  );
  withCommon(program.command('status <migrationId>').description('phase, current state, lag, replication health, approval, phases'))
    .option('--watch', 'keep refreshing until the migration ends')
    .option('--interval <seconds>', 'refresh interval with --watch', '10')
    .action(async (id: string, f: Flags & { watch?: boolean; interval: string }) =>
      exit(await statusCommand(id, { ...f, intervalSeconds: Math.max(1, Number(f.interval) || 10) })),
    );
  withCommon(program.command('approve <migrationId>').description('approve the cutover the migration waits for'))
    .option('--reason <text>', 'recorded with the approval')
    .action(async (id: string, f: Flags & { reason?: string }) => exit(await approveCommand(id, f)));
  withCommon(program.command('reject <migrationId>').description('reject the cutover (nothing is cut over; replication keeps running)'))
    .option('--reason <text>', 'why (required)')
    .action(async (id: string, f: Flags & { reason?: string }) => exit(await rejectCommand(id, f)));
  withCommon(program.command('list').description('migrations on the stack with their latest run'))
    .option('--status <status>', 'RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED')
    .action(async (f: Flags & { status?: string }) => exit(await listCommand(f)));
}
