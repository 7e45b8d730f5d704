// The security-group write block (Aurora's way of stopping writes), against EC2 in moto: only the
// inbound rules that reach the MySQL port are removed, and rollback puts exactly those back.
import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, CreateVpcCommand, DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecurityGroupBlocker } from '../../shared/aws/write-block-sg.js';
import { startMoto, type Moto } from '../support/moto.js';

let moto: Moto;
let ec2: EC2Client;
let groupId: string;

beforeAll(async () => {
  moto = await startMoto();
  ec2 = new EC2Client({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
  const sg = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'aurora-source', Description: 'source cluster', VpcId: vpc.Vpc!.VpcId }));
  groupId = sg.GroupId!;
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: groupId,
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, IpRanges: [{ CidrIp: '10.1.0.0/16', Description: 'app' }] },
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.2.0.0/16' }] },
      ],
    }),
  );
});

afterAll(async () => {
  await moto?.stop();
});

async function inboundPorts(): Promise<number[]> {
  const out = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
  return (out.SecurityGroups![0]!.IpPermissions ?? []).map((p) => p.FromPort!).sort((a, b) => a - b);
}

describe('security-group write block', () => {
  it('removes only the MySQL inbound rules and restores them on rollback', async () => {
    const blocker = new SecurityGroupBlocker(ec2, groupId);
    expect(await inboundPorts()).toEqual([22, 3306]);
    await blocker.block();
    expect(await inboundPorts()).toEqual([22]);
    await blocker.unblock();
    expect(await inboundPorts()).toEqual([22, 3306]);
    const out = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
    const mysqlRule = out.SecurityGroups![0]!.IpPermissions!.find((p) => p.FromPort === 3306)!;
    expect(mysqlRule.IpRanges![0]!.CidrIp).toBe('10.1.0.0/16');
  });

  it('names the field when the group does not exist', async () => {
    const blocker = new SecurityGroupBlocker(ec2, 'sg-0123456789abcdef0');
    await expect(blocker.block()).rejects.toThrow(/sg-0123456789abcdef0|InvalidGroup/);
  });
});
