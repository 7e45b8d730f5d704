// Preflight for initialLoad.method snapshot: the reasons "Snapshot the source" would refuse
// (no source.snapshotKmsKeyId when the snapshot must first be copied in the source account, aws/rds key
// or cross-region; a wrong key there; no target key for a re-encrypted copy), found before "Keep
// binlogs long enough" changes anything. Read-only.
import type { MigrationInput } from '../input/validate.js';
import type { Accounts } from '../state.js';
import { describeKey, findKey, sourceKmsClient } from '../aws/kms.js';
import { accountOfArn, regionOfArn } from '../aws/source-account.js';
import { crossRegion, needsShareableCopy, snapshotPathBlocker } from '../aws/snapshot-plan.js';
import { fail, pass, type CheckOutcome, type FailureErrorName } from './checks.js';

export async function snapshotPathChecks(input: MigrationInput, accounts: Accounts, kmsKeyArn: string | null): Promise<CheckOutcome[]> {
  if (input.initialLoad.method !== 'snapshot') return [];
  const keyManager = kmsKeyArn && !accounts.sameAccount ? ((await describeKey(await sourceKmsClient(input), kmsKeyArn)).KeyManager === 'AWS' ? 'AWS' : 'CUSTOMER') : null;
  const blocker = snapshotPathBlocker(input, accounts, { kmsKeyArn, keyManager });
  if (blocker) {
    const [what, fix] = blocker.message.split(/\s+Fix: /);
    return [fail('snapshot-path', what!, fix ?? 'See the message.', blocker.name as FailureErrorName)];
  }
  const shareable = needsShareableCopy(accounts, { kmsKeyArn, keyManager });
  if (shareable && kmsKeyArn) {
    const keyProblem = await snapshotKeyProblem(input, accounts);
    if (keyProblem) return [keyProblem];
  }
  const route = `${accounts.sameAccount ? 'same account' : `account ${accounts.source} -> ${accounts.target}`}, ${crossRegion(accounts) ? `${accounts.sourceRegion} -> ${accounts.targetRegion}` : `region ${accounts.sourceRegion}`}`;
  const via = shareable ? `, through a copy in the source account in ${accounts.targetRegion}${kmsKeyArn ? ' re-encrypted with source.snapshotKmsKeyId' : ''}` : '';
  return [pass('snapshot-path', `The snapshot path can run (${route}${via}${kmsKeyArn ? ', copy re-encrypted with target.kmsKeyId' : ''}).`)];
}

/** source.snapshotKmsKeyId: a key of the source account, in the target region, enabled and customer managed. */
async function snapshotKeyProblem(input: MigrationInput, accounts: Accounts): Promise<CheckOutcome | null> {
  const keyArn = input.source.snapshotKmsKeyId!;
  const region = regionOfArn(keyArn);
  const account = accountOfArn(keyArn);
  const fix = `Set source.snapshotKmsKeyId to an enabled customer managed key of account ${accounts.source} in ${accounts.targetRegion}.`;
  if (account !== accounts.source || region !== accounts.targetRegion) {
    return fail('snapshot-path', `source.snapshotKmsKeyId ${keyArn} is in account ${account}, region ${region}; the shareable copy is made in account ${accounts.source}, region ${accounts.targetRegion}.`, fix);
  }
  const key = await findKey(await sourceKmsClient(input, region), keyArn);
  if (!key) return fail('snapshot-path', `source.snapshotKmsKeyId ${keyArn} does not exist or is not visible to the source-account role.`, fix, 'ResourceNotFoundError');
  if (key.KeyManager === 'AWS') return fail('snapshot-path', `source.snapshotKmsKeyId ${keyArn} is an AWS-managed key: snapshots encrypted with it cannot be shared either.`, fix, 'DefaultKmsKeyError');
  if (key.KeyState !== 'Enabled') return fail('snapshot-path', `source.snapshotKmsKeyId ${keyArn} is ${key.KeyState}.`, fix);
  return null;
}
