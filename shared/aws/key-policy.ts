// The statement crossmove adds to the source cluster's KMS key policy so the target account can use the
// key for the cross-account clone. Pure functions: the read/compare/write is in key-access.ts.
import { PreflightFailedError } from '../errors.js';

/** What RDS needs on the source key to clone a cluster across accounts: decrypt pages, re-encrypt them
 * under the target key, and create the grant the clone's storage holds. Listed exactly (no wildcards). */
export const TARGET_KEY_ACTIONS = [
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:CreateGrant',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
] as const;

interface PolicyStatement {
  Sid?: string;
  [key: string]: unknown;
}
interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement[];
  [key: string]: unknown;
}

export function targetStatement(sid: string, targetAccount: string, partition = 'aws'): PolicyStatement {
  return {
    Sid: sid,
    Effect: 'Allow',
    Principal: { AWS: `arn:${partition}:iam::${targetAccount}:root` },
    Action: [...TARGET_KEY_ACTIONS],
    // In a key policy "*" means "this key".
    Resource: '*',
  };
}

/** Returns the policy with the statement present (replaced if it differs) and whether it changed. */
export function withTargetStatement(policyText: string, sid: string, targetAccount: string, partition = 'aws'): { policy: string; changed: boolean } {
  let doc: PolicyDocument;
  try {
    doc = JSON.parse(policyText) as PolicyDocument;
  } catch {
    throw new PreflightFailedError('The source KMS key policy is not valid JSON; fix it before crossmove edits it');
  }
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement as PolicyStatement] : [];
  const wanted = targetStatement(sid, targetAccount, partition);
  const index = statements.findIndex((s) => s.Sid === sid);
  if (index >= 0 && sameStatement(statements[index]!, wanted)) return { policy: policyText, changed: false };
  const next = index >= 0 ? statements.map((s, i) => (i === index ? wanted : s)) : [...statements, wanted];
  return { policy: JSON.stringify({ ...doc, Statement: next }), changed: true };
}

function sameStatement(a: PolicyStatement, b: PolicyStatement): boolean {
  const norm = (s: PolicyStatement) =>
    JSON.stringify({ ...s, Action: [...(Array.isArray(s.Action) ? s.Action : [s.Action])].sort() });
  return norm(a) === norm(b);
}
