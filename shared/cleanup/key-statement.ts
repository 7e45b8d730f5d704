// Cleanup: crossmove's statements in the source KMS key policy (by their Sids: use of the key and its
// grant statement, key-policy.ts). Only those are removed; the rest of the policy is written back as it was.
import { PreflightFailedError } from '../errors.js';
import { logStep } from '../logger.js';
import type { CleanupItem } from '../state.js';
import { errorName } from '../aws/call.js';
import { getKeyPolicy, putKeyPolicy, sourceKmsClient } from '../aws/kms.js';
import { regionOfArn } from '../aws/source-account.js';
import { crossmoveStatementSids } from '../aws/key-policy.js';
import { findCluster, sourceRdsClient } from '../aws/rds.js';
import { item, type CleanupState } from './types.js';

/** The policy without crossmove's statements for `sid` (use and grants), and whether any was there. */
export function withoutStatement(policyText: string, sid: string): { policy: string; changed: boolean } {
  const sids = new Set(crossmoveStatementSids(sid));
  let doc: { Statement?: unknown; [k: string]: unknown };
  try {
    doc = JSON.parse(policyText);
  } catch {
    throw new PreflightFailedError('The source KMS key policy is not valid JSON; remove the crossmove statement by hand');
  }
  const statements = (Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : []) as { Sid?: string }[];
  const kept = statements.filter((s) => !s.Sid || !sids.has(s.Sid));
  if (kept.length === statements.length) return { policy: policyText, changed: false };
  return { policy: JSON.stringify({ ...doc, Statement: kept }), changed: true };
}

/** The key crossmove edited: from the run's state, else read from the source cluster. */
async function sourceKeyArn(state: CleanupState): Promise<string | null> {
  if (state.keyAccess?.keyArn) return state.keyAccess.keyArn;
  // The snapshot path through a shareable copy opened the snapshot key, not the cluster's.
  if (state.input.initialLoad.method === 'snapshot' && state.input.source.snapshotKmsKeyId) return state.input.source.snapshotKmsKeyId;
  if (state.preflight?.sourceCluster) return state.preflight.sourceCluster.kmsKeyArn;
  const cluster = await findCluster(await sourceRdsClient(state.input), state.input.source.clusterArn!);
  return cluster?.StorageEncrypted ? (cluster.KmsKeyId ?? null) : null;
}

export async function removeKeyStatement(state: CleanupState): Promise<CleanupItem> {
  const { input, accounts } = state;
  const sid = input.names.kmsStatementSid;
  if (!input.source.clusterArn) return item('kms-key-statement', sid, null, 'skipped', 'endpoint-only source: no key policy was changed');
  if (accounts.sameAccount) return item('kms-key-statement', sid, accounts.source, 'skipped', 'same-account migration: the key policy was not changed');
  const keyArn = await sourceKeyArn(state);
  if (!keyArn) return item('kms-key-statement', sid, accounts.source, 'skipped', 'the source cluster is not encrypted');
  // The key's own region (source.snapshotKmsKeyId lives in the target region).
  const kms = await sourceKmsClient(input, regionOfArn(keyArn));
  let current: string;
  try {
    current = await getKeyPolicy(kms, keyArn);
  } catch (err) {
    if (errorName(err) === 'NotFoundException') return item('kms-key-statement', sid, accounts.source, 'gone', `key ${keyArn} no longer exists`);
    throw err;
  }
  const { policy, changed } = withoutStatement(current, sid);
  if (!changed) return item('kms-key-statement', sid, accounts.source, 'gone', `not in the policy of ${keyArn}`);
  logStep('remove the target account from the source KMS key policy', { keyArn, statementSid: sid });
  await putKeyPolicy(kms, keyArn, policy);
  return item('kms-key-statement', sid, accounts.source, 'removed', `from the policy of ${keyArn}`);
}
