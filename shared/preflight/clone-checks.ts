// Preflight: the limits of cross-account Aurora cloning (aurora-facts.md). A cluster that is itself a
// clone shared with this account cannot be cloned again; a cluster has at most 15 cross-account
// clones, and at most one per account. Only for initialLoad.method clone across accounts; read-only.
import type { DBCluster } from '@aws-sdk/client-rds';
import type { MigrationInput } from '../input/validate.js';
import type { Accounts } from '../state.js';
import { accountsSharedWith, sourceRamClient } from '../aws/ram.js';
import { clustersInCloneGroup, madeByMigration, targetRdsClient } from '../aws/rds.js';
import { TransientError } from '../errors.js';
import { redact } from '../redact.js';
import { fail, pass, warn, type CheckOutcome } from './checks.js';

const MAX_CROSS_ACCOUNT_CLONES = 15;

export async function cloneLimitChecks(input: MigrationInput, accounts: Accounts, cluster: DBCluster): Promise<CheckOutcome[]> {
  if (input.initialLoad.method !== 'clone' || accounts.sameAccount) return [];
  const id = cluster.DBClusterIdentifier;
  const checks: CheckOutcome[] = [];
  if (cluster.CrossAccountClone) {
    checks.push(fail('clone-of-shared-clone', `Source cluster ${id} is itself a cross-account clone: it cannot be cloned or shared again.`, 'Use initialLoad.method snapshot (or logical) for this source.'));
  } else {
    checks.push(pass('clone-of-shared-clone', `Source cluster ${id} is not a cross-account clone.`));
  }
  checks.push(...(await guard('clone-limit', 'the cross-account clones of the source', async () => {
    const shared = (await accountsSharedWith(await sourceRamClient(input), input.source.clusterArn!)).filter((a) => a !== accounts.target);
    if (shared.length >= MAX_CROSS_ACCOUNT_CLONES) {
      return fail('clone-limit', `Source cluster ${id} is already shared with ${shared.length} other accounts; Aurora allows at most ${MAX_CROSS_ACCOUNT_CLONES} cross-account clones per cluster.`, 'Remove shares (and clones) the other accounts no longer need, or use initialLoad.method snapshot.');
    }
    return pass('clone-limit', `Source cluster ${id} is shared with ${shared.length} other account(s) (at most ${MAX_CROSS_ACCOUNT_CLONES} cross-account clones).`);
  })));
  if (cluster.CloneGroupId) {
    const groupId = cluster.CloneGroupId;
    checks.push(...(await guard('clone-per-account', 'existing clones in the target account', async () => {
      const others = (await clustersInCloneGroup(targetRdsClient(input), groupId)).filter((c) => !madeByMigration(c, input.migrationId));
      if (others.length) {
        return fail('clone-per-account', `Account ${accounts.target} already has a clone of ${id}: ${others.map((c) => c.DBClusterIdentifier).join(', ')}; Aurora allows one cross-account clone per account.`, 'Delete that clone first, or use initialLoad.method snapshot.');
      }
      return pass('clone-per-account', `Account ${accounts.target} has no other clone of ${id}.`);
    })));
  }
  return checks;
}

/** Counting needs list permissions some roles lack: that is a warning, not a reason to stop. */
async function guard(id: string, what: string, fn: () => Promise<CheckOutcome>): Promise<CheckOutcome[]> {
  try {
    return [await fn()];
  } catch (err) {
    if (err instanceof TransientError) throw err;
    return [warn(id, `Could not check ${what}: ${redact((err as Error).message)}.`, 'Check it in the RDS and RAM consoles before the migration.')];
  }
}
