// Both admin secrets must resolve to {username, password} before anything is changed. The values are
// read (and cached for later steps) but never reported. On the clone and snapshot paths there is no
// target admin secret to read: the new cluster holds the source's users, and crossmove sets its master
// password into a secret of its own once the cluster exists (shared/aws/master-password.ts).
import { sourceAdminCredentials, targetAdminCredentials } from '../db-credentials.js';
import { SecretError } from '../errors.js';
import type { MigrationState } from '../state.js';
import { fail, pass, warn, type CheckOutcome } from './checks.js';

export async function secretChecks(state: Pick<MigrationState, 'input' | 'accounts'>): Promise<CheckOutcome[]> {
  const out: CheckOutcome[] = [await readable('source-admin-secret', 'source.adminSecret', () => sourceAdminCredentials(state))];
  const { input } = state;
  if (input.initialLoad.method === 'logical') {
    out.push(await readable('target-admin-secret', 'target.adminSecret', () => targetAdminCredentials(state)));
    return out;
  }
  const plan = `once the new cluster ${input.names.targetClusterIdentifier} and its writer exist, crossmove sets a new password for its master user (the source's, which the ${input.initialLoad.method === 'clone' ? 'clone' : 'restored cluster'} inherits) and keeps it in secret ${input.names.targetAdminSecretName} of the target account, the target admin of every later step`;
  if (input.target.adminSecret) {
    out.push(warn('target-admin-secret', `target.adminSecret ${input.target.adminSecret} is not used: ${plan}.`, 'Leave target.adminSecret out for clone and snapshot.'));
  } else {
    out.push(pass('target-admin-secret', `No target admin secret is needed: ${plan}.`));
  }
  return out;
}

async function readable(id: string, field: string, read: () => Promise<unknown>): Promise<CheckOutcome> {
  try {
    await read();
    return pass(id, `${field} resolves to credentials.`);
  } catch (err) {
    if (!(err instanceof SecretError)) throw err;
    return fail(id, `${field}: ${err.message}.`, `Create the secret or fix ${field}.`, 'SecretError');
  }
}
