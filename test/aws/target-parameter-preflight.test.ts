// The preflight's check of the target's cluster parameter group against moto's RDS: a given one must
// exist, be of the source engine's family and turn binlogs on (the new cluster reports its binlog
// position only then, whatever cutover.reverseReplication); without one crossmove plans a copy of the
// source's group, and "Clone the cluster" creates it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CreateDBClusterParameterGroupCommand, DescribeDBClusterParameterGroupsCommand, DescribeDBClusterParametersCommand, DescribeDBClustersCommand, ModifyDBClusterParameterGroupCommand, RDSClient,
} from '@aws-sdk/client-rds';
import { handler as cloneCluster } from '../../handlers/clone-cluster.js';
import { localLambdaContext } from '../../shared/handler.js';
import { inspectPreflight } from '../../shared/preflight/run.js';
import { parameterGroupFamily } from '../../shared/preflight/target-parameter-checks.js';
import { handler as validateInput } from '../../handlers/validate-input.js';
import { startMoto, type Moto } from '../support/moto.js';
import { auroraWriteBlock, createSecret, createSourceCluster, REGION, type SourceFixture } from './fixtures.js';

const ctx = localLambdaContext('test');
let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

const rds = () => new RDSClient({ region: REGION });
async function group(name: string, family: string, binlogFormat?: string): Promise<void> {
  await rds().send(new CreateDBClusterParameterGroupCommand({ DBClusterParameterGroupName: name, DBParameterGroupFamily: family, Description: name }));
  if (binlogFormat) {
    await rds().send(new ModifyDBClusterParameterGroupCommand({ DBClusterParameterGroupName: name, Parameters: [{ ParameterName: 'binlog_format', ParameterValue: binlogFormat, ApplyMethod: 'pending-reboot' }] }));
  }
}

describe('preflight: the target cluster parameter group (moto)', () => {
  let source: SourceFixture;
  let targetSecret: string;
  const check = async (dbClusterParameterGroupName: string, reverseReplication = true) => {
    const state = await validateInput(
      {
        migrationId: 'orders-1',
        source: { clusterArn: source.clusterArn, adminSecret: source.adminSecretArn },
        target: { adminSecret: targetSecret, dbClusterParameterGroupName },
        initialLoad: { method: 'clone' },
        cutover: { ...auroraWriteBlock(source), reverseReplication },
      },
      ctx,
    );
    return (await inspectPreflight(state)).outcomes.find((c) => c.id === 'target-parameter-group');
  };

  beforeEach(async () => {
    await moto.reset();
    source = await createSourceCluster({ region: REGION }, { name: 'orders-prod', encrypted: false });
    targetSecret = await createSecret({ region: REGION }, 'orders-target-admin');
  });

  it('passes a group of the source family with binlogs on', async () => {
    await group('target-binlog', 'aurora-mysql8.0', 'ROW');
    expect(await check('target-binlog')).toEqual({
      id: 'target-parameter-group',
      status: 'pass',
      message: 'Target cluster parameter group target-binlog (aurora-mysql8.0) exists with binlog_format ROW, so the new cluster reports its binlog position and reverse replication can start.',
    });
  });

  it('fails binlogs off with or without reverse replication (the clone could not report its binlog position), a missing group and another family', async () => {
    await group('target-plain', 'aurora-mysql8.0');
    expect(await check('target-plain')).toMatchObject({ status: 'fail', error: 'BinlogDisabledError', message: expect.stringContaining('binlog_format is OFF in target.dbClusterParameterGroupName target-plain'), fix: expect.stringContaining('Set binlog_format = ROW in target-plain') });
    expect(await check('target-plain', false)).toMatchObject({
      status: 'fail',
      error: 'BinlogDisabledError',
      message: expect.stringContaining('could not report the source\'s binlog position ("Binlog position from crash recovery") and replication could not start.'),
    });
    expect(await check('target-nowhere')).toMatchObject({ status: 'fail', error: 'ResourceNotFoundError', message: 'target.dbClusterParameterGroupName target-nowhere does not exist in the target account and region.' });
    await group('target-old', 'aurora-mysql5.7', 'ROW');
    expect(await check('target-old')).toMatchObject({ status: 'fail', message: expect.stringContaining('is of family aurora-mysql5.7, but the target cluster runs the source\'s engine 8.0.mysql_aurora.3.05.2 (family aurora-mysql8.0)') });
  });

  it('without a group: plans a copy of the source group (binlogs on), and "Clone the cluster" creates it once and clones into it', async () => {
    // The source group's own settings besides binlog_format: one to copy, one naming a source-account role.
    await rds().send(new ModifyDBClusterParameterGroupCommand({
      DBClusterParameterGroupName: source.parameterGroup,
      Parameters: [
        { ParameterName: 'time_zone', ParameterValue: 'Europe/Paris', ApplyMethod: 'immediate' },
        { ParameterName: 'aws_default_s3_role', ParameterValue: 'arn:aws:iam::123456789012:role/orders-s3', ApplyMethod: 'immediate' },
      ],
    }));
    const state = await validateInput(
      { migrationId: 'orders-1', source: { clusterArn: source.clusterArn, adminSecret: source.adminSecretArn }, target: { adminSecret: targetSecret }, initialLoad: { method: 'clone' }, cutover: { ...auroraWriteBlock(source), reverseReplication: false } },
      ctx,
    );
    const preflight = await inspectPreflight(state);
    expect(preflight.outcomes.find((c) => c.id === 'target-parameter-group')).toMatchObject({
      status: 'pass',
      message: expect.stringContaining('crossmove creates cluster parameter group crossmove-orders-1 (aurora-mysql8.0) in the target account as a copy of the source\'s orders-prod-binlog (2 parameter(s), binlog_format ROW)'),
    });
    expect(preflight.outcomes.find((c) => c.id === 'target-parameter-group-not-copied')).toMatchObject({ status: 'warn', message: expect.stringContaining('aws_default_s3_role (names a resource of the source account') });
    expect(preflight.targetParameterGroup).toMatchObject({ name: 'crossmove-orders-1', create: true, copiedFrom: 'orders-prod-binlog' });

    const withPreflight = { ...state, preflight };
    const clone = await cloneCluster(withPreflight, ctx);
    expect(clone).toMatchObject({ clusterIdentifier: 'crossmove-orders-1', created: true, parameterGroup: 'crossmove-orders-1' });
    const created = (await rds().send(new DescribeDBClusterParameterGroupsCommand({ DBClusterParameterGroupName: 'crossmove-orders-1' }))).DBClusterParameterGroups![0]!;
    expect(created).toMatchObject({ DBParameterGroupFamily: 'aurora-mysql8.0', Description: 'crossmove orders-1: copy of orders-prod-binlog (binlogs on) for cluster crossmove-orders-1' });
    const params = (await rds().send(new DescribeDBClusterParametersCommand({ DBClusterParameterGroupName: 'crossmove-orders-1' }))).Parameters!;
    expect(Object.fromEntries(params.map((p) => [p.ParameterName, p.ParameterValue]))).toEqual({ binlog_format: 'ROW', time_zone: 'Europe/Paris' });
    const cluster = (await rds().send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'crossmove-orders-1' }))).DBClusters![0]!;
    expect(cluster.DBClusterParameterGroup).toBe('crossmove-orders-1');
    // Re-invoked: the clone and its group are found, nothing is created twice; a second preflight says "reuses".
    expect(await cloneCluster(withPreflight, ctx)).toMatchObject({ created: false });
    expect((await inspectPreflight(state)).outcomes.find((c) => c.id === 'target-parameter-group')!.message).toContain('crossmove reuses cluster parameter group crossmove-orders-1');
  });

  it('without a group: refuses a group of that name crossmove did not make', async () => {
    await group('crossmove-orders-1', 'aurora-mysql8.0', 'ROW');
    const state = await validateInput(
      { migrationId: 'orders-1', source: { clusterArn: source.clusterArn, adminSecret: source.adminSecretArn }, target: { adminSecret: targetSecret }, initialLoad: { method: 'clone' }, cutover: auroraWriteBlock(source) },
      ctx,
    );
    expect((await inspectPreflight(state)).outcomes.find((c) => c.id === 'target-parameter-group')).toMatchObject({
      status: 'fail', error: 'ResourceConflictError', message: expect.stringContaining('was not made by crossmove for migration orders-1'),
    });
  });

  it('maps engine versions to parameter group families', () => {
    expect(parameterGroupFamily('8.0.mysql_aurora.3.05.2')).toBe('aurora-mysql8.0');
    expect(parameterGroupFamily('5.7.mysql_aurora.2.11.3')).toBe('aurora-mysql5.7');
    expect(parameterGroupFamily(undefined)).toBeNull();
  });
});
