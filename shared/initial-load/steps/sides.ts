// Where the copy's steps connect: the target, the source the target replicates from, and the frozen
// source the rows are read from (its endpoint is in the state once "Prepare the frozen source" found
// it; credentials only ever come from secret references).
import { sourceAdminCredentials, targetAdminCredentials } from '../../db-credentials.js';
import { sourceEndpoint, targetEndpoint } from '../../endpoints.js';
import { LogicalCopyError } from '../../errors.js';
import { readCredentials } from '../../secrets.js';
import type { FrozenSourceState, MigrationState } from '../../state.js';
import type { DbSide } from '../copy-plan.js';

export type CopyState = Pick<MigrationState, 'input' | 'accounts'> & Partial<Pick<MigrationState, 'preflight' | 'clone' | 'frozenSource' | 'targetAdmin'>>;

export async function targetSide(state: CopyState): Promise<DbSide> {
  return { endpoint: targetEndpoint(state), credentials: await targetAdminCredentials(state) };
}

export async function sourceSide(state: CopyState): Promise<DbSide> {
  return { endpoint: sourceEndpoint(state), credentials: await sourceAdminCredentials(state) };
}

/** The frozen source the rows are read from (a replica and a clone have the source's users). */
export async function frozenSide(state: CopyState & { frozenSource: FrozenSourceState }): Promise<DbSide> {
  const f = state.frozenSource;
  // The endpoint "Prepare the frozen source" found (the source itself for live): the Map's workers get no preflight result.
  if (f.kind === 'live' && !f.endpoint) return sourceSide(state);
  if (!f.endpoint) throw new LogicalCopyError(`the frozen source (${f.kind}) has no endpoint yet: "Prepare the frozen source" must finish first`);
  const named = state.input.initialLoad.frozenSource.adminSecret;
  const credentials = f.kind === 'named-replica' && named ? await readCredentials(named) : await sourceAdminCredentials(state);
  return { endpoint: f.endpoint, credentials };
}
