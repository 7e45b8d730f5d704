// The security-group write block empties the rules of the cluster's OWN port: a source on 3307 keeps
// its 3306 rules (they let nothing in anyway) and loses its 3307 ones, whatever port an explicit
// endpoint (a tunnel) uses. Same for the target cluster at fallback.
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { defaultSgBlocker } from '../../shared/mysql/steps/cut-over.js';
import { defaultTargetBlocker } from '../../shared/mysql/steps/fall-back.js';
import type { Conn } from '../../shared/mysql/connection.js';
import type { Dialect } from '../../shared/mysql/dialect.js';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { SOURCE_SG, assumeRoleResponse, crossAccountState, resetCaches } from '../aws/mock-fixtures.js';

const ec2 = mockClient(EC2Client);
const sts = mockClient(STSClient);
const rule = (port: number, cidr: string) => ({ IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: [{ CidrIp: cidr }] });

beforeEach(() => {
  ec2.reset();
  sts.reset();
  resetCaches();
  sts.on(AssumeRoleCommand).resolves(assumeRoleResponse());
  ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: SOURCE_SG, IpPermissions: [rule(3306, '10.0.0.0/8'), rule(3307, '172.16.0.0/12')] }] });
});

describe('security-group write block port', () => {
  it("cutover: removes the source cluster's port rules (from preflight), not the tunnel's", async () => {
    const state = crossAccountState({ source: { endpoint: { host: '127.0.0.1', port: 13306 } } });
    const plan = await (await defaultSgBlocker({ ...state, preflight: { ok: true, checks: [], sourceEndpoint: { host: 'orders.cluster-x.rds.amazonaws.com', port: 3307 } } } as never)).plan();
    expect(plan).toEqual({ groupId: SOURCE_SG, rules: [{ ...rule(3307, '172.16.0.0/12'), UserIdGroupPairs: [] }] });
  });

  it("fallback: removes the target cluster's port rules", async () => {
    const state = { ...crossAccountState(), clone: { done: true, attempts: 1, status: 'available', endpoint: 'moved.cluster-y.rds.amazonaws.com', port: 3307 }, fallbackOptions: { writeBlock: { method: 'security-group' as const, securityGroupId: SOURCE_SG } } };
    const blocker = await defaultTargetBlocker(state as never, {} as Conn, { canSetReadOnly: false } as Dialect);
    expect(await blocker.plan()).toEqual({ groupId: SOURCE_SG, rules: [{ ...rule(3307, '172.16.0.0/12'), UserIdGroupPairs: [] }] });
  });
});
