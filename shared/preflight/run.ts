// "Run preflight checks": every read-only check, one result. A failed check throws its typed error
// (the state machine routes it to "Report the failure") listing all failures, before anything changes.
// `inspectPreflight` returns the same result without throwing, for `crossmove plan`.
import type { MigrationState, PreflightResult } from '../state.js';
import { awsPreflight } from './aws-checks.js';
import { publicChecks, throwIfFailed, type CheckOutcome } from './checks.js';
import { secretChecks } from './secret-checks.js';

export async function inspectPreflight(state: Pick<MigrationState, 'input' | 'accounts'>): Promise<PreflightResult & { outcomes: CheckOutcome[] }> {
  const aws = await awsPreflight(state.input, state.accounts);
  // Loaded when run (EC2, Route 53), like aws-checks.ts' EC2/KMS/RAM checks: not part of the cold import.
  const [{ lambdaEgressChecks }, { dnsAccessChecks }] = await Promise.all([import('./lambda-egress-checks.js'), import('./dns-access-checks.js')]);
  const outcomes = [...aws.checks, ...(await secretChecks(state)), ...(await lambdaEgressChecks(state.input, state.accounts)), ...(await dnsAccessChecks(state.input))];
  return {
    ok: outcomes.every((c) => c.status !== 'fail'),
    checks: publicChecks(outcomes),
    ...(aws.sourceEndpoint ? { sourceEndpoint: aws.sourceEndpoint } : {}),
    ...(aws.sourceCluster ? { sourceCluster: aws.sourceCluster } : {}),
    ...(aws.targetParameterGroup ? { targetParameterGroup: aws.targetParameterGroup } : {}),
    outcomes,
  };
}

export async function runPreflight(state: Pick<MigrationState, 'input' | 'accounts'>): Promise<PreflightResult> {
  const { outcomes, ...result } = await inspectPreflight(state);
  throwIfFailed(outcomes);
  return result;
}
