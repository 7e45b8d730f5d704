// "Clone the cluster", "Check the clone", "Create the writer", "Check the writer" with exact RDS
// parameters. moto cannot show a cross-account clone (nothing is visible across accounts), the
// `creating` states or failed clones: covered here.
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CreateDBClusterParameterGroupCommand, CreateDBInstanceCommand, DescribeDBClusterParameterGroupsCommand, DescribeDBClustersCommand, DescribeDBInstancesCommand,
  ModifyDBClusterParameterGroupCommand, RDSClient, RestoreDBClusterToPointInTimeCommand,
} from '@aws-sdk/client-rds';
import { localLambdaContext } from '../../shared/handler.js';
import type { MigrationState } from '../../shared/state.js';
import { handler as cloneCluster } from '../../handlers/clone-cluster.js';
import { handler as checkClone } from '../../handlers/check-clone.js';
import { handler as createWriter } from '../../handlers/create-writer.js';
import { handler as checkWriter } from '../../handlers/check-writer.js';
import { SOURCE_ARN, TGT, crossAccountState, mockTargetParameterGroup, resetCaches, targetCluster, writerInstance } from '../aws/mock-fixtures.js';
import type { TargetParameterGroupPlan } from '../../shared/state.js';

const rds = mockClient(RDSClient);
const ctx = localLambdaContext('test');
const errorOf = (p: Promise<unknown>) => p.then(() => { throw new Error('expected the step to fail'); }, (e: Error) => e);
const inputsOf = (cmd: unknown) => rds.commandCalls(cmd as never).map((c) => c.args[0].input);
const notFound = (what: string, name: string) => Object.assign(new Error(`${what} not found.`), { name, $metadata: { httpStatusCode: 404 } });

beforeEach(() => {
  rds.reset();
  resetCaches();
  // The input's target.dbClusterParameterGroupName (orders-binlog-on), binlogs on.
  mockTargetParameterGroup(rds);
});

/** What the preflight planned without target.dbClusterParameterGroupName: a copy of the source's group. */
const copyPlan: TargetParameterGroupPlan = {
  name: 'crossmove-orders-2026-12',
  create: true,
  family: 'aurora-mysql8.0',
  copiedFrom: 'orders-binlog',
  parameters: [
    { name: 'binlog_format', value: 'ROW' },
    { name: 'time_zone', value: 'Europe/Paris' },
    ...Array.from({ length: 20 }, (_, i) => ({ name: `server_audit_param_${i}`, value: String(i) })),
  ],
  notCopied: [],
};
const noGroupState = (plan: TargetParameterGroupPlan | undefined = copyPlan) => ({
  ...crossAccountState({ target: { clusterIdentifier: undefined, kmsKeyId: undefined, dbClusterParameterGroupName: undefined, vpcSecurityGroupIds: undefined, dbSubnetGroupName: undefined } }),
  preflight: { ok: true, checks: [], ...(plan ? { targetParameterGroup: plan } : {}) },
});
const groupNotFound = () => Object.assign(new Error('DBClusterParameterGroup not found: crossmove-orders-2026-12'), { name: 'DBParameterGroupNotFoundFault', $metadata: { httpStatusCode: 404 } });

describe('Clone the cluster', () => {
  it('restores copy-on-write from the source ARN with exact parameters and the migration tag', async () => {
    rds.on(DescribeDBClustersCommand).rejects(notFound('DBCluster orders-prod-moved', 'DBClusterNotFoundFault'));
    rds.on(RestoreDBClusterToPointInTimeCommand).resolves({ DBCluster: targetCluster('creating') });
    const out = await cloneCluster(crossAccountState(), ctx);
    expect(inputsOf(DescribeDBClustersCommand)).toEqual([{ DBClusterIdentifier: 'orders-prod-moved' }]);
    expect(inputsOf(RestoreDBClusterToPointInTimeCommand)).toEqual([
      {
        SourceDBClusterIdentifier: SOURCE_ARN,
        DBClusterIdentifier: 'orders-prod-moved',
        RestoreType: 'copy-on-write',
        UseLatestRestorableTime: true,
        KmsKeyId: `arn:aws:kms:us-east-1:${TGT}:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0`,
        DBClusterParameterGroupName: 'orders-binlog-on',
        VpcSecurityGroupIds: ['sg-0123456789abcdef0'],
        DBSubnetGroupName: 'orders-private',
        Tags: [{ Key: 'crossmove:migrationId', Value: 'orders-2026-12' }],
      },
    ]);
    expect(out).toEqual({
      done: false,
      attempts: 0,
      status: 'creating',
      clusterIdentifier: 'orders-prod-moved',
      clusterArn: `arn:aws:rds:us-east-1:${TGT}:cluster:orders-prod-moved`,
      endpoint: 'orders-prod-moved.cluster-f9e8d7c6b5a4.us-east-1.rds.amazonaws.com',
      port: 3306,
      created: true,
      createdAt: '2026-11-24T08:00:00.000Z',
    });
  });

  it('without target.dbClusterParameterGroupName, first creates the planned copy of the source group (binlogs on) and clones into it', async () => {
    rds.on(DescribeDBClustersCommand).rejects(notFound('DBCluster crossmove-orders-2026-12', 'DBClusterNotFoundFault'));
    rds.on(DescribeDBClusterParameterGroupsCommand, { DBClusterParameterGroupName: 'crossmove-orders-2026-12' }).rejects(groupNotFound());
    rds.on(CreateDBClusterParameterGroupCommand).resolves({ DBClusterParameterGroup: { DBClusterParameterGroupName: 'crossmove-orders-2026-12', DBParameterGroupFamily: 'aurora-mysql8.0' } });
    rds.on(ModifyDBClusterParameterGroupCommand).resolves({ DBClusterParameterGroupName: 'crossmove-orders-2026-12' });
    rds.on(RestoreDBClusterToPointInTimeCommand).resolves({ DBCluster: targetCluster('creating', { DBClusterIdentifier: 'crossmove-orders-2026-12', DBClusterParameterGroup: 'crossmove-orders-2026-12' }) });
    const out = await cloneCluster(noGroupState(), ctx);
    expect(inputsOf(CreateDBClusterParameterGroupCommand)).toEqual([
      { DBClusterParameterGroupName: 'crossmove-orders-2026-12', DBParameterGroupFamily: 'aurora-mysql8.0', Description: 'crossmove orders-2026-12: copy of orders-binlog (binlogs on) for cluster crossmove-orders-2026-12' },
    ]);
    // At most 20 parameters per call (RDS's limit): 22 in two calls, all pending-reboot (a group no cluster uses yet).
    const modified = inputsOf(ModifyDBClusterParameterGroupCommand);
    expect(modified.map((m: any) => m.Parameters.length)).toEqual([20, 2]);
    expect(modified[0]).toMatchObject({ DBClusterParameterGroupName: 'crossmove-orders-2026-12' });
    expect(modified[0].Parameters[0]).toEqual({ ParameterName: 'binlog_format', ParameterValue: 'ROW', ApplyMethod: 'pending-reboot' });
    expect(modified.flatMap((m: any) => m.Parameters.map((p: any) => p.ApplyMethod))).toEqual(Array(22).fill('pending-reboot'));
    expect(inputsOf(RestoreDBClusterToPointInTimeCommand)).toEqual([
      {
        SourceDBClusterIdentifier: SOURCE_ARN, DBClusterIdentifier: 'crossmove-orders-2026-12', RestoreType: 'copy-on-write', UseLatestRestorableTime: true,
        DBClusterParameterGroupName: 'crossmove-orders-2026-12', Tags: [{ Key: 'crossmove:migrationId', Value: 'orders-2026-12' }],
      },
    ]);
    expect(out.parameterGroup).toBe('crossmove-orders-2026-12');
  });

  it('reuses its own parameter group on re-invocation (found by its description) and sets its parameters again', async () => {
    rds.on(DescribeDBClustersCommand).rejects(notFound('DBCluster crossmove-orders-2026-12', 'DBClusterNotFoundFault'));
    rds.on(DescribeDBClusterParameterGroupsCommand, { DBClusterParameterGroupName: 'crossmove-orders-2026-12' }).resolves({
      DBClusterParameterGroups: [{ DBClusterParameterGroupName: 'crossmove-orders-2026-12', DBParameterGroupFamily: 'aurora-mysql8.0', Description: 'crossmove orders-2026-12: copy of orders-binlog (binlogs on) for cluster crossmove-orders-2026-12' }],
    });
    rds.on(ModifyDBClusterParameterGroupCommand).resolves({ DBClusterParameterGroupName: 'crossmove-orders-2026-12' });
    rds.on(RestoreDBClusterToPointInTimeCommand).resolves({ DBCluster: targetCluster('creating', { DBClusterIdentifier: 'crossmove-orders-2026-12' }) });
    await cloneCluster(noGroupState(), ctx);
    expect(rds.commandCalls(CreateDBClusterParameterGroupCommand)).toHaveLength(0);
    expect(rds.commandCalls(ModifyDBClusterParameterGroupCommand)).toHaveLength(2);
    expect(inputsOf(RestoreDBClusterToPointInTimeCommand)[0]).toMatchObject({ DBClusterParameterGroupName: 'crossmove-orders-2026-12' });
  });

  it('refuses a group of that name it did not make, and a clone without a planned group, before anything is created', async () => {
    rds.on(DescribeDBClustersCommand).rejects(notFound('DBCluster crossmove-orders-2026-12', 'DBClusterNotFoundFault'));
    rds.on(DescribeDBClusterParameterGroupsCommand, { DBClusterParameterGroupName: 'crossmove-orders-2026-12' }).resolves({
      DBClusterParameterGroups: [{ DBClusterParameterGroupName: 'crossmove-orders-2026-12', DBParameterGroupFamily: 'aurora-mysql8.0', Description: 'team db settings' }],
    });
    const conflict = await errorOf(cloneCluster(noGroupState(), ctx));
    expect(conflict.name).toBe('ResourceConflictError');
    expect(conflict.message).toContain('Cluster parameter group crossmove-orders-2026-12 already exists in the target account and was not made by crossmove');
    const unplanned = await errorOf(cloneCluster(noGroupState(null as never), ctx));
    expect(unplanned.name).toBe('PreflightFailedError');
    expect(rds.commandCalls(ModifyDBClusterParameterGroupCommand)).toHaveLength(0);
    expect(rds.commandCalls(RestoreDBClusterToPointInTimeCommand)).toHaveLength(0);
  });

  it('refuses a given target.dbClusterParameterGroupName whose binlogs are off: the clone could not report its binlog position', async () => {
    rds.reset();
    mockTargetParameterGroup(rds, 'OFF');
    rds.on(DescribeDBClustersCommand).rejects(notFound('DBCluster orders-prod-moved', 'DBClusterNotFoundFault'));
    const err = await errorOf(cloneCluster(crossAccountState(), ctx));
    expect(err.name).toBe('BinlogDisabledError');
    expect(err.message).toContain('binlog_format is OFF in target.dbClusterParameterGroupName orders-binlog-on');
    expect(err.message).toContain('Binlog position from crash recovery');
    expect(rds.commandCalls(RestoreDBClusterToPointInTimeCommand)).toHaveLength(0);
  });

  it('reuses its own clone on re-invocation and restores nothing', async () => {
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [targetCluster('creating')] });
    const out = await cloneCluster(crossAccountState(), ctx);
    expect(out).toMatchObject({ created: false, status: 'creating', done: false });
    expect(rds.commandCalls(RestoreDBClusterToPointInTimeCommand)).toHaveLength(0);
  });

  it('refuses a cluster with the same identifier that it did not make', async () => {
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [targetCluster('available', { TagList: [] })] });
    const err = await errorOf(cloneCluster(crossAccountState(), ctx));
    expect(err.name).toBe('ResourceConflictError');
    expect(rds.commandCalls(RestoreDBClusterToPointInTimeCommand)).toHaveLength(0);
  });

  it('reuses the clone when a concurrent attempt created it first (DBClusterAlreadyExistsFault)', async () => {
    rds.on(DescribeDBClustersCommand)
      .rejectsOnce(notFound('DBCluster orders-prod-moved', 'DBClusterNotFoundFault'))
      .resolves({ DBClusters: [targetCluster('creating')] });
    rds.on(RestoreDBClusterToPointInTimeCommand).rejects(Object.assign(new Error('DB Cluster already exists'), { name: 'DBClusterAlreadyExistsFault' }));
    expect(await cloneCluster(crossAccountState(), ctx)).toMatchObject({ created: false, clusterIdentifier: 'orders-prod-moved' });
  });

  it('explains a source that the target account cannot see (share not accepted)', async () => {
    rds.on(DescribeDBClustersCommand).rejects(notFound('DBCluster orders-prod-moved', 'DBClusterNotFoundFault'));
    rds.on(RestoreDBClusterToPointInTimeCommand).rejects(notFound(`DBCluster ${SOURCE_ARN}`, 'DBClusterNotFoundFault'));
    const err = await errorOf(cloneCluster(crossAccountState(), ctx));
    expect(err.name).toBe('ResourceNotFoundError');
    expect(err.message).toContain('check the RAM share was accepted');
  });

  it('explains a KMS key the clone cannot use', async () => {
    rds.on(DescribeDBClustersCommand).rejects(notFound('DBCluster orders-prod-moved', 'DBClusterNotFoundFault'));
    rds.on(RestoreDBClusterToPointInTimeCommand).rejects(Object.assign(new Error('The specified KMS key is not accessible'), { name: 'KMSKeyNotAccessibleFault' }));
    const err = await errorOf(cloneCluster(crossAccountState(), ctx));
    expect(err.message).toContain('Let the target use the KMS key');
  });
});

describe('Check the clone', () => {
  it('counts attempts and reports done only when available, keeping created', async () => {
    rds.on(DescribeDBClustersCommand).resolvesOnce({ DBClusters: [targetCluster('creating')] }).resolves({ DBClusters: [targetCluster('available')] });
    let state: MigrationState = { ...crossAccountState(), clone: { done: false, attempts: 0, status: 'creating', clusterIdentifier: 'orders-prod-moved', created: true } };
    const first = await checkClone(state, ctx);
    expect(first).toMatchObject({ done: false, attempts: 1, status: 'creating', created: true });
    state = { ...state, clone: first };
    const second = await checkClone(state, ctx);
    expect(second).toMatchObject({ done: true, attempts: 2, status: 'available', endpoint: 'orders-prod-moved.cluster-f9e8d7c6b5a4.us-east-1.rds.amazonaws.com', port: 3306 });
  });

  it.each(['failed', 'inaccessible-encryption-credentials', 'incompatible-restore'])('throws ResourceFailedError for a clone that is %s', async (status) => {
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [targetCluster(status)] });
    const err = await errorOf(checkClone(crossAccountState(), ctx));
    expect(err.name).toBe('ResourceFailedError');
    expect(err.message).toContain(`orders-prod-moved is ${status}`);
  });
});

describe('Create the writer / Check the writer', () => {
  it('creates the writer with exact parameters', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(notFound('DBInstance orders-prod-moved-writer', 'DBInstanceNotFoundFault'));
    rds.on(CreateDBInstanceCommand).resolves({ DBInstance: writerInstance('creating') });
    const out = await createWriter(crossAccountState(), ctx);
    expect(inputsOf(DescribeDBInstancesCommand)).toEqual([{ DBInstanceIdentifier: 'orders-prod-moved-writer' }]);
    expect(inputsOf(CreateDBInstanceCommand)).toEqual([
      {
        DBInstanceIdentifier: 'orders-prod-moved-writer',
        DBClusterIdentifier: 'orders-prod-moved',
        Engine: 'aurora-mysql',
        DBInstanceClass: 'db.r6g.large',
        PubliclyAccessible: false,
        Tags: [{ Key: 'crossmove:migrationId', Value: 'orders-2026-12' }],
      },
    ]);
    expect(out).toEqual({ done: false, attempts: 0, status: 'creating', instanceIdentifier: 'orders-prod-moved-writer', created: true, createdAt: '2026-11-24T08:20:00.000Z' });
  });

  it('reuses its writer on re-invocation and refuses an instance of another cluster', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [writerInstance('available')] });
    expect(await createWriter(crossAccountState(), ctx)).toMatchObject({ created: false, done: true });
    expect(rds.commandCalls(CreateDBInstanceCommand)).toHaveLength(0);
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [writerInstance('available', { DBClusterIdentifier: 'someone-else' })] });
    const err = await errorOf(createWriter(crossAccountState(), ctx));
    expect(err.name).toBe('ResourceConflictError');
    expect(err.message).toContain('cluster someone-else');
  });

  it('polls until available and fails on a terminal state', async () => {
    rds.on(DescribeDBInstancesCommand).resolvesOnce({ DBInstances: [writerInstance('creating')] }).resolvesOnce({ DBInstances: [writerInstance('available')] }).resolves({ DBInstances: [writerInstance('incompatible-network')] });
    const base = crossAccountState();
    const a = await checkWriter({ ...base, writer: { done: false, attempts: 0, status: 'creating', instanceIdentifier: 'orders-prod-moved-writer', created: true } }, ctx);
    expect(a).toMatchObject({ done: false, attempts: 1, created: true });
    const b = await checkWriter({ ...base, writer: a }, ctx);
    expect(b).toMatchObject({ done: true, attempts: 2, status: 'available' });
    const err = await errorOf(checkWriter({ ...base, writer: b }, ctx));
    expect(err.name).toBe('ResourceFailedError');
  });
});
