// "Check the databases": the read-only database half of the preflight, run right after the AWS half and
// before "Keep binlogs long enough" changes anything. Same contract as runPreflight: a failed check
// throws its typed error listing every failure and its fix; otherwise the checks are returned.
import type { MigrationState, PreflightResult } from '../state.js';
import { publicChecks, throwIfFailed } from './checks.js';
import { inspectDatabases } from './db-checks.js';

export async function runDatabaseChecks(state: Pick<MigrationState, 'input' | 'accounts' | 'preflight' | 'clone'>): Promise<PreflightResult> {
  const outcomes = await inspectDatabases(state);
  throwIfFailed(outcomes);
  return { ok: true, checks: publicChecks(outcomes) };
}
