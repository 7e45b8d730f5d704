// Both admin secrets must resolve to {username, password} before anything is changed. The values are
// read (and cached for later steps) but never reported.
import { sourceAdminCredentials, targetAdminCredentials } from '../db-credentials.js';
import { SecretError } from '../errors.js';
import type { MigrationState } from '../state.js';
import { fail, pass, type CheckOutcome } from './checks.js';

export async function secretChecks(state: Pick<MigrationState, 'input' | 'accounts'>): Promise<CheckOutcome[]> {
  const sides = [
    { id: 'source-admin-secret', field: 'source.adminSecret', read: () => sourceAdminCredentials(state) },
    { id: 'target-admin-secret', field: 'target.adminSecret', read: () => targetAdminCredentials(state) },
  ];
  const out: CheckOutcome[] = [];
  for (const side of sides) {
    try {
      await side.read();
      out.push(pass(side.id, `${side.field} resolves to credentials.`));
    } catch (err) {
      if (!(err instanceof SecretError)) throw err;
      out.push(fail(side.id, `${side.field}: ${err.message}.`, `Create the secret or fix ${side.field}.`, 'SecretError'));
    }
  }
  return out;
}
