// "Let the target use the KMS key": GetKeyPolicy/PutKeyPolicy through the assumed role, the statements
// found by Sid (idempotent), replaced when they drifted, other statements kept; and what is written
// compared with the documented example (Aurora User Guide, "Cross-account cloning with AWS RAM and
// Amazon Aurora" > "Cloning an Aurora cluster that is owned by another AWS account").
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetKeyPolicyCommand, KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { localLambdaContext } from '../../shared/handler.js';
import { handler as grantKeyAccess } from '../../handlers/grant-key-access.js';
import { TARGET_KEY_GRANT_ACTIONS, TARGET_KEY_USE_ACTIONS, targetStatements } from '../../shared/aws/key-policy.js';
import { ASSUMED_KEY_ID, SOURCE_KEY, SRC, TGT, assumeRoleResponse, crossAccountState, resetCaches, sameAccounts } from '../aws/mock-fixtures.js';

const kms = mockClient(KMSClient);
const sts = mockClient(STSClient);
const ctx = localLambdaContext('test');
const SID = 'CrossmoveTargetAccessorders202612';
const rootStatement = { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${SRC}:root` }, Action: 'kms:*', Resource: '*' };
const policy = (...extra: object[]) => JSON.stringify({ Version: '2012-10-17', Id: 'key-default-1', Statement: [rootStatement, ...extra] });
const inspected = (keyArn: string | null = SOURCE_KEY) => ({
  ...crossAccountState(),
  preflight: { ok: true, checks: [], sourceCluster: { engineVersion: '8.0.mysql_aurora.3.05.2', kmsKeyArn: keyArn, parameterGroup: 'orders-binlog', instanceCount: 1 } },
});

beforeEach(() => {
  kms.reset();
  sts.reset();
  resetCaches();
  sts.on(AssumeRoleCommand).resolves(assumeRoleResponse());
});

describe('Let the target use the KMS key', () => {
  it('adds the statement with exact parameters, keeping the existing ones', async () => {
    kms.on(GetKeyPolicyCommand).resolves({ Policy: policy(), PolicyName: 'default' });
    kms.on(PutKeyPolicyCommand).resolves({});
    const out = await grantKeyAccess(inspected(), ctx);
    expect(out).toEqual({ keyArn: SOURCE_KEY, statementSid: SID, added: true });
    expect(kms.commandCalls(GetKeyPolicyCommand).map((c) => c.args[0].input)).toEqual([{ KeyId: SOURCE_KEY, PolicyName: 'default' }]);
    const put = kms.commandCalls(PutKeyPolicyCommand).map((c) => c.args[0].input);
    expect(put).toHaveLength(1);
    expect(put[0]!.KeyId).toBe(SOURCE_KEY);
    expect(put[0]!.PolicyName).toBe('default');
    expect(JSON.parse(put[0]!.Policy!)).toEqual({
      Version: '2012-10-17',
      Id: 'key-default-1',
      Statement: [
        rootStatement,
        { Sid: SID, Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${TGT}:root` }, Action: [...TARGET_KEY_USE_ACTIONS], Resource: '*' },
        {
          Sid: `${SID}Grants`,
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${TGT}:root` },
          Action: [...TARGET_KEY_GRANT_ACTIONS],
          Resource: '*',
          Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
        },
      ],
    });
    expect([...TARGET_KEY_USE_ACTIONS, ...TARGET_KEY_GRANT_ACTIONS].some((a) => a.includes('*'))).toBe(false);
    const creds = await Promise.all(kms.calls().map(async (c) => (await (c.thisValue as KMSClient).config.credentials()).accessKeyId));
    expect(new Set(creds)).toEqual(new Set([ASSUMED_KEY_ID]));
  });

  it('finds its statement on re-invocation and writes nothing (action order does not matter)', async () => {
    const [use, grants] = targetStatements(SID, TGT);
    kms.on(GetKeyPolicyCommand).resolves({ Policy: policy({ ...use, Action: [...(use!.Action as string[])].reverse() }, grants!) });
    expect(await grantKeyAccess(inspected(), ctx)).toEqual({ keyArn: SOURCE_KEY, statementSid: SID, added: false });
    expect(kms.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
  });

  it('replaces a drifted statement with the same Sid instead of adding a second one (the single unconditioned statement of earlier versions included)', async () => {
    const earlier = { Sid: SID, Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${TGT}:root` }, Action: ['kms:Decrypt', 'kms:CreateGrant'], Resource: '*' };
    kms.on(GetKeyPolicyCommand).resolves({ Policy: policy(earlier) });
    kms.on(PutKeyPolicyCommand).resolves({});
    await grantKeyAccess(inspected(), ctx);
    const written = JSON.parse(kms.commandCalls(PutKeyPolicyCommand)[0]!.args[0].input.Policy!);
    expect(written.Statement).toEqual([rootStatement, ...targetStatements(SID, TGT)]);
  });

  // The example key policy of the Aurora User Guide ("Cross-account cloning with AWS RAM and Amazon
  // Aurora" > "Cloning an Aurora cluster that is owned by another AWS account"), for account_id = TGT.
  const DOCUMENTED_EXAMPLE = [
    { Sid: 'Allow use of the key', Action: ['kms:CreateGrant', 'kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'], Condition: undefined },
    { Sid: 'Allow attachment of persistent resources', Action: ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant'], Condition: { Bool: { 'kms:GrantIsForAWSResource': true } } },
  ];
  // Wildcards of the example expanded to the actions RDS storage encryption uses (key pairs are not).
  const EXPANDED: Record<string, string[]> = { 'kms:ReEncrypt*': ['kms:ReEncryptFrom', 'kms:ReEncryptTo'], 'kms:GenerateDataKey*': ['kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext'] };
  const expand = (actions: string[]) => actions.flatMap((a) => EXPANDED[a] ?? [a]).sort();

  it('matches the documented example: same principal, same actions, grants only for AWS resources (its only deviation: no unconditioned CreateGrant)', () => {
    const [use, grants] = targetStatements(SID, TGT);
    for (const s of [use!, grants!]) {
      expect(s.Principal).toEqual({ AWS: `arn:aws:iam::${TGT}:root` });
      expect(s.Resource).toBe('*');
    }
    expect(expand(DOCUMENTED_EXAMPLE[0]!.Action).filter((a) => a !== 'kms:CreateGrant')).toEqual([...(use!.Action as string[])].sort());
    expect(use!.Condition).toBeUndefined();
    expect(expand(DOCUMENTED_EXAMPLE[1]!.Action)).toEqual([...(grants!.Action as string[])].sort());
    // The key policy's JSON Bool takes the string form too; the meaning is the example's.
    expect(grants!.Condition).toEqual({ Bool: { 'kms:GrantIsForAWSResource': String(DOCUMENTED_EXAMPLE[1]!.Condition!.Bool['kms:GrantIsForAWSResource']) } });
    // Everything the example lets the other account do with the key is granted by one of the two statements.
    const granted = new Set([...(use!.Action as string[]), ...(grants!.Action as string[])]);
    expect(expand(DOCUMENTED_EXAMPLE.flatMap((s) => s.Action)).filter((a) => !granted.has(a))).toEqual([]);
  });

  it('is skipped in the same account and for an unencrypted source', async () => {
    expect(await grantKeyAccess({ ...inspected(), accounts: sameAccounts }, ctx)).toMatchObject({ skipped: true, added: false });
    expect(await grantKeyAccess(inspected(null), ctx)).toMatchObject({ skipped: true, added: false });
    expect(kms.calls()).toHaveLength(0);
  });
});
