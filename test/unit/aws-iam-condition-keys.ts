// The service-specific condition keys each IAM action supports, copied from the Service Authorization
// Reference ("Actions, resources, and condition keys for ..." pages: AWS RAM, AWS KMS, AWS STS, CloudWatch) for every
// action crossmove's policies put a condition on. A key an action does not support is absent from the
// request context, so a plain condition on it DENIES every call (the reason this table exists).
// Global keys (aws:*) are valid for every action. An action with a condition that is not listed here
// fails the test: look it up and add it.
const SERVICE_CONDITION_KEYS: Record<string, string[]> = {
  'ram:CreateResourceShare': ['ram:RequestedResourceType', 'ram:ResourceArn', 'ram:RequestedAllowsExternalPrincipals', 'ram:Principal'],
  'ram:AssociateResourceShare': ['ram:ResourceShareName', 'ram:AllowsExternalPrincipals', 'ram:Principal', 'ram:RequestedResourceType', 'ram:ResourceArn'],
  'ram:DeleteResourceShare': ['ram:ResourceShareName', 'ram:AllowsExternalPrincipals'],
  'ram:AcceptResourceShareInvitation': ['ram:ShareOwnerAccountId', 'ram:ResourceShareName'],
  'cloudwatch:PutMetricData': ['cloudwatch:namespace'],
  'sts:AssumeRole': ['sts:ExternalId', 'sts:RoleSessionName', 'sts:SourceIdentity', 'sts:TransitiveTagKeys'],
  'kms:CreateGrant': [
    'kms:CallerAccount', 'kms:EncryptionContext:${EncryptionContextKey}', 'kms:EncryptionContextKeys', 'kms:GrantConstraintType',
    'kms:GrantIsForAWSResource', 'kms:GrantOperations', 'kms:GranteePrincipal', 'kms:KeyOrigin', 'kms:KeySpec', 'kms:KeyUsage',
    'kms:RetiringPrincipal', 'kms:ViaService',
  ],
  'kms:Decrypt': ['kms:CallerAccount', 'kms:EncryptionAlgorithm', 'kms:EncryptionContext:${EncryptionContextKey}', 'kms:EncryptionContextKeys', 'kms:KeyOrigin', 'kms:KeySpec', 'kms:KeyUsage', 'kms:RecipientAttestation:ImageSha384', 'kms:ViaService'],
  'kms:ReEncryptFrom': ['kms:CallerAccount', 'kms:EncryptionAlgorithm', 'kms:EncryptionContext:${EncryptionContextKey}', 'kms:EncryptionContextKeys', 'kms:KeyOrigin', 'kms:KeySpec', 'kms:KeyUsage', 'kms:ReEncryptOnSameKey', 'kms:ViaService'],
  'kms:ReEncryptTo': ['kms:CallerAccount', 'kms:EncryptionAlgorithm', 'kms:EncryptionContext:${EncryptionContextKey}', 'kms:EncryptionContextKeys', 'kms:KeyOrigin', 'kms:KeySpec', 'kms:KeyUsage', 'kms:ReEncryptOnSameKey', 'kms:ViaService'],
  'kms:ListGrants': ['kms:CallerAccount', 'kms:GrantIsForAWSResource', 'kms:ViaService'],
  'kms:RevokeGrant': ['kms:CallerAccount', 'kms:GrantIsForAWSResource', 'kms:ViaService'],
  'kms:Encrypt': ['kms:CallerAccount', 'kms:EncryptionAlgorithm', 'kms:EncryptionContext:${EncryptionContextKey}', 'kms:EncryptionContextKeys', 'kms:RequestAlias', 'kms:ViaService'],
  'kms:GenerateDataKeyWithoutPlaintext': ['kms:CallerAccount', 'kms:EncryptionAlgorithm', 'kms:EncryptionContext:${EncryptionContextKey}', 'kms:EncryptionContextKeys', 'kms:RequestAlias', 'kms:ViaService'],
  'kms:DescribeKey': ['kms:CallerAccount', 'kms:KeyOrigin', 'kms:KeySpec', 'kms:KeyUsage', 'kms:ViaService'],
  'kms:GenerateDataKey': ['kms:CallerAccount', 'kms:EncryptionAlgorithm', 'kms:EncryptionContext:${EncryptionContextKey}', 'kms:EncryptionContextKeys', 'kms:KeyOrigin', 'kms:KeySpec', 'kms:KeyUsage', 'kms:RecipientAttestation:ImageSha384', 'kms:ViaService'],
};

/** RAM checks a create/associate once per resource and once per principal; each context has only its part's keys. */
const RAM_PER_PART_KEYS = new Set(['ram:Principal', 'ram:ResourceArn', 'ram:RequestedResourceType']);

interface Stmt {
  Sid?: string;
  Action: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

/** Every problem with the condition keys of these statements, as readable lines (empty = fine). */
export function conditionKeyProblems(statements: Stmt[]): string[] {
  const problems: string[] = [];
  for (const s of statements) {
    if (!s.Condition) continue;
    const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
    for (const [operator, keys] of Object.entries(s.Condition)) {
      for (const key of Object.keys(keys)) {
        if (key.toLowerCase().startsWith('aws:')) continue;
        for (const action of actions) {
          const valid = SERVICE_CONDITION_KEYS[action];
          if (!valid) problems.push(`${s.Sid ?? action}: ${action} is not in the condition-key table (key ${key})`);
          else if (!valid.includes(key)) problems.push(`${s.Sid ?? action}: ${key} is not a condition key of ${action}`);
          if (action.startsWith('ram:') && RAM_PER_PART_KEYS.has(key) && !operator.endsWith('IfExists')) {
            problems.push(`${s.Sid ?? action}: ${key} on ${action} needs an ...IfExists operator (RAM authorises resources and principals separately)`);
          }
        }
      }
    }
  }
  return problems;
}
