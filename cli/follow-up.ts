// `crossmove cleanup` and `crossmove fallback`: the operator's actions once a migration has cut over.
// Locally (--local) they run statemachine/cleanup.asl.yaml / fallback.asl.yaml in this process on the
// final state `crossmove run --local` saved; on AWS they start those state machines on the final state
// of the migration's newest run that cut over (shared/operations/follow-up.ts).
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { runStateMachineLocally, type RunResult } from '../local/run-state-machine.js';
import { configureSfnClient } from '../shared/aws/sfn.js';
import { startFollowUp, type FollowUpKind } from '../shared/operations/follow-up.js';
import { redactDeep } from '../shared/redact.js';
import { followUpText } from './follow-up-report.js';
import { ensurePrivateDir } from '../shared/private-dir.js';
import { callerIdentity, clientConfig, resolveAws, type AwsOptions } from './operations/aws-options.js';
import { onTopOf, resumedAfterCutover } from '../shared/final-state.js';
import type { MigrationState } from '../shared/state.js';

const STATEMACHINE_DIR = fileURLToPath(new URL('../statemachine/', import.meta.url));

/**
 * Where `run --local` keeps a migration's final state (references only: no secret is in it). Saved
 * whenever the target became the primary, also when a step after the cutover did not finish.
 */
export function finalStatePath(stateDir: string, migrationId: string): string {
  return join(stateDir, migrationId, 'final-state.json');
}

/**
 * A run resumed after its cutover saves its state on top of the one the run that cut over saved (what
 * the skipped steps made is only in that one: shared/final-state.ts).
 */
export function saveFinalState(stateDir: string, migrationId: string, state: Partial<MigrationState>): string {
  const path = finalStatePath(stateDir, migrationId);
  const earlier = resumedAfterCutover(state) ? readSavedState(path) : null;
  ensurePrivateDir(join(stateDir, migrationId), stateDir);
  writeFileSync(path, `${JSON.stringify(redactDeep(earlier ? onTopOf(earlier, state as Record<string, unknown>) : state), null, 2)}
`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

function readSavedState(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

export interface LocalFollowUpOptions {
  stateDir: string;
  secretDir?: string;
  options?: Record<string, unknown>;
}

export async function runFollowUpLocally(kind: FollowUpKind, migrationId: string, o: LocalFollowUpOptions): Promise<RunResult> {
  const path = finalStatePath(o.stateDir, migrationId);
  let state: Record<string, unknown>;
  try {
    state = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new Error(
      `No final state of migration ${migrationId} at ${path}: \`crossmove run --local\` saves it there once the cutover passed its point of no return (finished or with unfinished steps); before that there is nothing to fall back from or clean up`,
    );
  }
  const result = await runStateMachineLocally({
    definitionPath: join(STATEMACHINE_DIR, `${kind}.asl.yaml`),
    input: { ...state, [kind === 'cleanup' ? 'cleanupOptions' : 'fallbackOptions']: o.options ?? {} },
    secretDir: o.secretDir ?? join(o.stateDir, 'secrets'),
    minTaskTimeoutSeconds: 3600,
    retryMs: 500,
  });
  return redactDeep(result);
}

interface Flags extends AwsOptions {
  local?: boolean;
  stateDir: string;
  stage?: string;
  stateMachineArn?: string;
  json?: boolean;
  sourceCluster?: string;
}

async function migrationStateMachineArn(f: Flags): Promise<string> {
  if (f.stateMachineArn ?? process.env.CROSSMOVE_STATE_MACHINE_ARN) return (f.stateMachineArn ?? process.env.CROSSMOVE_STATE_MACHINE_ARN)!;
  const [{ account }, { region }] = await Promise.all([callerIdentity(f), resolveAws(f)]);
  return `arn:aws:states:${region}:${account}:stateMachine:crossmove-migration-${f.stage ?? process.env.CROSSMOVE_STAGE ?? 'dev'}`;
}

async function act(kind: FollowUpKind, migrationId: string, f: Flags, options: Record<string, unknown>): Promise<number> {
  if (f.local) {
    const result = await runFollowUpLocally(kind, migrationId, { stateDir: f.stateDir, options });
    const summary = { migrationId, kind, status: result.status, error: result.error, cause: result.cause, output: result.output };
    process.stdout.write(f.json ? `${JSON.stringify(summary)}\n` : `${followUpText(kind, migrationId, result)}\n`);
    return result.status === 'SUCCEEDED' ? 0 : 1;
  }
  configureSfnClient(clientConfig(f));
  const out = await startFollowUp(kind, migrationId, await migrationStateMachineArn(f), options);
  process.stdout.write(f.json ? `${JSON.stringify(out)}\n` : `${kind} of ${migrationId}: ${out.started ? 'started' : `already ${out.status.toLowerCase()}`} (${out.executionName})\n`);
  return 0;
}

export function registerFollowUpCommands(program: Command): void {
  const common = (cmd: Command) =>
    cmd
      .option('--local', 'run in this process on the final state `run --local` saved', false)
      .option('--state-dir <dir>', 'with --local: where `run --local` saved it', '.crossmove')
      .option('--profile <name>', 'AWS profile')
      .option('--region <region>', 'AWS region')
      .option('--stage <stage>', 'the deployed stage (default: CROSSMOVE_STAGE or dev)')
      .option('--state-machine-arn <arn>', 'the migration state machine (default: crossmove-migration-<stage>)')
      .option('--json', 'print JSON', false);
  common(program.command('cleanup <migrationId>').description('after a successful cutover: remove the RAM share, key statement, replication users and secrets, heartbeat objects, the copy bookkeeping schema crossmove_load, reverse replication; restore binlog retention; prints every item'))
    .option('--source-cluster <what>', 'keep | stop | delete the old source cluster (never without this flag)', 'keep')
    .action(async (id: string, f: Flags) => {
      if (!['keep', 'stop', 'delete'].includes(f.sourceCluster ?? 'keep')) throw new Error('--source-cluster must be keep, stop or delete');
      process.exitCode = await act('cleanup', id, f, { sourceCluster: f.sourceCluster ?? 'keep' });
    });
  common(program.command('fallback <migrationId>').description('move the application back to the source through the reverse replication (bounded, verified, rolled back on failure)')).action(
    async (id: string, f: Flags) => {
      process.exitCode = await act('fallback', id, f, {});
    },
  );
}
