// The preflight's check of the target's cluster parameter group against moto's RDS: it must exist, be of
// the source engine's family, and turn binlogs on when reverse replication is asked for.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CreateDBClusterParameterGroupCommand, ModifyDBClusterParameterGroupCommand, RDSClient } from '@aws-sdk/client-rds';
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
      message: 'Target cluster parameter group target-binlog (aurora-mysql8.0) exists with binlog_format ROW, so reverse replication can start.',
    });
  });

  it('fails binlogs off with reverse replication (passes it without), a missing group and another family', async () => {
    await group('target-plain', 'aurora-mysql8.0');
    expect(await check('target-plain')).toMatchObject({ status: 'fail', message: expect.stringContaining('binlog_format is OFF in target.dbClusterParameterGroupName target-plain'), fix: expect.stringContaining('Set binlog_format = ROW in target-plain') });
    expect(await check('target-plain', false)).toMatchObject({ status: 'pass' });
    expect(await check('target-nowhere')).toMatchObject({ status: 'fail', error: 'ResourceNotFoundError', message: 'target.dbClusterParameterGroupName target-nowhere does not exist in the target account and region.' });
    await group('target-old', 'aurora-mysql5.7', 'ROW');
    expect(await check('target-old')).toMatchObject({ status: 'fail', message: expect.stringContaining('is of family aurora-mysql5.7, but the target cluster runs the source\'s engine 8.0.mysql_aurora.3.05.2 (family aurora-mysql8.0)') });
  });

  it('maps engine versions to parameter group families', () => {
    expect(parameterGroupFamily('8.0.mysql_aurora.3.05.2')).toBe('aurora-mysql8.0');
    expect(parameterGroupFamily('5.7.mysql_aurora.2.11.3')).toBe('aurora-mysql5.7');
    expect(parameterGroupFamily(undefined)).toBeNull();
  });
});
