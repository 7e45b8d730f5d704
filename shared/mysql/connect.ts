// Admin connections to the source and the target of a migration, from the state (endpoints and secret
// references). Kept apart from connection.ts so tests can open connections without a state.
import { sourceEndpoint, targetEndpoint } from '../endpoints.js';
import { sourceAdminCredentials, targetAdminCredentials } from '../db-credentials.js';
import type { MigrationState } from '../state.js';
import { openConnection, type Conn } from './connection.js';

export async function connectSource(state: Pick<MigrationState, 'input' | 'accounts' | 'preflight'>): Promise<Conn> {
  return openConnection(sourceEndpoint(state), await sourceAdminCredentials(state));
}

export async function connectTarget(state: Pick<MigrationState, 'input' | 'clone'>): Promise<Conn> {
  return openConnection(targetEndpoint(state), await targetAdminCredentials(state));
}

