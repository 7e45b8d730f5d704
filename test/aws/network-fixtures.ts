// Two VPCs as EC2 and RDS describe them (shapes from the EC2 / RDS API reference): the source's in
// account SRC and the target's in account TGT, peered, with routes both ways, default network ACLs
// and security groups that let MySQL in from the other VPC. Tests break one piece at a time.
import type { AwsStub } from 'aws-sdk-client-mock';
import type { Filter, SecurityGroup } from '@aws-sdk/client-ec2';
import {
  DescribeNetworkAclsCommand, DescribeRouteTablesCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcPeeringConnectionsCommand,
} from '@aws-sdk/client-ec2';
import { DescribeDBSubnetGroupsCommand, type DBSubnetGroup } from '@aws-sdk/client-rds';
import type { VpcNetwork } from '../../shared/aws/ec2.js';
import type { Placement } from '../../shared/preflight/network-path.js';
import { REGION, SOURCE_SG, SRC, TGT, sourceCluster } from './mock-fixtures.js';

export const PCX = 'pcx-0a1b2c3d4e5f60789';
export const NET = {
  source: { account: SRC, vpcId: 'vpc-0a1b2c3d4e5f60718', cidr: '10.1.0.0/16', subnets: [['subnet-0a1b2c3d4e5f60001', '10.1.1.0/24'], ['subnet-0a1b2c3d4e5f60002', '10.1.2.0/24']], sg: SOURCE_SG, acl: 'acl-0a1b2c3d4e5f60718', rtb: 'rtb-0a1b2c3d4e5f60718', subnetGroup: 'orders-prod-private' },
  target: { account: TGT, vpcId: 'vpc-0f1e2d3c4b5a69788', cidr: '10.2.0.0/16', subnets: [['subnet-0f1e2d3c4b5a60001', '10.2.1.0/24'], ['subnet-0f1e2d3c4b5a60002', '10.2.2.0/24']], sg: 'sg-0123456789abcdef0', acl: 'acl-0f1e2d3c4b5a69788', rtb: 'rtb-0f1e2d3c4b5a69788', subnetGroup: 'orders-private' },
} as const;
type SideName = keyof typeof NET;
const other = (side: SideName): SideName => (side === 'source' ? 'target' : 'source');

const allowAll = (egress: boolean) => [
  { CidrBlock: '0.0.0.0/0', Egress: egress, Protocol: '-1', RuleAction: 'allow' as const, RuleNumber: 100 },
  { CidrBlock: '0.0.0.0/0', Egress: egress, Protocol: '-1', RuleAction: 'deny' as const, RuleNumber: 32767 },
];

function securityGroup(side: SideName): SecurityGroup {
  const n = NET[side];
  return {
    GroupId: n.sg,
    GroupName: `orders-db-${side}`,
    Description: 'MySQL from the other VPC',
    OwnerId: n.account,
    VpcId: n.vpcId,
    IpPermissions: [{ IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, IpRanges: [{ CidrIp: NET[other(side)].cidr }], UserIdGroupPairs: [], PrefixListIds: [], Ipv6Ranges: [] }],
    IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], UserIdGroupPairs: [], PrefixListIds: [], Ipv6Ranges: [] }],
  };
}

/** One side's VPC as describeVpcNetwork returns it: peered with the other side, everything open to it. */
export function peeredNetwork(side: SideName): VpcNetwork {
  const n = NET[side];
  const o = NET[other(side)];
  return {
    vpcId: n.vpcId,
    region: REGION,
    ownerId: n.account,
    subnets: n.subnets.map(([id, cidr], i) => ({ SubnetId: id, CidrBlock: cidr, VpcId: n.vpcId, OwnerId: n.account, AvailabilityZone: `${REGION}${'ab'[i]}`, State: 'available' as const })),
    routeTables: [
      {
        RouteTableId: n.rtb,
        VpcId: n.vpcId,
        OwnerId: n.account,
        Associations: [{ Main: true, RouteTableAssociationId: `rtbassoc-${side}`, RouteTableId: n.rtb, AssociationState: { State: 'associated' } }],
        Routes: [
          { DestinationCidrBlock: n.cidr, GatewayId: 'local', Origin: 'CreateRouteTable', State: 'active' },
          { DestinationCidrBlock: o.cidr, VpcPeeringConnectionId: PCX, Origin: 'CreateRoute', State: 'active' },
          { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-0a1b2c3d4e5f60718', Origin: 'CreateRoute', State: 'active' },
        ],
      },
    ],
    networkAcls: [
      {
        NetworkAclId: n.acl,
        VpcId: n.vpcId,
        OwnerId: n.account,
        IsDefault: true,
        Associations: n.subnets.map(([id], i) => ({ NetworkAclAssociationId: `aclassoc-${side}-${i}`, NetworkAclId: n.acl, SubnetId: id })),
        Entries: [...allowAll(true), ...allowAll(false)],
      },
    ],
    securityGroups: [securityGroup(side)],
    peerings: [
      {
        VpcPeeringConnectionId: PCX,
        Status: { Code: 'active', Message: 'Active' },
        RequesterVpcInfo: { VpcId: NET.target.vpcId, OwnerId: TGT, CidrBlock: NET.target.cidr, Region: REGION },
        AccepterVpcInfo: { VpcId: NET.source.vpcId, OwnerId: SRC, CidrBlock: NET.source.cidr, Region: REGION },
      },
    ],
  };
}

export function placement(side: SideName, net = peeredNetwork(side)): Placement {
  return { side, net, subnetIds: NET[side].subnets.map(([id]) => id), securityGroupIds: [NET[side].sg] };
}

function subnetGroup(side: SideName): DBSubnetGroup {
  const n = NET[side];
  return {
    DBSubnetGroupName: n.subnetGroup,
    DBSubnetGroupDescription: `${side} private subnets`,
    VpcId: n.vpcId,
    SubnetGroupStatus: 'Complete',
    Subnets: n.subnets.map(([id], i) => ({ SubnetIdentifier: id, SubnetAvailabilityZone: { Name: `${REGION}${'ab'[i]}` }, SubnetStatus: 'Active' })),
    DBSubnetGroupArn: `arn:aws:rds:${REGION}:${n.account}:subgrp:${n.subnetGroup}`,
  };
}

const values = (filters: Filter[] | undefined, name: string) => filters?.find((f) => f.Name === name)?.Values ?? [];

/**
 * Answers the RDS and EC2 describe calls of the network preflight from `nets`, the way the APIs filter
 * (unknown ids are simply absent). Both accounts answer from one mock: ids differ per side.
 */
export function mockNetworkCalls(rds: AwsStub<any, any, any>, ec2: AwsStub<any, any, any>, nets: Record<SideName, VpcNetwork> = { source: peeredNetwork('source'), target: peeredNetwork('target') }): void {
  const both = [nets.source, nets.target];
  rds.on(DescribeDBSubnetGroupsCommand).callsFake(({ DBSubnetGroupName }: { DBSubnetGroupName: string }) => {
    const group = (['source', 'target'] as const).map(subnetGroup).find((g) => g.DBSubnetGroupName === DBSubnetGroupName);
    if (!group) throw Object.assign(new Error(`DBSubnetGroup ${DBSubnetGroupName} not found.`), { name: 'DBSubnetGroupNotFoundFault', $metadata: { httpStatusCode: 404 } });
    return { DBSubnetGroups: [group] };
  });
  ec2.on(DescribeSubnetsCommand).callsFake(({ Filters }: { Filters: Filter[] }) => ({ Subnets: both.flatMap((n) => n.subnets).filter((s) => values(Filters, 'subnet-id').includes(s.SubnetId!)) }));
  ec2.on(DescribeRouteTablesCommand).callsFake(({ Filters }: { Filters: Filter[] }) => ({ RouteTables: both.filter((n) => values(Filters, 'vpc-id').includes(n.vpcId)).flatMap((n) => n.routeTables) }));
  ec2.on(DescribeNetworkAclsCommand).callsFake(({ Filters }: { Filters: Filter[] }) => ({ NetworkAcls: both.filter((n) => values(Filters, 'vpc-id').includes(n.vpcId)).flatMap((n) => n.networkAcls) }));
  ec2.on(DescribeSecurityGroupsCommand).callsFake(({ Filters, GroupIds }: { Filters?: Filter[]; GroupIds?: string[] }) => {
    const ids = GroupIds ?? values(Filters, 'group-id');
    const vpcs = values(Filters, 'vpc-id');
    const names = values(Filters, 'group-name');
    return {
      SecurityGroups: both
        .flatMap((n) => n.securityGroups)
        .filter((g) => (ids.length ? ids.includes(g.GroupId!) : true) && (vpcs.length ? vpcs.includes(g.VpcId!) : true) && (names.length ? names.includes(g.GroupName!) : true)),
    };
  });
  ec2.on(DescribeVpcPeeringConnectionsCommand).callsFake(({ Filters }: { Filters: Filter[] }) => ({
    VpcPeeringConnections: [...new Map(both.flatMap((n) => n.peerings).map((p) => [p.VpcPeeringConnectionId, p])).values()].filter((p) => values(Filters, 'vpc-peering-connection-id').includes(p.VpcPeeringConnectionId!)),
  }));
}

/** The mocked source cluster placed in the source subnet group, behind the source security group. */
export const placedSourceCluster = () => sourceCluster({ DBSubnetGroup: NET.source.subnetGroup, VpcSecurityGroups: [{ VpcSecurityGroupId: NET.source.sg, Status: 'active' }] });
/** Input overrides that put the target in the target subnet group and security group. */
export const placedTarget = { dbSubnetGroupName: NET.target.subnetGroup, vpcSecurityGroupIds: [NET.target.sg] };

/** Answers DescribeSecurityGroups with the source's group (the write block's), for tests that mock nothing else of EC2. */
export function mockSourceSecurityGroup(ec2: AwsStub<any, any, any>): void {
  ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [securityGroup('source')] });
}
