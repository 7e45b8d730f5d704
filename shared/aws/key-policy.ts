// The statements crossmove adds to the source KMS key policy so the target account can use the key for
// the cross-account clone (and the snapshot path's copy). Pure functions: the read/compare/write is in
// key-access.ts, the removal in cleanup/key-statement.ts.
//
// They follow the example key policy of the Aurora User Guide, "Cross-account cloning with AWS RAM and
// Amazon Aurora" > "Cloning an Aurora cluster that is owned by another AWS account" (the same two
// statements as "Sharing encrypted snapshots"): for the other account's root,
//   "Allow use of the key":                    kms:CreateGrant, Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*, DescribeKey
//   "Allow attachment of persistent resources": kms:CreateGrant, ListGrants, RevokeGrant
//                                              if kms:GrantIsForAWSResource is true.
// Deliberate differences, all narrowing (test/unit/aws-key-access.test.ts checks them against the example):
// - no wildcards: ReEncrypt* is ReEncryptFrom + ReEncryptTo; GenerateDataKey* is GenerateDataKey +
//   GenerateDataKeyWithoutPlaintext (the key-pair variants are not used for RDS storage encryption);
// - kms:CreateGrant only in the grant statement, i.e. only for AWS resources: RDS creates the grant the
//   clone's storage holds, which is such a grant; no principal of the target account needs another.
import { PreflightFailedError } from '../errors.js';

/** "Allow use of the key" of the documented example, wildcards expanded, CreateGrant moved out. */
export const TARGET_KEY_USE_ACTIONS = [
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:DescribeKey',
] as const;

/** "Allow attachment of persistent resources" of the documented example: grants for AWS resources only. */
export const TARGET_KEY_GRANT_ACTIONS = ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant'] as const;

interface PolicyStatement {
  Sid?: string;
  [key: string]: unknown;
}
interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement[];
  [key: string]: unknown;
}

/** Sid of the grant statement that goes with the use statement `sid`. */
export function grantStatementSid(sid: string): string {
  return `${sid}Grants`;
}

/** Every Sid crossmove writes for this migration (cleanup removes exactly these). */
export function crossmoveStatementSids(sid: string): string[] {
  return [sid, grantStatementSid(sid)];
}

export function targetStatements(sid: string, targetAccount: string, partition = 'aws'): PolicyStatement[] {
  const principal = { AWS: `arn:${partition}:iam::${targetAccount}:root` };
  return [
    // In a key policy Resource "*" means "this key".
    { Sid: sid, Effect: 'Allow', Principal: principal, Action: [...TARGET_KEY_USE_ACTIONS], Resource: '*' },
    {
      Sid: grantStatementSid(sid),
      Effect: 'Allow',
      Principal: principal,
      Action: [...TARGET_KEY_GRANT_ACTIONS],
      Resource: '*',
      Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    },
  ];
}

/** Returns the policy with both statements present (each replaced if it differs) and whether it changed. */
export function withTargetStatements(policyText: string, sid: string, targetAccount: string, partition = 'aws'): { policy: string; changed: boolean } {
  let doc: PolicyDocument;
  try {
    doc = JSON.parse(policyText) as PolicyDocument;
  } catch {
    throw new PreflightFailedError('The source KMS key policy is not valid JSON; fix it before crossmove edits it');
  }
  let statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement as PolicyStatement] : [];
  let changed = false;
  for (const wanted of targetStatements(sid, targetAccount, partition)) {
    const index = statements.findIndex((s) => s.Sid === wanted.Sid);
    if (index >= 0 && sameStatement(statements[index]!, wanted)) continue;
    statements = index >= 0 ? statements.map((s, i) => (i === index ? wanted : s)) : [...statements, wanted];
    changed = true;
  }
  return changed ? { policy: JSON.stringify({ ...doc, Statement: statements }), changed } : { policy: policyText, changed };
}

function sameStatement(a: PolicyStatement, b: PolicyStatement): boolean {
  const norm = (s: PolicyStatement) => JSON.stringify({ ...s, Action: [...(Array.isArray(s.Action) ? s.Action : [s.Action])].sort() });
  return norm(a) === norm(b);
}
