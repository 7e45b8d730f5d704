// `crossmove plan <input>`: validates, runs every preflight check read-only, and prints each step with
// what it would create or change. It changes nothing: AWS calls are Describe/Get/List only and the
// database connections send only SELECT/SHOW (test/e2e/plan.test.ts records both).
import type { Engine } from '../shared/input/schema.js';
import { validateMigrationInput, type MigrationInput } from '../shared/input/validate.js';
import { resolveAccounts } from '../shared/aws/accounts.js';
import { inspectPreflight } from '../shared/preflight/run.js';
import { connectSource, connectTarget } from '../shared/mysql/connect.js';
import { detectEngine } from '../shared/mysql/dialect.js';
import { identityFromClusterEngineVersion } from '../shared/mysql/detect.js';
import { inspectDatabases } from '../shared/preflight/db-checks.js';
import { planFallbackStep, planSteps, type PlannedStep } from '../shared/plan/steps.js';
import type { Accounts, MigrationState, PreflightCheck } from '../shared/state.js';
import { redact } from '../shared/redact.js';

export interface PlanReport {
  ok: boolean;
  migrationId: string;
  method: string;
  engines: { source: Engine | null; target: Engine | null };
  checks: PreflightCheck[];
  steps: PlannedStep[];
  /** The operator's fallback after the run (crossmove fallback), as the switch would run it backwards. */
  fallback: PlannedStep;
}

async function detect(open: () => Promise<import('mysql2/promise').Connection>): Promise<Engine | null> {
  const conn = await open().catch(() => null);
  if (!conn) return null;
  try {
    // A server no dialect drives is reported by the db-source-engine / db-target-engine checks.
    return await detectEngine(conn).catch(() => null);
  } finally {
    await conn.end().catch(() => undefined);
  }
}

export async function buildPlan(raw: unknown): Promise<PlanReport> {
  const input: MigrationInput = validateMigrationInput(raw);
  const accounts: Accounts = await resolveAccounts(input);
  const checks: PreflightCheck[] = [];
  let state: MigrationState = { input, accounts };

  {
    // Endpoint-only inputs make no AWS call here; the secret checks run for every input.
    const aws = await inspectPreflight(state).catch((err: Error) => ({
      ok: false,
      checks: [
        {
          id: 'aws',
          status: 'fail' as const,
          message: `The AWS checks could not run: ${err.name}: ${redact(err.message)}`,
          fix: 'Check the AWS credentials and region crossmove runs with, source.accessRoleArn and source.externalId (the source-account role must trust this account), then run plan again.',
        },
      ],
      sourceEndpoint: undefined,
    }));
    checks.push(...aws.checks);
    // The cluster's engine version lets the database checks judge replication encryption unreached.
    state = { ...state, preflight: { ok: aws.ok, checks: aws.checks, sourceEndpoint: aws.sourceEndpoint, ...('sourceCluster' in aws && aws.sourceCluster ? { sourceCluster: aws.sourceCluster } : {}) } };
  }
  const hasTarget = Boolean(input.target.endpoint);
  checks.push(...(await inspectDatabases(state)));

  const sourceEngine = input.source.engine ?? (await detect(() => connectSource(state)));
  const targetEngine = input.target.engine ?? (hasTarget ? await detect(() => connectTarget(state)) : null);
  const fromCluster = identityFromClusterEngineVersion(state.preflight?.sourceCluster?.engineVersion)?.engine;
  const assumed: Engine = fromCluster ?? (input.source.clusterArn ? 'aurora-mysql-3' : 'mysql-8');
  const ctx = { input, accounts, sourceEngine: sourceEngine ?? assumed, targetEngine: targetEngine ?? sourceEngine ?? assumed };
  const steps = await planSteps(ctx);
  const fallback = await planFallbackStep(ctx);
  return {
    ok: !checks.some((c) => c.status === 'fail'),
    migrationId: input.migrationId,
    method: input.initialLoad.method,
    // A clone or restored snapshot runs the source's engine.
    engines: { source: sourceEngine, target: targetEngine ?? (input.initialLoad.method === 'logical' ? null : sourceEngine) },
    checks,
    steps,
    fallback,
  };
}

export function formatPlan(plan: PlanReport): string {
  const lines = [
    `crossmove plan for ${plan.migrationId} (initial load: ${plan.method}; engines: ${plan.engines.source ?? 'unknown'} -> ${plan.engines.target ?? 'unknown, detected at run time'})`,
    'Nothing below has been changed.',
    '',
    'Preflight checks:',
    ...plan.checks.map((c) => `  ${c.status.toUpperCase().padEnd(4)} ${c.id}: ${c.message}${c.fix ? `\n       fix: ${c.fix}` : ''}`),
    '',
    'Steps:',
  ];
  const show = (s: PlannedStep, label: string) => {
    lines.push(`  ${label} ${s.state} [${s.where}]${s.pointOfNoReturn ? '  <- point of no return inside' : ''}`);
    if (!s.changes.length) lines.push('      reads only');
    for (const c of s.changes) lines.push(`      ${c}`);
  };
  plan.steps.forEach((s, i) => show(s, `${String(i + 1).padStart(2)}.`));
  lines.push('', 'Later, only if you fall back (`crossmove fallback`, not part of the run):');
  show(plan.fallback, '   ');
  lines.push('', plan.ok ? 'Preflight passed: `crossmove run --local` or `crossmove start` would proceed.' : 'Preflight FAILED: fix the checks above before starting.');
  return redact(lines.join('\n'));
}
