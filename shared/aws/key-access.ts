// "Let the target use the KMS key": find or add crossmove's statement (by Sid) in the source key policy.
import type { MigrationState, KeyAccess } from '../state.js';
import { PreflightFailedError } from '../errors.js';
import { logStep } from '../logger.js';
import { getKeyPolicy, putKeyPolicy, sourceKmsClient } from './kms.js';
import { withTargetStatement } from './key-policy.js';

export async function ensureKeyAccess(state: Pick<MigrationState, 'input' | 'accounts' | 'preflight'>): Promise<KeyAccess> {
  const { input, accounts } = state;
  const statementSid = input.names.kmsStatementSid;
  if (accounts.sameAccount) return { keyArn: '', statementSid, added: false, skipped: true };
  if (!state.preflight?.sourceCluster) {
    throw new PreflightFailedError('The source cluster was not inspected: "Run preflight checks" must run before "Let the target use the KMS key"');
  }
  const keyArn = state.preflight.sourceCluster.kmsKeyArn;
  // An unencrypted source needs no key access.
  if (!keyArn) return { keyArn: '', statementSid, added: false, skipped: true };
  const kms = await sourceKmsClient(input);
  const current = await getKeyPolicy(kms, keyArn);
  const partition = keyArn.split(':')[1] ?? 'aws';
  const { policy, changed } = withTargetStatement(current, statementSid, accounts.target!, partition);
  if (changed) {
    logStep('add the target account to the source KMS key policy', { keyArn, statementSid, targetAccount: accounts.target });
    await putKeyPolicy(kms, keyArn, policy);
  }
  return { keyArn, statementSid, added: changed };
}
