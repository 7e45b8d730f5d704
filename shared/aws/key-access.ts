// "Let the target use the KMS key": find or add crossmove's two statements (by Sid) in the source key
// policy: use of the key, and grants for AWS resources (key-policy.ts, after the Aurora User Guide's example).
import type { MigrationState, KeyAccess } from '../state.js';
import { PreflightFailedError } from '../errors.js';
import { logStep } from '../logger.js';
import { getKeyPolicy, putKeyPolicy, sourceKmsClient } from './kms.js';
import { regionOfArn } from './source-account.js';
import { grantStatementSid, withTargetStatements } from './key-policy.js';

export async function ensureKeyAccess(state: Pick<MigrationState, 'input' | 'accounts' | 'preflight'> & Partial<Pick<MigrationState, 'sourceSnapshot'>>): Promise<KeyAccess> {
  const { input, accounts } = state;
  const statementSid = input.names.kmsStatementSid;
  if (accounts.sameAccount) return { keyArn: '', statementSid, added: false, skipped: true };
  if (!state.preflight?.sourceCluster) {
    throw new PreflightFailedError('The source cluster was not inspected: "Run preflight checks" must run before "Let the target use the KMS key"');
  }
  // The snapshot path shares a snapshot: its key is the one to open (the cluster's, or
  // source.snapshotKmsKeyId for a shareable copy); the clone path shares the cluster.
  const snapshot = state.sourceSnapshot;
  const keyArn = snapshot?.done ? (snapshot.encrypted ? snapshot.kmsKeyId : null) : state.preflight.sourceCluster.kmsKeyArn;
  // An unencrypted source needs no key access.
  if (!keyArn) return { keyArn: '', statementSid, added: false, skipped: true };
  // In the key's own region (a shareable copy's key lives in the target region).
  const kms = await sourceKmsClient(input, regionOfArn(keyArn));
  const current = await getKeyPolicy(kms, keyArn);
  const partition = keyArn.split(':')[1] ?? 'aws';
  const { policy, changed } = withTargetStatements(current, statementSid, accounts.target!, partition);
  if (changed) {
    logStep('add the target account to the source KMS key policy', { keyArn, statementSids: [statementSid, grantStatementSid(statementSid)], targetAccount: accounts.target });
    await putKeyPolicy(kms, keyArn, policy);
  }
  return { keyArn, statementSid, added: changed };
}
