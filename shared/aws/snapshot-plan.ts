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

/** The first reason the snapshot path cannot work as configured, as the typed error to throw; null when it can. */
export function snapshotPathBlocker(input: MigrationInput, accounts: Accounts, facts: SnapshotSourceFacts): Error | null {
  if (!input.source.clusterArn) {
    return new PreflightFailedError('initialLoad.method snapshot needs source.clusterArn (an Aurora cluster to snapshot); use initialLoad.method logical for a source given only by endpoint');
  }
  const encrypted = facts.kmsKeyArn !== null;
  if (encrypted && !accounts.sameAccount && facts.keyManager === 'AWS') {
    return new DefaultKmsKeyError(
      `The source cluster is encrypted with the AWS-managed key aws/rds (${facts.kmsKeyArn}); a snapshot encrypted with it cannot be shared with account ${accounts.target}. ` +
        'Fix: in the source account copy the snapshot with a customer managed key (aws rds copy-db-cluster-snapshot --kms-key-id <customer key>) and migrate from a cluster restored from that copy, or use initialLoad.method logical.',
    );
  }
  if (encrypted && !accounts.sameAccount && crossRegion(accounts)) {
    return new PreflightFailedError(
      `An encrypted snapshot shared from another account cannot be copied across regions in one step (source ${accounts.sourceRegion}, target ${accounts.targetRegion}). ` +
        `Fix: deploy the target in ${accounts.sourceRegion} (target.region), or copy the snapshot to ${accounts.targetRegion} in the source account first, or use initialLoad.method logical.`,
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
