// EC2, read-only: the network a database lives in (its subnets, their route tables and network ACLs,
// the VPC's peering connections, the database's security groups), for the preflight's path analysis.
// Changes to security groups (the cutover's write block) live in write-block-sg.ts.
// Filters rather than id lists throughout: a missing id then comes back as "not found" in the answer
// instead of an InvalidXxx.NotFound error that would hide which of several ids is wrong.
import {
  DescribeNetworkAclsCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcPeeringConnectionsCommand,
  type EC2Client,
  type Filter,
  type NetworkAcl,
  type RouteTable,
  type SecurityGroup,
  type Subnet,
  type VpcEndpoint,
  type VpcPeeringConnection,
} from '@aws-sdk/client-ec2';
import { awsCall } from './call.js';

/** Everything the path analysis reads about one database's network (one VPC). */
export interface VpcNetwork {
  vpcId: string;
  region: string;
  /** The account that owns the VPC (from the subnets), when known. */
  ownerId?: string;
  subnets: Subnet[];
  routeTables: RouteTable[];
  networkAcls: NetworkAcl[];
  securityGroups: SecurityGroup[];
  peerings: VpcPeeringConnection[];
}

async function allPages<T>(what: string, page: (token?: string) => Promise<{ items?: T[]; next?: string }>): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const res = await awsCall(what, () => page(token));
    out.push(...(res.items ?? []));
    token = res.next;
  } while (token);
  return out;
}

const filter = (name: string, values: string[]): Filter => ({ Name: name, Values: values });

export async function describeSubnets(ec2: EC2Client, subnetIds: string[]): Promise<Subnet[]> {
  if (!subnetIds.length) return [];
  return allPages(`EC2 DescribeSubnets ${subnetIds.join(',')}`, async (NextToken) => {
    const r = await ec2.send(new DescribeSubnetsCommand({ Filters: [filter('subnet-id', subnetIds)], NextToken }));
    return { items: r?.Subnets, next: r?.NextToken };
  });
}

async function describeSecurityGroups(ec2: EC2Client, filters: Filter[]): Promise<SecurityGroup[]> {
  return allPages(`EC2 DescribeSecurityGroups ${filters.map((f) => f.Values?.join(',')).join(' ')}`, async (NextToken) => {
    const r = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: filters, NextToken }));
    return { items: r?.SecurityGroups, next: r?.NextToken };
  });
}

export const securityGroupsById = (ec2: EC2Client, ids: string[]) => (ids.length ? describeSecurityGroups(ec2, [filter('group-id', ids)]) : Promise.resolve([]));
/** A VPC's default security group: RDS attaches it when a restore names no security group. */
export const defaultSecurityGroup = (ec2: EC2Client, vpcId: string) => describeSecurityGroups(ec2, [filter('vpc-id', [vpcId]), filter('group-name', ['default'])]);

export async function describeRouteTables(ec2: EC2Client, vpcId: string): Promise<RouteTable[]> {
  return allPages(`EC2 DescribeRouteTables ${vpcId}`, async (NextToken) => {
    const r = await ec2.send(new DescribeRouteTablesCommand({ Filters: [filter('vpc-id', [vpcId])], NextToken }));
    return { items: r?.RouteTables, next: r?.NextToken };
  });
}

async function describeNetworkAcls(ec2: EC2Client, vpcId: string): Promise<NetworkAcl[]> {
  return allPages(`EC2 DescribeNetworkAcls ${vpcId}`, async (NextToken) => {
    const r = await ec2.send(new DescribeNetworkAclsCommand({ Filters: [filter('vpc-id', [vpcId])], NextToken }));
    return { items: r?.NetworkAcls, next: r?.NextToken };
  });
}

async function describePeerings(ec2: EC2Client, ids: string[]): Promise<VpcPeeringConnection[]> {
  if (!ids.length) return [];
  return allPages(`EC2 DescribeVpcPeeringConnections ${ids.join(',')}`, async (NextToken) => {
    const r = await ec2.send(new DescribeVpcPeeringConnectionsCommand({ Filters: [filter('vpc-peering-connection-id', ids)], NextToken }));
    return { items: r?.VpcPeeringConnections, next: r?.NextToken };
  });
}

/** A VPC's endpoints (interface and gateway): which AWS APIs its subnets reach without NAT. */
export async function describeVpcEndpoints(ec2: EC2Client, vpcId: string): Promise<VpcEndpoint[]> {
  return allPages(`EC2 DescribeVpcEndpoints ${vpcId}`, async (NextToken) => {
    const r = await ec2.send(new DescribeVpcEndpointsCommand({ Filters: [filter('vpc-id', [vpcId])], NextToken }));
    return { items: r?.VpcEndpoints, next: r?.NextToken };
  });
}

/**
 * The network of a database placed in `subnetIds` (one VPC) behind `securityGroupIds`. Peering
 * connections are read for the ones the route tables use. Missing subnets or groups are simply absent
 * from the answer: the caller names them.
 */
export async function describeVpcNetwork(
  ec2: EC2Client,
  spec: { vpcId: string; region: string; subnetIds: string[]; securityGroupIds: string[] },
): Promise<VpcNetwork> {
  const [subnets, routeTables, networkAcls, securityGroups] = await Promise.all([
    describeSubnets(ec2, spec.subnetIds),
    describeRouteTables(ec2, spec.vpcId),
    describeNetworkAcls(ec2, spec.vpcId),
    securityGroupsById(ec2, spec.securityGroupIds),
  ]);
  const peeringIds = [...new Set(routeTables.flatMap((t) => (t.Routes ?? []).map((r) => r.VpcPeeringConnectionId).filter((id): id is string => Boolean(id))))];
  const peerings = await describePeerings(ec2, peeringIds);
  return { vpcId: spec.vpcId, region: spec.region, ownerId: subnets[0]?.OwnerId, subnets, routeTables, networkAcls, securityGroups, peerings };
}
