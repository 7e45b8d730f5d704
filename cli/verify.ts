// `crossmove verify <migrationId>`: the data comparison run again while the target replicates.
// --local <input>: in this process, against the servers the input names (reachable from here); the
// report comes straight from the target's store. Otherwise on AWS: an execution of
// crossmove-verify-<stage> started on the migration's newest state, followed until it ends.
// Exit codes as diff(1): 0 identical, 1 differences, 2 trouble (or not finished).
import type { Command } from 'commander';
import { validateMigrationInput } from '../shared/input/validate.js';
import { configureSfnClient } from '../shared/aws/sfn.js';
import { startVerify, verifyProgress } from '../shared/operations/verify.js';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { redact, redactDeep } from '../shared/redact.js';
import { CrossmoveError } from '../shared/errors.js';
import { formatDiffSummary, type DiffSummary } from '../shared/verify/diff-report.js';
import { checkDiffStep, runDiffLocally } from '../shared/verify/steps.js';
import type { MigrationState } from '../shared/state.js';
import { readInputFile } from './input-file.js';
import { callerIdentity, clientConfig, resolveAws, type AwsOptions } from './operations/aws-options.js';

const VERIFY_HELP = `Compares the data of the source and the target while the target replicates, table by table at ONE
binlog position on both sides (the target's applier is paused for milliseconds at exactly the source's
position), in primary-key chunks hashed the same way on any MySQL-family server: row counts and a SHA1
of every stored column (VIRTUAL generated columns are left out; NULL, '', trailing spaces and the last
digits of FLOAT/DOUBLE all count). Differing chunks are narrowed to their rows: missing on the target,
extra on the target, different (with the columns), each by primary key. Tables without a usable key
are compared as a whole (count and hash) or counted, and said so. Resumable: an interrupted comparison
goes on from its cursor. Exit code 0 identical, 1 differences, 2 trouble or not finished.`;

interface Flags extends AwsOptions {
  local?: string | boolean;
  json?: boolean;
  tables?: string;
  stage?: string;
  stateMachineArn?: string;
  interval?: string;
}

/** Where `run --local` keeps a migration's input (references only), for `verify <id> --local`. */
function savedInputPath(stateDir: string, migrationId: string): string {
  return join(stateDir, migrationId, 'input.json');
}

export function saveInput(stateDir: string, migrationId: string, input: unknown): void {
  mkdirSync(join(stateDir, migrationId), { recursive: true });
  writeFileSync(savedInputPath(stateDir, migrationId), `${JSON.stringify(redactDeep(input), null, 2)}\n`, { mode: 0o600 });
}

const LOCAL_ACCOUNTS = { source: null, target: null, sameAccount: true, sourceRegion: null, targetRegion: null };

async function verifyLocally(migrationId: string, inputPath: string, tables: string[] | undefined, progress: (line: string) => void): Promise<DiffSummary> {
  const input = validateMigrationInput(await readInputFile(inputPath));
  if (input.migrationId !== migrationId) throw new CrossmoveError(`the input ${inputPath} is migration ${input.migrationId}, not ${migrationId}`);
  const state: MigrationState = { input, accounts: LOCAL_ACCOUNTS, verifyRequest: tables?.length ? { tables } : {} };
  const { plan } = await runDiffLocally(state, {
    onRound: (s) => progress(`${s.rowsCompared.toLocaleString('en-US')} rows compared, ${s.rowsPerSec.toLocaleString('en-US')} rows/s, ${s.differences.rows} differing${s.done ? '' : s.etaSeconds !== null ? `, about ${s.etaSeconds} s left` : ''}`),
  });
  // The whole report, not the payload-sized one: every differing table, verify.reportRows rows each.
  return checkDiffStep({ ...state, diffPlan: plan }, { tables: 10_000, rowsPerTable: input.verify.reportRows });
}

async function verifyOnAws(migrationId: string, tables: string[] | undefined, f: Flags, progress: (line: string) => void): Promise<DiffSummary | null> {
  configureSfnClient(clientConfig(f));
  const arn = f.stateMachineArn ?? process.env.CROSSMOVE_STATE_MACHINE_ARN ?? (await defaultArn(f));
  const started = await startVerify(migrationId, arn, tables);
  progress(`comparison started: ${started.executionName} (on the state of ${started.fromRun})`);
  const every = Math.max(1, Number(f.interval) || 10) * 1000;
  for (;;) {
    const p = await verifyProgress(started.executionArn);
    if (p.diff) progress(`${p.diff.rowsCompared.toLocaleString('en-US')} rows compared, ${p.diff.differences.rows} differing${p.diff.done ? '' : p.diff.etaSeconds !== null ? `, about ${p.diff.etaSeconds} s left` : ''}`);
    if (p.status === 'SUCCEEDED') return p.diff;
    if (p.status !== 'RUNNING') throw new CrossmoveError(`the comparison ${started.executionName} ended ${p.status}${p.error ? `: ${p.error}: ${p.cause}` : ''}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

async function defaultArn(f: Flags): Promise<string> {
  const [{ account }, { region }] = await Promise.all([callerIdentity(f), resolveAws(f)]);
  return `arn:aws:states:${region}:${account}:stateMachine:crossmove-migration-${f.stage ?? process.env.CROSSMOVE_STAGE ?? 'dev'}`;
}

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify <migrationId>')
    .description('compare source and target row by row at one binlog position, while replicating (see --help)')
    .addHelpText('after', `\n${VERIFY_HELP}\n`)
    .option('--local [input]', 'run in this process against the servers of this execution input (default: the one `run --local` saved in .crossmove/<id>/)')
    .option('--tables <list>', 'only these tables: schema.table or schema.*, comma-separated')
    .option('--json', 'print the report as one JSON object (progress goes to stderr)', false)
    .option('--profile <name>', 'AWS profile')
    .option('--region <region>', 'AWS region')
    .option('--stage <stage>', 'the deployed stage (default: CROSSMOVE_STAGE or dev)')
    .option('--state-machine-arn <arn>', 'the migration state machine (default: crossmove-migration-<stage>)')
    .option('--interval <seconds>', 'AWS: how often to report progress', '10')
    .action(async (id: string, f: Flags) => {
      const tables = f.tables?.split(',').map((t) => t.trim()).filter(Boolean);
      const progressStream = f.json ? process.stderr : process.stdout;
      const progress = (line: string) => progressStream.write(`${redact(line)}\n`);
      let local = f.local;
      if (local === true) {
        local = savedInputPath(join(process.cwd(), '.crossmove'), id);
        if (!existsSync(local)) throw new CrossmoveError(`no saved input of ${id} at ${local}: give it, crossmove verify ${id} --local <input.yaml> (run --local saves it there)`);
      }
      const summary = typeof local === 'string' ? await verifyLocally(id, local, tables, progress) : await verifyOnAws(id, tables, f, progress);
      if (!summary) throw new CrossmoveError('the comparison ended without a verdict');
      process.stdout.write(f.json ? `${JSON.stringify(summary)}\n` : `${redact(formatDiffSummary(summary))}\n`);
      process.exitCode = !summary.done ? 2 : summary.verdict === 'clean' ? 0 : 1;
    });
}
