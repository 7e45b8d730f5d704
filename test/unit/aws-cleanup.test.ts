// "Clean up (AWS)" with exact parameters (aws-sdk-client-mock, API-shaped responses): what moto cannot
// show (a real delete that takes two runs, deletion protection, a secret already scheduled for
// deletion, RAM's UnknownResourceException) and the local secret store on the real filesystem.
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DeleteDBClusterCommand, DeleteDBClusterSnapshotCommand, DeleteDBInstanceCommand, DescribeDBClusterSnapshotsCommand, DescribeDBClustersCommand,
  DescribeDBInstancesCommand, RDSClient, StopDBClusterCommand,
} from '@aws-sdk/client-rds';
import { GetKeyPolicyCommand, KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { DeleteResourceShareCommand, GetResourceSharesCommand, RAMClient } from '@aws-sdk/client-ram';
import { DeleteSecretCommand, DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { localLambdaContext } from '../../shared/handler.js';
import type { CleanupReport, CutoverResult } from '../../shared/state.js';
import type { CleanupState } from '../../shared/cleanup/types.js';
import { withoutStatement } from '../../shared/cleanup/key-statement.js';
import { handler as cleanupAws } from '../../handlers/cleanup-aws.js';
import { ASSUMED_KEY_ID, REGION, SOURCE_ARN, SOURCE_KEY, SRC, TGT, assumeRoleResponse, crossAccountState, resetCaches, sourceCluster } from '../aws/mock-fixtures.js';

const rds = mockClient(RDSClient);
const kms = mockClient(KMSClient);
const ram = mockClient(RAMClient);
const sm = mockClient(SecretsManagerClient);
const sts = mockClient(STSClient);
const ctx = localLambdaContext('test');
const errorOf = (p: Promise<unknown>) => p.then(() => { throw new Error('expected the step to fail'); }, (e: Error) => e);
const fault = (name: string, message = name) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
const run = (state: CleanupState) => cleanupAws(state, ctx) as Promise<CleanupReport>;
const byKind = (r: CleanupReport, kind: string) => r.items.filter((i) => i.kind === kind);

const SHARE_ARN = `arn:aws:ram:${REGION}:${SRC}:resource-share/7ab63972-b505-7e2a-420d-6f5d3EXAMPLE`;
const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${TGT}:secret:crossmove/orders-2026-12/replication-user-AbCdEf`;
const ADMIN_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${TGT}:secret:crossmove/orders-2026-12/target-admin-GhIjKl`;
const ADMIN_DESCRIPTION = 'crossmove orders-2026-12: master user of cluster orders-prod-moved (password set by crossmove)';
const SID = 'CrossmoveTargetAccessorders202612';
const ROOT_STATEMENT = { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${SRC}:root` }, Action: 'kms:*', Resource: '*' };
const OUR_STATEMENT = { Sid: SID, Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${TGT}:root` }, Action: ['kms:Decrypt'], Resource: '*' };
const OUR_GRANT_STATEMENT = { Sid: `${SID}Grants`, Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${TGT}:root` }, Action: ['kms:CreateGrant'], Resource: '*', Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } } };
const cutoverOk: CutoverResult = {
  ok: true, rolledBack: false, writeBlockedMs: 20, finalSourcePosition: { file: 'f', position: 1 }, targetPositionAtSwitch: { file: 'g', position: 2 },
  tablesVerified: 1, checksumsMatch: true, grantDifferences: [], steps: [],
};

function cleanupState(extra: Partial<CleanupState> = {}, overrides: Record<string, any> = {}): CleanupState {
  return {
    ...crossAccountState(overrides),
    preflight: { ok: true, checks: [], sourceCluster: { engineVersion: '8.0.mysql_aurora.3.05.2', kmsKeyArn: SOURCE_KEY, parameterGroup: 'orders-binlog', instanceCount: 1 } },
    keyAccess: { keyArn: SOURCE_KEY, statementSid: SID, added: true },
    replicationUser: { userName: 'crossmove_repl', secretRef: SECRET_ARN, requireSsl: true },
    targetAdmin: { done: true, attempts: 2, status: 'in-effect', secretRef: ADMIN_SECRET_ARN, username: 'admin', clusterIdentifier: 'orders-prod-moved', createdSecret: true },
    cutover: cutoverOk,
    ...extra,
  };
}

function everythingPresent() {
  ram.on(GetResourceSharesCommand).resolves({ resourceShares: [{ resourceShareArn: SHARE_ARN, name: 'crossmove-orders-2026-12', status: 'ACTIVE', owningAccountId: SRC }] });
  ram.on(DeleteResourceShareCommand).resolves({ returnValue: true, clientToken: 'crossmove-orders-2026-12-delete' });
  kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify({ Version: '2012-10-17', Id: 'key-default-1', Statement: [ROOT_STATEMENT, OUR_STATEMENT] }), PolicyName: 'default' });
  kms.on(PutKeyPolicyCommand).resolves({});
  sm.on(DescribeSecretCommand).resolves({ ARN: SECRET_ARN, Name: 'crossmove/orders-2026-12/replication-user' });
  sm.on(DeleteSecretCommand).resolves({ ARN: SECRET_ARN, Name: 'crossmove/orders-2026-12/replication-user', DeletionDate: new Date() });
  sm.on(DescribeSecretCommand, { SecretId: ADMIN_SECRET_ARN }).resolves({ ARN: ADMIN_SECRET_ARN, Name: 'crossmove/orders-2026-12/target-admin', Description: ADMIN_DESCRIPTION });
  sm.on(DeleteSecretCommand, { SecretId: ADMIN_SECRET_ARN, RecoveryWindowInDays: 30 }).resolves({ ARN: ADMIN_SECRET_ARN, Name: 'crossmove/orders-2026-12/target-admin', DeletionDate: new Date() });
}

let savedStore: string | undefined;
beforeEach(() => {
  for (const m of [rds, kms, ram, sm, sts]) m.reset();
  resetCaches();
  sts.on(AssumeRoleCommand).resolves(assumeRoleResponse());
  savedStore = process.env.CROSSMOVE_SECRET_STORE;
  delete process.env.CROSSMOVE_SECRET_STORE;
});
afterEach(() => {
  if (savedStore === undefined) delete process.env.CROSSMOVE_SECRET_STORE;
  else process.env.CROSSMOVE_SECRET_STORE = savedStore;
});

describe('key policy statement', () => {
  it('removes only the statements with its Sids (use and grants) and keeps the rest of the document', () => {
    const policy = JSON.stringify({ Version: '2012-10-17', Id: 'key-default-1', Statement: [ROOT_STATEMENT, OUR_STATEMENT, OUR_GRANT_STATEMENT] });
    const out = withoutStatement(policy, SID);
    expect(out.changed).toBe(true);
    expect(JSON.parse(out.policy)).toEqual({ Version: '2012-10-17', Id: 'key-default-1', Statement: [ROOT_STATEMENT] });
    expect(withoutStatement(out.policy, SID)).toEqual({ policy: out.policy, changed: false });
    expect(() => withoutStatement('{not json', SID)).toThrow(/not valid JSON/);
  });
});

describe('Clean up (AWS)', () => {
  it('deletes the share, writes the policy without the statement, force-deletes the secret: exact parameters, right accounts', async () => {
    everythingPresent();
    const report = await run(cleanupState());
    expect(report).toEqual({
      migrationId: 'orders-2026-12',
      complete: true,
      items: [
        { kind: 'ram-share', id: SHARE_ARN, account: SRC, outcome: 'removed' },
        { kind: 'kms-key-statement', id: SID, account: SRC, outcome: 'removed', detail: `from the policy of ${SOURCE_KEY}` },
        { kind: 'replication-secret', id: SECRET_ARN, account: TGT, outcome: 'removed' },
        {
          kind: 'target-admin-secret', id: ADMIN_SECRET_ARN, account: TGT, outcome: 'removed',
          detail: `scheduled for deletion in 30 days; it holds the master password of cluster orders-prod-moved: keep it with aws secretsmanager restore-secret --secret-id ${ADMIN_SECRET_ARN}, or set a password of your own before then (aws rds modify-db-cluster --db-cluster-identifier orders-prod-moved --master-user-password ...)`,
        },
        { kind: 'source-cluster', id: SOURCE_ARN, account: SRC, outcome: 'kept', detail: 'not asked to (cleanupOptions.sourceCluster stop or delete)' },
      ],
    });
    expect(ram.commandCalls(GetResourceSharesCommand)[0]!.args[0].input).toEqual({ resourceOwner: 'SELF', name: 'crossmove-orders-2026-12', resourceShareStatus: 'ACTIVE', nextToken: undefined });
    expect(ram.commandCalls(DeleteResourceShareCommand).map((c) => c.args[0].input)).toEqual([{ resourceShareArn: SHARE_ARN, clientToken: 'crossmove-orders-2026-12-delete' }]);
    const put = kms.commandCalls(PutKeyPolicyCommand).map((c) => c.args[0].input);
    expect(put).toEqual([{ KeyId: SOURCE_KEY, PolicyName: 'default', Policy: JSON.stringify({ Version: '2012-10-17', Id: 'key-default-1', Statement: [ROOT_STATEMENT] }) }]);
    // The replication secret at once (the migrationId may be run again); the target admin's with a recovery
    // window: it holds the only copy of the new primary's master password.
    expect(sm.commandCalls(DeleteSecretCommand).map((c) => c.args[0].input)).toEqual([
      { SecretId: SECRET_ARN, ForceDeleteWithoutRecovery: true },
      { SecretId: ADMIN_SECRET_ARN, RecoveryWindowInDays: 30 },
    ]);
    // RAM and KMS in the source account (assumed role); Secrets Manager in the pipeline's account.
    const keyOf = async (client: unknown) => (await (client as RDSClient).config.credentials()).accessKeyId;
    expect(await keyOf(ram.commandCalls(DeleteResourceShareCommand)[0]!.thisValue)).toBe(ASSUMED_KEY_ID);
    expect(await keyOf(kms.commandCalls(PutKeyPolicyCommand)[0]!.thisValue)).toBe(ASSUMED_KEY_ID);
    expect(await keyOf(sm.commandCalls(DeleteSecretCommand)[0]!.thisValue)).not.toBe(ASSUMED_KEY_ID);
    // Nothing else was touched: the source cluster was not even described.
    expect(rds.calls()).toHaveLength(0);
  });

  it('reports what is already gone without changing anything', async () => {
    ram.on(GetResourceSharesCommand).resolves({ resourceShares: [] });
    kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify({ Version: '2012-10-17', Statement: [ROOT_STATEMENT] }) });
    sm.on(DescribeSecretCommand).rejects(fault('ResourceNotFoundException', "Secrets Manager can't find the specified secret."));
    const report = await run(cleanupState());
    expect(report.items.map((i) => `${i.kind}:${i.outcome}`)).toEqual(['ram-share:gone', 'kms-key-statement:gone', 'replication-secret:gone', 'target-admin-secret:gone', 'source-cluster:kept']);
    expect(ram.commandCalls(DeleteResourceShareCommand)).toHaveLength(0);
    expect(kms.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
    expect(sm.commandCalls(DeleteSecretCommand)).toHaveLength(0);
  });

  it('treats a share deleted meanwhile and a secret already marked for deletion as gone', async () => {
    everythingPresent();
    ram.on(DeleteResourceShareCommand).rejects(fault('UnknownResourceException'));
    sm.on(DeleteSecretCommand).rejects(fault('InvalidRequestException', "You tried to perform the operation on a secret that's currently marked deleted."));
    const report = await run(cleanupState());
    expect(report.items.slice(0, 3).map((i) => i.outcome)).toEqual(['gone', 'removed', 'gone']);
  });

  it('skips RAM and KMS for a same-account migration and finds the key from the cluster when the state lacks it', async () => {
    everythingPresent();
    const same = cleanupState({ accounts: { source: TGT, target: TGT, sameAccount: true, sourceRegion: REGION, targetRegion: REGION } });
    expect((await run(same)).items.slice(0, 2).map((i) => i.outcome)).toEqual(['skipped', 'skipped']);
    expect(ram.calls()).toHaveLength(0);
    expect(kms.calls()).toHaveLength(0);

    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [sourceCluster()] });
    const report = await run(cleanupState({ keyAccess: undefined, preflight: undefined }));
    expect(byKind(report, 'kms-key-statement')[0]!.outcome).toBe('removed');
    expect(rds.commandCalls(DescribeDBClustersCommand)[0]!.args[0].input).toEqual({ DBClusterIdentifier: SOURCE_ARN });
  });

  it('deletes the local secret file of a local run (real filesystem), then reports it gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crossmove-cleanup-'));
    process.env.CROSSMOVE_SECRET_STORE = `local:${dir}`;
    const file = join(dir, 'crossmove/orders-2026-12/replication-user.json');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'crossmove/orders-2026-12'), { recursive: true });
    writeFileSync(file, JSON.stringify({ username: 'crossmove_repl', password: 'local-pw-1' }));
    const local: CleanupState = { input: { ...cleanupState().input, source: { adminSecret: 'env:SRC', endpoint: { host: '127.0.0.1', port: 3306 } } } as CleanupState['input'], accounts: { source: null, target: null, sameAccount: true, sourceRegion: null, targetRegion: null } };
    const first = await run(local);
    expect(first.items).toEqual([
      { kind: 'ram-share', id: 'crossmove-orders-2026-12', account: null, outcome: 'skipped', detail: 'endpoint-only source: nothing was shared' },
      { kind: 'kms-key-statement', id: SID, account: null, outcome: 'skipped', detail: 'endpoint-only source: no key policy was changed' },
      { kind: 'replication-secret', id: `file:${file}`, account: null, outcome: 'removed' },
      { kind: 'target-admin-secret', id: 'crossmove/orders-2026-12/target-admin', account: null, outcome: 'skipped', detail: 'a logical copy uses target.adminSecret: crossmove made no target admin secret' },
    ]);
    expect(existsSync(file)).toBe(false);
    expect((await run(local)).items[2]!.outcome).toBe('gone');
    expect(sm.calls()).toHaveLength(0);
  });
});

describe('the target admin secret', () => {
  it('keeps a secret of that name crossmove did not make, and reports one already scheduled for deletion as gone', async () => {
    everythingPresent();
    sm.on(DescribeSecretCommand, { SecretId: ADMIN_SECRET_ARN }).resolves({ ARN: ADMIN_SECRET_ARN, Name: 'crossmove/orders-2026-12/target-admin', Description: 'team DBA secret' });
    expect(byKind(await run(cleanupState()), 'target-admin-secret')[0]).toMatchObject({ outcome: 'kept', detail: 'not made by crossmove for this migration' });
    sm.on(DescribeSecretCommand, { SecretId: ADMIN_SECRET_ARN }).resolves({ ARN: ADMIN_SECRET_ARN, Description: ADMIN_DESCRIPTION, DeletedDate: new Date('2026-12-01T10:00:00Z') });
    expect(byKind(await run(cleanupState()), 'target-admin-secret')[0]).toMatchObject({ outcome: 'gone', detail: 'already scheduled for deletion on 2026-12-01T10:00:00.000Z' });
    expect(sm.commandCalls(DeleteSecretCommand).filter((c) => c.args[0].input.SecretId === ADMIN_SECRET_ARN)).toHaveLength(0);
  });

  it('is found by its derived name when the state lacks the reset result', async () => {
    everythingPresent();
    sm.on(DescribeSecretCommand, { SecretId: 'crossmove/orders-2026-12/target-admin' }).resolves({ ARN: ADMIN_SECRET_ARN, Description: ADMIN_DESCRIPTION });
    sm.on(DeleteSecretCommand, { SecretId: 'crossmove/orders-2026-12/target-admin', RecoveryWindowInDays: 30 }).resolves({ ARN: ADMIN_SECRET_ARN });
    expect(byKind(await run(cleanupState({ targetAdmin: undefined })), 'target-admin-secret')[0]).toMatchObject({ outcome: 'removed', id: 'crossmove/orders-2026-12/target-admin' });
  });
});

describe('the old source cluster', () => {
  it('is never stopped or deleted without a successful cutover: refused before anything is removed', async () => {
    everythingPresent();
    for (const cutover of [undefined, { ...cutoverOk, ok: false }, { ...cutoverOk, rolledBack: true }]) {
      const err = await errorOf(run(cleanupState({ cutover, cleanupOptions: { sourceCluster: 'delete' } })));
      expect(err.name).toBe('CleanupRefusedError');
      expect(err.message).toContain('no successful cutover');
    }
    expect([...ram.calls(), ...kms.calls(), ...sm.calls(), ...rds.calls()]).toHaveLength(0);
  });

  it('stops it with the assumed role when asked', async () => {
    everythingPresent();
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [sourceCluster()] });
    rds.on(StopDBClusterCommand).resolves({ DBCluster: sourceCluster({ Status: 'stopping' }) });
    const report = await run(cleanupState({ cleanupOptions: { sourceCluster: 'stop' } }));
    expect(byKind(report, 'source-cluster')[0]).toMatchObject({ outcome: 'stopped', id: SOURCE_ARN });
    expect(rds.commandCalls(StopDBClusterCommand).map((c) => c.args[0].input)).toEqual([{ DBClusterIdentifier: 'orders-prod' }]);
  });

  it('deletes the instances first and the cluster on the next run, with a final snapshot', async () => {
    everythingPresent();
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [sourceCluster()] });
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceIdentifier: 'orders-prod-1', DBClusterIdentifier: 'orders-prod', DBInstanceStatus: 'deleting' }] });
    rds.on(DeleteDBInstanceCommand).resolves({});
    const first = await run(cleanupState({ cleanupOptions: { sourceCluster: 'delete' } }));
    expect(first.complete).toBe(false);
    expect(byKind(first, 'source-instance')).toEqual([{ kind: 'source-instance', id: 'orders-prod-1', account: SRC, outcome: 'pending', detail: 'being deleted' }]);
    expect(byKind(first, 'source-cluster')[0]!.outcome).toBe('pending');
    // Already deleting: not asked twice.
    expect(rds.commandCalls(DeleteDBInstanceCommand)).toHaveLength(0);
    expect(rds.commandCalls(DeleteDBClusterCommand)).toHaveLength(0);

    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [sourceCluster({ DBClusterMembers: [] })] });
    rds.on(DeleteDBClusterCommand).resolves({ DBCluster: sourceCluster({ Status: 'deleting' }) });
    const second = await run(cleanupState({ cleanupOptions: { sourceCluster: 'delete' } }));
    expect(second.complete).toBe(true);
    expect(rds.commandCalls(DeleteDBClusterCommand).map((c) => c.args[0].input)).toEqual([
      { DBClusterIdentifier: 'orders-prod', SkipFinalSnapshot: false, FinalDBSnapshotIdentifier: 'crossmove-orders-2026-12-final' },
    ]);
  });

  it('deletes an available instance with exact parameters', async () => {
    everythingPresent();
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [sourceCluster()] });
    rds.on(DescribeDBInstancesCommand).resolvesOnce({ DBInstances: [{ DBInstanceIdentifier: 'orders-prod-1', DBInstanceStatus: 'available' }] }).resolves({ DBInstances: [{ DBInstanceIdentifier: 'orders-prod-1', DBInstanceStatus: 'deleting' }] });
    rds.on(DeleteDBInstanceCommand).resolves({});
    await run(cleanupState({ cleanupOptions: { sourceCluster: 'delete' } }));
    expect(rds.commandCalls(DeleteDBInstanceCommand).map((c) => c.args[0].input)).toEqual([{ DBInstanceIdentifier: 'orders-prod-1' }]);
  });

  it('reports deletion protection as blocked with the command that fixes it', async () => {
    everythingPresent();
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [sourceCluster({ DeletionProtection: true })] });
    const report = await run(cleanupState({ cleanupOptions: { sourceCluster: 'delete' } }));
    expect(report.complete).toBe(false);
    expect(byKind(report, 'source-cluster')[0]!.detail).toContain('--no-deletion-protection');
    expect(rds.commandCalls(DeleteDBInstanceCommand)).toHaveLength(0);
  });
});

describe('snapshot path artifacts', () => {
  it('deletes only a copy tagged for this migration and a source snapshot of this cluster', async () => {
    everythingPresent();
    rds.on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-copy' }).resolves({
      DBClusterSnapshots: [{ DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-copy', DBClusterIdentifier: 'orders-prod', Status: 'available', TagList: [] }],
    });
    rds.on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-source' }).resolves({
      DBClusterSnapshots: [{ DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-source', DBClusterIdentifier: 'orders-prod', Status: 'available' }],
    });
    rds.on(DeleteDBClusterSnapshotCommand).resolves({});
    const report = await run(cleanupState({}, { initialLoad: { method: 'snapshot' } }));
    expect(byKind(report, 'target-snapshot-copy')[0]).toMatchObject({ outcome: 'kept', detail: 'not tagged crossmove:migrationId=orders-2026-12' });
    expect(byKind(report, 'source-snapshot')[0]).toMatchObject({ outcome: 'removed', account: SRC });
    expect(rds.commandCalls(DeleteDBClusterSnapshotCommand).map((c) => c.args[0].input)).toEqual([{ DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-source' }]);
  });
});

describe('the snapshot key of a shareable copy', () => {
  it('is the key whose statement cleanup removes when the state is only the input', async () => {
    const snapshotKey = `arn:aws:kms:eu-west-1:${SRC}:key/5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b`;
    everythingPresent();
    const { input, accounts } = cleanupState({}, { initialLoad: { method: 'snapshot' }, source: { snapshotKmsKeyId: snapshotKey } });
    const report = await run({ input, accounts });
    expect(report.items.find((i) => i.kind === 'kms-key-statement')).toMatchObject({ outcome: 'removed', detail: `from the policy of ${snapshotKey}` });
    const put = kms.commandCalls(PutKeyPolicyCommand);
    expect(put.map((c) => c.args[0].input.KeyId)).toEqual([snapshotKey]);
    expect(await (put[0]!.thisValue as KMSClient).config.region()).toBe('eu-west-1');
  });
});
