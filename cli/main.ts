// The `crossmove` command: `run --local` (this folder) and the operations commands against the deployed
// service (cli/operations/register.ts).
import { Command } from 'commander';
import { registerOperationsCommands } from './operations/register.js';
import { redact } from '../shared/redact.js';
import { InputValidationError } from '../shared/errors.js';
import { readInputFile } from './input-file.js';
import { askApproval } from './prompt.js';
import { runMigrationLocally } from './run.js';
import { buildPlan, formatPlan } from './plan.js';
import { registerFollowUpCommands } from './follow-up.js';
import { registerVerifyCommand, saveInput } from './verify.js';
import { join } from 'node:path';

export function buildProgram(): Command {
  const program = new Command('crossmove')
    .description('Move a live Aurora MySQL (or any MySQL-compatible) database to another account with seconds of write downtime')
    .showHelpAfterError();

  program
    .command('run')
    .description('run the whole migration in this process (local mode): the state machine with every step bound to its real handler')
    .requiredOption('--local <input>', 'execution input (YAML or JSON, the same schema as on AWS)')
    .option('--auto-approve', 'approve the cutover as soon as the target has caught up', false)
    .option('--json', 'print one JSON report as the last line of stdout (progress goes to stderr)', false)
    .action(async (opts: { local: string; autoApprove: boolean; json: boolean }) => {
      const input = await readInputFile(opts.local);
      // For `crossmove verify <id> --local` while this run replicates or waits at the gate.
      const id = (input as { migrationId?: unknown } | null)?.migrationId;
      if (typeof id === 'string' && /^[a-z0-9-]{1,40}$/.test(id)) saveInput(join(process.cwd(), '.crossmove'), id, input);
      const progress = opts.json ? process.stderr : process.stdout;
      // Ctrl-C: stop after the running step (the cutover's critical section finishes or rolls back itself).
      const aborter = new AbortController();
      const onSigint = () => {
        progress.write('\nstopping after the running step (Ctrl-C again to quit at once)\n');
        process.removeListener('SIGINT', onSigint);
        aborter.abort();
      };
      process.on('SIGINT', onSigint);
      const report = await runMigrationLocally({
        signal: aborter.signal,
        input,
        autoApprove: opts.autoApprove,
        progress,
        tty: Boolean(progress.isTTY),
        ask: (request, signal) => askApproval(request, { input: process.stdin, output: progress }, signal),
        // Saved for `crossmove cleanup|fallback --local` (references only, no secret).
        stateDir: join(process.cwd(), '.crossmove'),
      });
      process.removeListener('SIGINT', onSigint);
      if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else printSummary(report, progress);
      process.exitCode = EXIT_CODES[report.outcome];
    });
  program
    .command('plan <input>')
    .description('validate, run every preflight check read-only, and print each step with what it would create or change (changes nothing)')
    .option('--json', 'print the plan as one JSON object', false)
    .action(async (path: string, opts: { json: boolean }) => {
      const plan = await buildPlan(await readInputFile(path));
      process.stdout.write(opts.json ? `${redact(JSON.stringify(plan))}\n` : `${formatPlan(plan)}\n`);
      process.exitCode = plan.ok ? 0 : 1;
    });
  registerVerifyCommand(program);
  registerFollowUpCommands(program);
  registerOperationsCommands(program);
  return program;
}

/**
 * `run --local` exit codes: 0 migrated; 1 failed (nothing cut over, or rolled back); 2 approval not
 * given; 3 migrated with unfinished steps (the target is the primary: finish, never reopen the source); aborted 1.
 */
export const EXIT_CODES: Record<Awaited<ReturnType<typeof runMigrationLocally>>['outcome'], number> = {
  migrated: 0,
  failed: 1,
  'approval-not-given': 2,
  'migrated-unfinished': 3,
  aborted: 1,
};

function printSummary(report: Awaited<ReturnType<typeof runMigrationLocally>>, out: NodeJS.WritableStream): void {
  const lines: string[] = [];
  if (report.ok) lines.push(`Migration ${report.migrationId} complete in ${(report.elapsedMs / 1000).toFixed(1)} s.`);
  else if (report.outcome === 'migrated-unfinished') {
    // The report's cause is the full text: the target is the primary, each step left and what to do.
    lines.push(`MIGRATED, WITH UNFINISHED STEPS (${report.unfinished.map((u) => u.step).join(', ')}):`, report.cause ?? '');
    if (report.finalStatePath) lines.push(`  final state saved: ${report.finalStatePath} (\`crossmove cleanup|fallback --local ${report.migrationId}\` read it)`);
  } else if (report.outcome === 'approval-not-given') lines.push(`Approval not given: nothing was cut over; replication is left running. ${report.cause ?? ''}`);
  else lines.push(`Migration failed: ${report.error}: ${report.cause ?? ''}`);
  if (report.initialLoad?.rows !== null && report.initialLoad?.rows !== undefined) {
    lines.push(`  initial load: ${report.initialLoad.rows} rows in ${report.initialLoad.tables} tables (${report.phases.initialLoadMs} ms)`);
  }
  if (report.verification) {
    const v = report.verification;
    lines.push(`  comparison: ${v.verdict}, ${v.tablesCompared} tables, ${v.rowsCompared} rows, ${v.rowsPerSec} rows/s${v.verdict === 'differences' ? ` (${v.differences.tables} tables, ${v.differences.rows} rows differ: crossmove verify ${report.migrationId} --local <input> shows them)` : ''}`);
  }
  if (report.lag.samples) lines.push(`  lag (${report.lag.method}): p50 ${report.lag.p50Ms} ms, max ${report.lag.maxMs} ms over ${report.lag.samples} checks`);
  if (report.cutover) {
    lines.push(`  cutover: writes blocked ${report.cutover.writeBlockedMs} ms, ${report.cutover.tablesVerified} tables verified, data ${report.cutover.checksumsMatch === null ? 'not compared' : report.cutover.checksumsMatch ? 'compared clean before the gate' : 'DIFFERED at the comparison (approved anyway)'}`);
  }
  out.write(`${redact(lines.join('\n'))}\n`);
}

export async function main(argv = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    const e = err as Error;
    if (e instanceof InputValidationError) process.stderr.write(`${redact(e.message)}\n`);
    else process.stderr.write(`crossmove: ${redact(e.message)}\n`);
    process.exitCode = 1;
  }
}
