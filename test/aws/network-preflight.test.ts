// The preflight's network path check against networks built through moto's real EC2 and RDS APIs:
// the source cluster in account 111111111111 (read through the assumed role), the target subnet group
// and security group in the pipeline account, the VPCs peered. Each test breaks one piece the way an
// operator would (revoke a rule, add an ACL deny, drop a route) and expects the check to name it.
// (moto cannot store a security-group rule that names another account's group: those are covered in
// test/unit/network-path.test.ts.)
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AcceptVpcPeeringConnectionCommand, AttachVpnGatewayCommand, AuthorizeSecurityGroupIngressCommand, CreateVpnGatewayCommand, CreateNetworkAclEntryCommand, CreateRouteCommand, CreateSecurityGroupCommand, CreateSubnetCommand,
  CreateVpcCommand, CreateVpcPeeringConnectionCommand, DeleteRouteCommand, DescribeNetworkAclsCommand, DescribeRouteTablesCommand, EC2Client, RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { CreateDBClusterCommand, CreateDBSubnetGroupCommand, RDSClient } from '@aws-sdk/client-rds';
import { localLambdaContext } from '../../shared/handler.js';
import type { MigrationState } from '../../shared/state.js';
import { inspectPreflight } from '../../shared/preflight/run.js';
import { handler as validateInput } from '../../handlers/validate-input.js';
import { handler as runPreflight } from '../../handlers/run-preflight.js';
import { startMoto, type Moto } from '../support/moto.js';
import { createSecret, createSourceCluster, credentialsFor, REGION, SOURCE_ACCOUNT, type ClientOptions, auroraWriteBlock } from './fixtures.js';

const ctx = localLambdaContext('test');
const call = <T>(h: (e: any, c: any) => Promise<T>, event: unknown) => h(event, ctx);

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

interface Side {
  ec2: EC2Client;
  vpcId: string;
  sg: string;
  subnets: string[];
  routeTable: string;
  acl: string;
}

/** A VPC with two subnets in two AZs, a DB subnet group over them and a database security group. */
async function buildSide(opts: ClientOptions, cidr16: string, groupName: string): Promise<Side> {
  const ec2 = new EC2Client(opts);
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: `${cidr16}.0.0/16` }))).Vpc!.VpcId!;
  const subnets: string[] = [];
  for (const [i, az] of ['a', 'b'].entries()) {
    subnets.push((await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `${cidr16}.${i + 1}.0/24`, AvailabilityZone: `${REGION}${az}` }))).Subnet!.SubnetId!);
  }
  await new RDSClient(opts).send(new CreateDBSubnetGroupCommand({ DBSubnetGroupName: groupName, DBSubnetGroupDescription: 'private', SubnetIds: subnets }));
  const sg = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: `${groupName}-db`, Description: 'database', VpcId: vpcId }))).GroupId!;
  const routeTable = (await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).RouteTables![0]!.RouteTableId!;
  const acl = (await ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).NetworkAcls![0]!.NetworkAclId!;
  return { ec2, vpcId, sg, subnets, routeTable, acl };
}

const mysqlFrom = (cidr: string) => [{ IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, IpRanges: [{ CidrIp: cidr }] }];

describe('preflight: can the target subnets reach the source replication port (moto)', () => {
  let src: Side;
  let tgt: Side;
  let state: MigrationState;
  let pcx: string;

  beforeEach(async () => {
    await moto.reset();
    const inSource = { region: REGION, credentials: await credentialsFor(SOURCE_ACCOUNT) };
    src = await buildSide(inSource, '10.1', 'orders-prod-private');
    tgt = await buildSide({ region: REGION }, '10.2', 'orders-private');
    // Peered, routed both ways, MySQL allowed in from the other VPC on both sides.
    pcx = (await tgt.ec2.send(new CreateVpcPeeringConnectionCommand({ VpcId: tgt.vpcId, PeerVpcId: src.vpcId, PeerOwnerId: SOURCE_ACCOUNT }))).VpcPeeringConnection!.VpcPeeringConnectionId!;
    await src.ec2.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
    await tgt.ec2.send(new CreateRouteCommand({ RouteTableId: tgt.routeTable, DestinationCidrBlock: '10.1.0.0/16', VpcPeeringConnectionId: pcx }));
    await src.ec2.send(new CreateRouteCommand({ RouteTableId: src.routeTable, DestinationCidrBlock: '10.2.0.0/16', VpcPeeringConnectionId: pcx }));
    await src.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: src.sg, IpPermissions: mysqlFrom('10.2.0.0/16') }));
    await tgt.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: tgt.sg, IpPermissions: mysqlFrom('10.1.0.0/16') }));

    const source = await createSourceCluster(inSource, { name: 'orders-prod', encrypted: false, dbSubnetGroupName: 'orders-prod-private', vpcSecurityGroupIds: [src.sg] });
    state = await call(validateInput, {
      migrationId: 'orders-2026-12',
      source: { clusterArn: source.clusterArn, adminSecret: source.adminSecretArn, accessRoleArn: `arn:aws:iam::${SOURCE_ACCOUNT}:role/crossmove-source-access`, externalId: 'orders-2026-12-3f9c' },
      target: { adminSecret: await createSecret({ region: REGION }, 'orders-target-admin'), dbSubnetGroupName: 'orders-private', vpcSecurityGroupIds: [tgt.sg] },
      initialLoad: { method: 'snapshot' },
      cutover: auroraWriteBlock(source),
    });
  });

  const check = async (id: string, s: MigrationState = state) => (await inspectPreflight(s)).outcomes.find((c) => c.id === id);

  it('passes both directions through the peering and names the subnets', async () => {
    const preflight = await call(runPreflight, state);
    const forward = preflight.checks.find((c) => c.id === 'network-target-to-source')!;
    expect(forward.status).toBe('pass');
    expect(forward.message).toContain(`Every target subnet (${tgt.subnets.join(', ')}) reaches every source subnet (${src.subnets.join(', ')}) on TCP 3306 for replication`);
    expect(forward.message).toContain(`peering ${pcx}`);
    expect(preflight.checks.find((c) => c.id === 'network-source-to-target')).toMatchObject({ status: 'pass' });
  });

  it('fails when the source security group no longer lets MySQL in from the target VPC, and the preflight stops', async () => {
    await src.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: src.sg, IpPermissions: mysqlFrom('10.2.0.0/16') }));
    const forward = await check('network-target-to-source');
    expect(forward).toMatchObject({ status: 'fail' });
    expect(forward!.message).toContain(`security groups ${src.sg} of the source let no TCP 3306 in from 10.2.1.0/24`);
    expect(forward!.fix).toContain(`Add an inbound rule TCP 3306 from 10.2.1.0/24, 10.2.2.0/24`);
    // Reverse replication needs only the target's rule: still fine.
    expect(await check('network-source-to-target')).toMatchObject({ status: 'pass' });
    await expect(call(runPreflight, state)).rejects.toMatchObject({ name: 'PreflightFailedError', message: expect.stringContaining('[network-target-to-source]') });
  });

  it("fails on a network ACL rule of the target's subnets that denies MySQL out, naming the rule", async () => {
    await tgt.ec2.send(
      new CreateNetworkAclEntryCommand({ NetworkAclId: tgt.acl, RuleNumber: 50, Protocol: '6', RuleAction: 'deny', Egress: true, CidrBlock: '10.1.0.0/16', PortRange: { From: 3306, To: 3306 } }),
    );
    const forward = await check('network-target-to-source');
    expect(forward).toMatchObject({ status: 'fail' });
    expect(forward!.message).toContain(`network ACL ${tgt.acl} of target subnet ${tgt.subnets[0]} (10.2.1.0/24) denies outbound TCP 3306 to 10.1.1.0/24 (rule 50)`);
  });

  it('fails when the source has no route back to the target VPC', async () => {
    await src.ec2.send(new DeleteRouteCommand({ RouteTableId: src.routeTable, DestinationCidrBlock: '10.2.0.0/16' }));
    const forward = await check('network-target-to-source');
    expect(forward!.status).toBe('fail');
    expect(forward!.message).toContain(`route table ${src.routeTable} of source subnet ${src.subnets[0]} (10.1.1.0/24) has no route to 10.2.1.0/24`);
    expect(forward!.fix).toContain(`through the active VPC peering connection or transit gateway between ${src.vpcId} and ${tgt.vpcId}`);
  });

  it('lists the first six problems in full and counts the rest', async () => {
    await src.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: src.sg, IpPermissions: mysqlFrom('10.2.0.0/16') }));
    await src.ec2.send(new DeleteRouteCommand({ RouteTableId: src.routeTable, DestinationCidrBlock: '10.2.0.0/16' }));
    await tgt.ec2.send(
      new CreateNetworkAclEntryCommand({ NetworkAclId: tgt.acl, RuleNumber: 50, Protocol: '6', RuleAction: 'deny', Egress: true, CidrBlock: '10.1.0.0/16', PortRange: { From: 3306, To: 3306 } }),
    );
    // 2 security-group findings (one per target subnet) + 4 route and 4 ACL findings (2 x 2 subnet pairs).
    const forward = await check('network-target-to-source');
    expect(forward!.message.match(/has no route to|let no TCP 3306 in|denies outbound TCP 3306/g)).toHaveLength(6);
    expect(forward!.message).toMatch(/; and 4 more\.$/);
    expect(forward!.fix).toContain('Allow outbound TCP 3306 to 10.1.1.0/24, 10.1.2.0/24');
    expect(forward!.fix).toContain('Add an inbound rule TCP 3306');
    expect(forward!.fix).toContain('Add a route to');
  });

  it('checks the reverse path only when reverse replication is on, on the target side', async () => {
    await tgt.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: tgt.sg, IpPermissions: mysqlFrom('10.1.0.0/16') }));
    expect((await check('network-source-to-target'))!.message).toContain(`security groups ${tgt.sg} of the target let no TCP 3306 in from 10.1.1.0/24`);
    const noReverse = { ...state, input: { ...state.input, cutover: { ...state.input.cutover, reverseReplication: false } } };
    expect(await check('network-source-to-target', noReverse)).toBeUndefined();
    expect(await check('network-target-to-source', noReverse)).toMatchObject({ status: 'pass' });
  });

  it('names a target subnet group or security group that does not exist', async () => {
    const wrongGroup = { ...state, input: { ...state.input, target: { ...state.input.target, dbSubnetGroupName: 'orders-privat' } } };
    expect(await check('network-path', wrongGroup)).toMatchObject({ status: 'fail', error: 'ResourceNotFoundError', message: expect.stringContaining('DB subnet group orders-privat (target.dbSubnetGroupName) does not exist') });
    const wrongSg = { ...state, input: { ...state.input, target: { ...state.input.target, vpcSecurityGroupIds: ['sg-0000000000000dead'] } } };
    expect(await check('network-path', wrongSg)).toMatchObject({ status: 'fail', message: expect.stringContaining('target.vpcSecurityGroupIds: sg-0000000000000dead does not exist') });
    // A source-side group passed as a target group lives in another VPC.
    const foreign = await new EC2Client({ region: REGION }).send(new CreateSecurityGroupCommand({ GroupName: 'elsewhere', Description: 'x', VpcId: (await new EC2Client({ region: REGION }).send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }))).Vpc!.VpcId! }));
    const otherVpc = { ...state, input: { ...state.input, target: { ...state.input.target, vpcSecurityGroupIds: [foreign.GroupId!] } } };
    expect((await check('network-path', otherVpc))!.message).toContain(`${foreign.GroupId} is not in VPC ${tgt.vpcId}`);
  });

  it('uses the VPC default security group when target.vpcSecurityGroupIds is not set (what RDS attaches)', async () => {
    const { vpcSecurityGroupIds: _sgs, ...target } = state.input.target;
    const forward = await check('network-target-to-source', { ...state, input: { ...state.input, target } });
    // The default group lets everything out: the forward path passes; its inbound rules admit only
    // itself, so the reverse path fails, naming the default group.
    expect(forward!.status).toBe('pass');
    const reverse = await check('network-source-to-target', { ...state, input: { ...state.input, target } });
    expect(reverse!.status).toBe('fail');
    expect(reverse!.message).toMatch(/security groups sg-[0-9a-f]+ of the target let no TCP 3306 in from 10\.1\.1\.0\/24/);
    expect(reverse!.message).not.toContain(tgt.sg);
  });

  it('analyses the target half toward replication.sourceHostForTarget (a proxy address), and the reverse path from the source subnets', async () => {
    const viaProxy = { ...state, input: { ...state.input, replication: { ...state.input.replication, sourceHostForTarget: '10.1.1.200' } } };
    const forward = await check('network-target-to-source', viaProxy);
    expect(forward!.status).toBe('pass');
    expect(forward!.message).toContain(`path from the target's subnets (${tgt.subnets.join(', ')}) to 10.1.1.200 (10.1.1.200, resolved from where crossmove runs) on TCP 3306 for replication is open`);
    expect(forward!.message).toContain("The source's own firewall is not visible to crossmove");
    expect(await check('network-source-to-target', viaProxy)).toMatchObject({ status: 'pass' });
    // A proxy outside every route: the target's route table sends it to nowhere.
    const lost = { ...state, input: { ...state.input, replication: { ...state.input.replication, sourceHostForTarget: '172.16.9.9' } } };
    expect((await check('network-target-to-source', lost))!.message).toContain(`route table ${tgt.routeTable} of target subnet ${tgt.subnets[0]} (10.2.1.0/24) has no route to 172.16.9.9/32`);
  });
});

describe('preflight: a source known only by endpoint, an existing Aurora target (logical copy, moto)', () => {
  it("checks the target cluster's side toward the source address, both ways", async () => {
    await moto.reset();
    const tgt = await buildSide({ region: REGION }, '10.2', 'orders-private');
    await tgt.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: tgt.sg, IpPermissions: mysqlFrom('192.168.40.0/24') }));
    await new RDSClient({ region: REGION }).send(
      new CreateDBClusterCommand({ DBClusterIdentifier: 'orders-aurora', Engine: 'aurora-mysql', MasterUsername: 'admin', MasterUserPassword: 'fixture-master-pw', DBSubnetGroupName: 'orders-private', VpcSecurityGroupIds: [tgt.sg] }),
    );
    const raw = {
      migrationId: 'orders-2026-12',
      source: { endpoint: { host: '192.168.40.12', port: 3306 }, adminSecret: await createSecret({ region: REGION }, 'orders-source-admin') },
      target: { clusterIdentifier: 'orders-aurora', adminSecret: await createSecret({ region: REGION }, 'orders-target-admin') },
      initialLoad: { method: 'logical' },
    };
    const logical: MigrationState = await call(validateInput, raw);
    // On-premises behind a VPN: the route table has none yet.
    let forward = (await inspectPreflight(logical)).outcomes.find((c) => c.id === 'network-target-to-source')!;
    expect(forward.status).toBe('fail');
    expect(forward.message).toContain(`route table ${tgt.routeTable} of target subnet ${tgt.subnets[0]} (10.2.1.0/24) has no route to 192.168.40.12/32`);
    // A route through a virtual private gateway: crossmove cannot follow it, so it warns, never passes.
    const vgw = (await tgt.ec2.send(new CreateVpnGatewayCommand({ Type: 'ipsec.1' }))).VpnGateway!.VpnGatewayId!;
    await tgt.ec2.send(new AttachVpnGatewayCommand({ VpcId: tgt.vpcId, VpnGatewayId: vgw }));
    await tgt.ec2.send(new CreateRouteCommand({ RouteTableId: tgt.routeTable, DestinationCidrBlock: '192.168.0.0/16', GatewayId: vgw }));
    const outcomes = (await inspectPreflight(logical)).outcomes;
    forward = outcomes.find((c) => c.id === 'network-target-to-source')!;
    expect(forward.status).toBe('warn');
    expect(forward.message).toContain(`routes 192.168.40.12/32 through ${vgw}, which crossmove does not follow`);
    expect(outcomes.find((c) => c.id === 'network-source-to-target')).toMatchObject({ status: 'warn' });
  });
});
