// The cross-account clone limits are checked before anything changes: a source that is itself a shared
// clone, a source already shared with 15 other accounts, and a second clone in the same target account.
import { DescribeDBClustersCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetResourceShareAssociationsCommand, RAMClient } from '@aws-sdk/client-ram';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { cloneLimitChecks } from '../../shared/preflight/clone-checks.js';
import { SOURCE_ARN, SRC, TGT, assumeRoleResponse, crossAccountState, resetCaches, sameAccounts, sourceCluster } from '../aws/mock-fixtures.js';

const rds = mockClient(RDSClient);
const ram = mockClient(RAMClient);
const sts = mockClient(STSClient);
const shareArn = (n: number) => `arn:aws:ram:us-east-1:${SRC}:resource-share/0000000${n}-aaaa-bbbb-cccc-000000000000`;

function sharedWith(accounts: string[]): void {
  // GetResourceShareAssociations shaped like the RAM API reference.
  ram.on(GetResourceShareAssociationsCommand, { associationType: 'RESOURCE' }).resolves({
    resourceShareAssociations: accounts.map((_, i) => ({ resourceShareArn: shareArn(i), associatedEntity: SOURCE_ARN, associationType: 'RESOURCE', status: 'ASSOCIATED' })),
  });
  accounts.forEach((account, i) =>
    ram.on(GetResourceShareAssociationsCommand, { associationType: 'PRINCIPAL', resourceShareArns: [shareArn(i)] }).resolves({
      resourceShareAssociations: [{ resourceShareArn: shareArn(i), associatedEntity: account, associationType: 'PRINCIPAL', status: 'ASSOCIATED', external: true }],
    }),
  );
}

beforeEach(() => {
  rds.reset();
  ram.reset();
  sts.reset();
  resetCaches();
  sts.on(AssumeRoleCommand).resolves(assumeRoleResponse());
  rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [] });
});

const byId = (checks: { id: string; status: string }[]) => Object.fromEntries(checks.map((c) => [c.id, c.status]));

describe('cross-account clone limits', () => {
  it('pass for a plain source shared with few accounts and no clone in the target account', async () => {
    sharedWith(['333333333333', TGT]);
    const { input, accounts } = crossAccountState();
    const checks = await cloneLimitChecks(input, accounts, sourceCluster({ CloneGroupId: 'clone-group-1' }));
    expect(byId(checks)).toEqual({ 'clone-of-shared-clone': 'pass', 'clone-limit': 'pass', 'clone-per-account': 'pass' });
    expect(ram.commandCalls(GetResourceShareAssociationsCommand)[0]!.args[0].input).toMatchObject({ associationType: 'RESOURCE', resourceArn: SOURCE_ARN });
  });

  it('fail for a source that is itself a cross-account clone', async () => {
    sharedWith([]);
    const { input, accounts } = crossAccountState();
    const checks = await cloneLimitChecks(input, accounts, sourceCluster({ CrossAccountClone: true }));
    expect(byId(checks)['clone-of-shared-clone']).toBe('fail');
  });

  it('fail when 15 other accounts already have the cluster shared with them', async () => {
    sharedWith(Array.from({ length: 15 }, (_, i) => String(400000000000 + i)));
    const { input, accounts } = crossAccountState();
    const checks = await cloneLimitChecks(input, accounts, sourceCluster());
    const limit = checks.find((c) => c.id === 'clone-limit')!;
    expect(limit.status).toBe('fail');
    expect(limit.message).toContain('15 other accounts');
  });

  it('fail when the target account already has another clone of the source, but not for our own', async () => {
    sharedWith([TGT]);
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [
        { DBClusterIdentifier: 'someone-elses-clone', CloneGroupId: 'clone-group-1', TagList: [] },
        { DBClusterIdentifier: 'unrelated', CloneGroupId: 'clone-group-9', TagList: [] },
      ],
    });
    const { input, accounts } = crossAccountState();
    const checks = await cloneLimitChecks(input, accounts, sourceCluster({ CloneGroupId: 'clone-group-1' }));
    expect(checks.find((c) => c.id === 'clone-per-account')).toMatchObject({ status: 'fail', message: expect.stringContaining('someone-elses-clone') });

    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [{ DBClusterIdentifier: 'orders-prod-moved', CloneGroupId: 'clone-group-1', TagList: [{ Key: 'crossmove:migrationId', Value: 'orders-2026-12' }] }] });
    expect(byId(await cloneLimitChecks(input, accounts, sourceCluster({ CloneGroupId: 'clone-group-1' })))['clone-per-account']).toBe('pass');
  });

  it('are not checked for same-account migrations or other initial loads', async () => {
    const { input } = crossAccountState();
    expect(await cloneLimitChecks(input, sameAccounts, sourceCluster())).toEqual([]);
    const snapshot = crossAccountState({ initialLoad: { method: 'snapshot' } });
    expect(await cloneLimitChecks(snapshot.input, snapshot.accounts, sourceCluster())).toEqual([]);
    expect(ram.calls()).toHaveLength(0);
  });
});
