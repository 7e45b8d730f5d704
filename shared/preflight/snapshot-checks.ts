// Preflight for initialLoad.method snapshot (issue 6): the reasons "Snapshot the source" would refuse
// (aws/rds key across accounts, an encrypted cross-account copy across regions, no target key for a
// re-encrypted copy), found before "Keep binlogs long enough" changes anything. Read-only.
import type { MigrationInput } from '../input/validate.js';
import type { Accounts } from '../state.js';
import { describeKey, sourceKmsClient } from '../aws/kms.js';
import { crossRegion, snapshotPathBlocker } from '../aws/snapshot-plan.js';
import { fail, pass, type CheckOutcome, type FailureErrorName } from './checks.js';

export async function snapshotPathChecks(input: MigrationInput, accounts: Accounts, kmsKeyArn: string | null): Promise<CheckOutcome[]> {
  if (input.initialLoad.method !== 'snapshot') return [];
  const keyManager = kmsKeyArn && !accounts.sameAccount ? ((await describeKey(await sourceKmsClient(input), kmsKeyArn)).KeyManager === 'AWS' ? 'AWS' : 'CUSTOMER') : null;
  const blocker = snapshotPathBlocker(input, accounts, { kmsKeyArn, keyManager });
  if (blocker) {
    const [what, fix] = blocker.message.split(/\s+Fix: /);
    return [fail('snapshot-path', what!, fix ?? 'See the message.', blocker.name as FailureErrorName)];
  }
  const route = `${accounts.sameAccount ? 'same account' : `account ${accounts.source} -> ${accounts.target}`}, ${crossRegion(accounts) ? `${accounts.sourceRegion} -> ${accounts.targetRegion}` : `region ${accounts.sourceRegion}`}`;
  return [pass('snapshot-path', `The snapshot path can run (${route}${kmsKeyArn ? ', copy re-encrypted with target.kmsKeyId' : ''}).`)];
}
