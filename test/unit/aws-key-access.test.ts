// "Let the target use the KMS key": GetKeyPolicy/PutKeyPolicy through the assumed role, the statement
// found by Sid (idempotent), replaced when it drifted, other statements kept.
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetKeyPolicyCommand, KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { localLambdaContext } from '../../shared/handler.js';
import { handler as grantKeyAccess } from '../../handlers/grant-key-access.js';
import { TARGET_KEY_ACTIONS, targetStatement } from '../../shared/aws/key-policy.js';
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
        { Sid: SID, Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${TGT}:root` }, Action: [...TARGET_KEY_ACTIONS], Resource: '*' },
      ],
    });
    expect(TARGET_KEY_ACTIONS.some((a) => a.includes('*'))).toBe(false);
    const creds = await Promise.all(kms.calls().map(async (c) => (await (c.thisValue as KMSClient).config.credentials()).accessKeyId));
    expect(new Set(creds)).toEqual(new Set([ASSUMED_KEY_ID]));
  });

  it('finds its statement on re-invocation and writes nothing (action order does not matter)', async () => {
    const existing = targetStatement(SID, TGT);
    kms.on(GetKeyPolicyCommand).resolves({ Policy: policy({ ...existing, Action: [...(existing.Action as string[])].reverse() }) });
    expect(await grantKeyAccess(inspected(), ctx)).toEqual({ keyArn: SOURCE_KEY, statementSid: SID, added: false });
    expect(kms.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
  });

  it('replaces a drifted statement with the same Sid instead of adding a second one', async () => {
    kms.on(GetKeyPolicyCommand).resolves({ Policy: policy({ Sid: SID, Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${TGT}:root` }, Action: ['kms:Decrypt'], Resource: '*' }) });
    kms.on(PutKeyPolicyCommand).resolves({});
    await grantKeyAccess(inspected(), ctx);
    const written = JSON.parse(kms.commandCalls(PutKeyPolicyCommand)[0]!.args[0].input.Policy!);
    expect(written.Statement.filter((s: { Sid: string }) => s.Sid === SID)).toEqual([targetStatement(SID, TGT)]);
    expect(written.Statement).toHaveLength(2);
  });

  it('is skipped in the same account and for an unencrypted source', async () => {
    expect(await grantKeyAccess({ ...inspected(), accounts: sameAccounts }, ctx)).toMatchObject({ skipped: true, added: false });
    expect(await grantKeyAccess(inspected(null), ctx)).toMatchObject({ skipped: true, added: false });
    expect(kms.calls()).toHaveLength(0);
  });
});
