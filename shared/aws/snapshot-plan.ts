// What the snapshot path can and cannot do for a given source, decided before anything is created.
// Pure: the callers read the facts (accounts, the source key's manager) and throw what this returns.
import { DefaultKmsKeyError, PreflightFailedError } from '../errors.js';
import type { MigrationInput } from '../input/validate.js';
import type { Accounts } from '../state.js';

export interface SnapshotSourceFacts {
  /** The source cluster's storage key ARN, or null when it is not encrypted. */
  kmsKeyArn: string | null;
  /** KeyManager of that key: AWS for the default aws/rds key, CUSTOMER otherwise. */
  keyManager: 'AWS' | 'CUSTOMER' | null;
}

export function crossRegion(accounts: Accounts): boolean {
  return Boolean(accounts.sourceRegion && accounts.targetRegion && accounts.sourceRegion !== accounts.targetRegion);
}

/**
 * Across accounts the snapshot reaches the target through a copy in the SOURCE account when it cannot be
 * shared as it is (aws/rds key) or must change region (a shared snapshot can only be copied within its
 * region): the copy goes to the target region, encrypted (when the source is) with source.snapshotKmsKeyId.
 */
export function needsShareableCopy(accounts: Accounts, facts: SnapshotSourceFacts): boolean {
  // A shared cluster snapshot, encrypted or not, is copied only within its own region (CopyDBClusterSnapshot reference).
  return !accounts.sameAccount && (crossRegion(accounts) || (facts.kmsKeyArn !== null && facts.keyManager === 'AWS'));
}

/** The first reason the snapshot path cannot work as configured, as the typed error to throw; null when it can. */
export function snapshotPathBlocker(input: MigrationInput, accounts: Accounts, facts: SnapshotSourceFacts): Error | null {
  if (!input.source.clusterArn) {
    return new PreflightFailedError('initialLoad.method snapshot needs source.clusterArn (an Aurora cluster to snapshot); use initialLoad.method logical for a source given only by endpoint');
  }
  const encrypted = facts.kmsKeyArn !== null;
  // An unencrypted shareable copy needs no key.
  if (needsShareableCopy(accounts, facts) && encrypted && !input.source.snapshotKmsKeyId) {
    const why =
      facts.keyManager === 'AWS'
        ? `the source cluster is encrypted with the AWS-managed key aws/rds (${facts.kmsKeyArn}), and a snapshot encrypted with it cannot be shared with account ${accounts.target}`
        : `an encrypted snapshot shared from another account can only be copied within its own region (source ${accounts.sourceRegion}, target ${accounts.targetRegion})`;
    const ErrorClass = facts.keyManager === 'AWS' ? DefaultKmsKeyError : PreflightFailedError;
    return new ErrorClass(
      `source.snapshotKmsKeyId is required: ${why}, so crossmove first copies the snapshot in the source account, re-encrypted with a customer managed key of account ${accounts.source} in ${accounts.targetRegion}. ` +
        `Fix: set source.snapshotKmsKeyId to the ARN of an enabled customer managed key of account ${accounts.source} in ${accounts.targetRegion} (the source-account role may use it), or use initialLoad.method logical.`,
    );
  }
  if (encrypted && (!accounts.sameAccount || crossRegion(accounts)) && !input.target.kmsKeyId) {
    return new PreflightFailedError(
      `target.kmsKeyId is required: the source snapshot is encrypted and its copy in ${accounts.sameAccount ? `region ${accounts.targetRegion}` : `account ${accounts.target}`} must be re-encrypted with a key of the target account in ${accounts.targetRegion}. ` +
        `Fix: set target.kmsKeyId to the ARN of an enabled customer managed key of account ${accounts.target} in ${accounts.targetRegion}.`,
    );
  }
  return null;
}
