// The authorization model of the IAM simulation (test/support/iam/requests.ts): what AWS evaluates for a
// call, and that a call it does not know fails loudly instead of passing unchecked.
import { describe, expect, it } from 'vitest';
import { authorizationRequests, type RecordedCall } from '../support/iam/requests.js';
import { deniedCalls, evaluate, mutants } from '../support/iam/simulate.js';

const call = (service: string, operation: string, input: Record<string, any>): RecordedCall => ({ service, operation, input, region: 'us-east-1', account: '222222222222', caller: 'someStep' });
const role = (Statement: any[]) => ({ arn: 'arn:aws:iam::222222222222:role/r', account: '222222222222', policies: [{ name: 'p', policy: { Version: '2012-10-17', Statement } }] });

describe('authorization requests of recorded calls', () => {
  it('a call without a rule is a problem of the simulation, naming it (new calls cannot slip through)', async () => {
    const unknown = call('lambda', 'Invoke', { FunctionName: 'x' });
    await expect(authorizationRequests(unknown)).rejects.toThrow(/no authorization rule for lambda:Invoke/);
    expect(await deniedCalls([unknown], { principalFor: () => role([]) })).toEqual([expect.stringContaining('lambda:Invoke')]);
  });

  it('SendTaskSuccess is authorised on "*": a grant on the state machine ARN denies it', async () => {
    const [r] = await authorizationRequests(call('states', 'SendTaskSuccess', { taskToken: 't', output: '{}' }));
    expect(r).toMatchObject({ action: 'states:SendTaskSuccess', resource: '*' });
    const onMachine = role([{ Effect: 'Allow', Action: 'states:SendTaskSuccess', Resource: 'arn:aws:states:us-east-1:222222222222:stateMachine:crossmove-migration-test' }]);
    expect((await evaluate(onMachine, r!)).verdict).toBe('ImplicitlyDenied');
  });

  it('RDS calls are authorised once per resource type the action has; defaults for the option group', async () => {
    const requests = await authorizationRequests(
      call('rds', 'RestoreDBClusterToPointInTime', { SourceDBClusterIdentifier: 'arn:aws:rds:us-east-1:111111111111:cluster:src', DBClusterIdentifier: 'moved', DBClusterParameterGroupName: 'pg', DBSubnetGroupName: 'sn', KmsKeyId: 'arn:aws:kms:us-east-1:222222222222:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0', Tags: [{ Key: 'k', Value: 'v' }] }),
    );
    expect(requests.map((r) => `${r.action} ${r.resource.split(':').slice(4).join(':')}`).sort()).toEqual([
      'kms:CreateGrant 222222222222:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0',
      'kms:DescribeKey 222222222222:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0',
      'rds:AddTagsToResource 222222222222:cluster:moved',
      'rds:RestoreDBClusterToPointInTime 111111111111:cluster:src',
      'rds:RestoreDBClusterToPointInTime 222222222222:cluster-pg:pg',
      'rds:RestoreDBClusterToPointInTime 222222222222:cluster:moved',
      'rds:RestoreDBClusterToPointInTime 222222222222:og:default:aurora-mysql-8-0',
      'rds:RestoreDBClusterToPointInTime 222222222222:subgrp:sn',
    ]);
    expect(requests.find((r) => r.action === 'kms:CreateGrant')!.context).toMatchObject({ 'kms:ViaService': 'rds.us-east-1.amazonaws.com', 'kms:GrantIsForAWSResource': 'true' });
  });

  it('a managed master password makes RDS create the secret with the caller’s permissions', async () => {
    const requests = await authorizationRequests(call('rds', 'ModifyDBCluster', { DBClusterIdentifier: 'moved', ManageMasterUserPassword: true, ApplyImmediately: true }));
    expect(requests.map((r) => r.action)).toEqual(['rds:ModifyDBCluster', 'secretsmanager:CreateSecret', 'secretsmanager:RotateSecret', 'secretsmanager:TagResource']);
  });

  it('mutants change the account, the region, a crossmove-owned name, and scoping condition values', async () => {
    const [r] = await authorizationRequests(call('secretsmanager', 'CreateSecret', { Name: 'crossmove/orders/replication-user' }));
    expect(mutants(r!).map((m) => `${m.kind} ${m.request.resource}`)).toEqual([
      'account arn:aws:secretsmanager:us-east-1:333333333333:secret:crossmove/orders/replication-user-AbCdEf',
      'region arn:aws:secretsmanager:ap-southeast-2:222222222222:secret:crossmove/orders/replication-user-AbCdEf',
      'name arn:aws:secretsmanager:us-east-1:222222222222:secret:not-made-by-crossmove',
    ]);
    const [assume] = await authorizationRequests(call('sts', 'AssumeRole', { RoleArn: 'arn:aws:iam::111111111111:role/crossmove-source-access', ExternalId: 'e', RoleSessionName: 's' }));
    expect(mutants(assume!).map((m) => m.kind)).toEqual(['account', 'name', 'context:sts:ExternalId']);
  });
});
