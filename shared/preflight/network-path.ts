// Can a database in one set of subnets open TCP connections to a database in another? A static
// analysis of what EC2 describes (like Reachability Analyzer, without its per-path charge and with
// cross-account paths): for every pair of client and server subnet, the client's security groups
// (outbound), its network ACL (outbound, and inbound for the replies: ACLs are stateless), its route
// table, then the server's network ACL (inbound, and outbound for the replies), its security groups
// (inbound) and its route table back. Every subnet counts, not one: the writer may be placed in any
// subnet of its DB subnet group and moves between them on failover.
// Transit gateways, prefix lists and other routes crossmove cannot follow are "unknown" (a warning),
// never guessed to be open.
import type { IpPermission, NetworkAcl, NetworkAclEntry, Route, RouteTable, SecurityGroup, Subnet } from '@aws-sdk/client-ec2';
import ipaddr from 'ipaddr.js';
import type { VpcNetwork } from '../aws/ec2.js';
import { cidrRelation, EPHEMERAL_PORTS, formatPorts, LINUX_EPHEMERAL_PORTS, intersectPorts, prefixLength, subtractPorts, type PortRange } from './cidr.js';

/** One database's place in the network: the subnets it may run in and the security groups it carries. */
export interface Placement {
  side: 'source' | 'target';
  net: VpcNetwork;
  subnetIds: string[];
  securityGroupIds: string[];
}

export interface PathFinding {
  severity: 'blocked' | 'unknown';
  /** The resource to change ("network ACL acl-1 of target subnet subnet-1"). */
  resource: string;
  problem: string;
  fix: string;
  /** The far-side subnets the problem applies to. */
  peers: string[];
}

export interface PathAnalysis {
  findings: PathFinding[];
  /** How traffic travels between the VPCs ("the same VPC", "peering pcx-1"). */
  via: string[];
}

type Verdict = { ok: true } | { ok: false; severity: PathFinding['severity']; problem: string };
const OK: Verdict = { ok: true };
const blocked = (problem: string): Verdict => ({ ok: false, severity: 'blocked', problem });
const unknown = (problem: string): Verdict => ({ ok: false, severity: 'unknown', problem });

const TCP_PROTOCOLS = new Set(['-1', 'tcp', '6']);

const subnetLabel = (p: Placement, s: Subnet) => `${p.side} subnet ${s.SubnetId} (${s.CidrBlock})`;

/** Analyses client -> server on `port` (and the replies). */
export function analysePath(client: Placement, server: Placement, port: number): PathAnalysis {
  const found = findingSet();
  const via = new Set<string>();
  const clientSubnets = subnetsOf(client);
  const serverSubnets = subnetsOf(server);
  for (const p of [client, server]) found.unseen(p, `${p.side} subnets`);
  const serverCidrs = serverSubnets.map((s) => s.CidrBlock!).join(', ');
  const clientCidrs = clientSubnets.map((s) => s.CidrBlock!).join(', ');
  const clientGroups = client.net.securityGroups;
  const serverGroups = server.net.securityGroups;
  const groupRefsWork = client.net.region === server.net.region; // security group references do not cross regions
  const groupNames = (p: Placement) => p.securityGroupIds.join(', ');

  for (const c of clientSubnets) {
    for (const s of serverSubnets) {
      const cPeer = subnetLabel(server, s);
      const sPeer = subnetLabel(client, c);
      const checks: Array<[Verdict, string, string, string]> = [
        [
          groups(clientGroups, 'out', s.CidrBlock!, groupRefsWork ? server.securityGroupIds : [], port),
          `security groups ${groupNames(client)} of the ${client.side}`,
          `Add an outbound rule TCP ${port} to ${serverCidrs}${groupRefsWork ? ` (or to security group ${server.securityGroupIds[0]})` : ''} to ${client.securityGroupIds[0]}.`,
          cPeer,
        ],
        [acl(client, c, true, s.CidrBlock!, [port, port]), aclLabel(client, c), `Allow outbound TCP ${port} to ${serverCidrs} in ${aclOf(client.net, c.SubnetId!)?.NetworkAclId} (a rule numbered below the deny).`, cPeer],
        [route(client, c, toSubnet(server, s), via), rtbLabel(client, c), routeFix(client, server, s.CidrBlock!), cPeer],
        [acl(server, s, false, c.CidrBlock!, [port, port]), aclLabel(server, s), `Allow inbound TCP ${port} from ${clientCidrs} in ${aclOf(server.net, s.SubnetId!)?.NetworkAclId} (a rule numbered below the deny).`, sPeer],
        [
          groups(serverGroups, 'in', c.CidrBlock!, groupRefsWork ? client.securityGroupIds : [], port),
          `security groups ${groupNames(server)} of the ${server.side}`,
          `Add an inbound rule TCP ${port} from ${clientCidrs}${groupRefsWork ? ` (or from security group ${client.net.ownerId ? `${client.net.ownerId}/` : ''}${client.securityGroupIds[0]})` : ''} to ${server.securityGroupIds[0]}.`,
          sPeer,
        ],
        [replies(server, s, true, c.CidrBlock!), aclLabel(server, s), `Allow outbound TCP ${formatPorts(EPHEMERAL_PORTS)} to ${clientCidrs} (the replies) in ${aclOf(server.net, s.SubnetId!)?.NetworkAclId}.`, sPeer],
        [route(server, s, toSubnet(client, c), via), rtbLabel(server, s), routeFix(server, client, c.CidrBlock!), sPeer],
        [replies(client, c, false, s.CidrBlock!), aclLabel(client, c), `Allow inbound TCP ${formatPorts(EPHEMERAL_PORTS)} from ${serverCidrs} (the replies) in ${aclOf(client.net, c.SubnetId!)?.NetworkAclId}.`, cPeer],
      ];
      for (const [verdict, resource, fix, peer] of checks) found.add(verdict, resource, fix, peer);
    }
  }
  return found.analysis(via);
}

/** A database crossmove knows only by address (a self-managed source, a proxy in front of one). */
export interface AddressDestination {
  side: Placement['side'];
  /** What the operator wrote (host name or address). */
  host: string;
  /** The IPv4 address it resolves to. */
  address: string;
}

/**
 * A database in AWS and one known only by address, on `port`: 'to' = the placed database connects to
 * the address (replication into the target), 'from' = the address connects to it (reverse replication).
 * Only the placed side can be read (security groups, network ACL both ways, route); the far side's
 * firewall is not visible and the caller says so.
 */
export function analyseAddressPath(placed: Placement, dest: AddressDestination, port: number, direction: 'to' | 'from'): PathAnalysis {
  const found = findingSet();
  const via = new Set<string>();
  const cidr = `${dest.address}/32`;
  const peer = `${dest.side} ${dest.host} (${dest.address})`;
  const out = direction === 'to';
  const to: RouteDestination = { side: dest.side, cidr, vpcId: null, isPublic: isPublicAddress(dest.address), inbound: !out };
  const sg = placed.securityGroupIds[0];
  found.unseen(placed, peer);
  for (const c of subnetsOf(placed)) {
    const aclId = aclOf(placed.net, c.SubnetId!)?.NetworkAclId;
    const checks: Array<[Verdict, string, string]> = [
      [
        groups(placed.net.securityGroups, out ? 'out' : 'in', cidr, [], port),
        `security groups ${placed.securityGroupIds.join(', ')} of the ${placed.side}`,
        out ? `Add an outbound rule TCP ${port} to ${cidr} to ${sg}.` : `Add an inbound rule TCP ${port} from ${cidr} to ${sg}.`,
      ],
      out
        ? [acl(placed, c, true, cidr, [port, port]), aclLabel(placed, c), `Allow outbound TCP ${port} to ${cidr} in ${aclId} (a rule numbered below the deny).`]
        : [acl(placed, c, false, cidr, [port, port]), aclLabel(placed, c), `Allow inbound TCP ${port} from ${cidr} in ${aclId} (a rule numbered below the deny).`],
      [route(placed, c, to, via), rtbLabel(placed, c), `Add a route to ${cidr} (the network of ${dest.host}) through the peering, transit gateway, VPN or NAT gateway that reaches it.`],
      out
        ? [replies(placed, c, false, cidr), aclLabel(placed, c), `Allow inbound TCP ${formatPorts(EPHEMERAL_PORTS)} from ${cidr} (the replies) in ${aclId}.`]
        : [replies(placed, c, true, cidr), aclLabel(placed, c), `Allow outbound TCP ${formatPorts(EPHEMERAL_PORTS)} to ${cidr} (the replies) in ${aclId}.`],
    ];
    for (const [verdict, resource, fix] of checks) found.add(verdict, resource, fix, peer);
  }
  return found.analysis(via);
}

/** Findings grouped by (severity, resource, problem), each listing the far-side places it applies to. */
function findingSet() {
  const found = new Map<string, PathFinding>();
  const note = (severity: PathFinding['severity'], resource: string, problem: string, fix: string, peer: string) => {
    const hit = found.get(`${severity}|${resource}|${problem}`);
    if (!hit) found.set(`${severity}|${resource}|${problem}`, { severity, resource, problem, fix, peers: [peer] });
    else if (!hit.peers.includes(peer)) hit.peers.push(peer);
  };
  return {
    add(verdict: Verdict, resource: string, fix: string, peer: string): void {
      if (!verdict.ok) note(verdict.severity, resource, verdict.problem, fix, peer);
    },
    /** Never a pass by omission: no subnet at all, or a subnet without an IPv4 range, is not analysed, and says so. */
    unseen(p: Placement, peer: string): void {
      if (!p.subnetIds.length) note('unknown', `the ${p.side}'s DB subnet group`, 'lists no subnet', 'Add subnets to the DB subnet group.', peer);
      for (const id of ipv4Less(p)) note('unknown', `${p.side} subnet ${id}`, 'has no IPv4 range (crossmove analyses IPv4 paths only)', 'Check the IPv6 path by hand (security groups, network ACLs, routes).', peer);
    },
    analysis(via: Set<string>): PathAnalysis {
      return { findings: [...found.values()], via: [...via] };
    },
  };
}

const NOT_ROUTED_ON_THE_INTERNET = new Set(['private', 'loopback', 'linkLocal', 'carrierGradeNat', 'unspecified', 'broadcast', 'multicast']);
function isPublicAddress(address: string): boolean {
  try {
    return !NOT_ROUTED_ON_THE_INTERNET.has(ipaddr.parse(address).range());
  } catch {
    return false;
  }
}

/** Subnets of the placement that are missing or have no IPv4 CIDR. */
function ipv4Less(p: Placement): string[] {
  return p.subnetIds.filter((id) => !p.net.subnets.find((s) => s.SubnetId === id)?.CidrBlock);
}

function subnetsOf(p: Placement): Subnet[] {
  return p.subnetIds.map((id) => p.net.subnets.find((s) => s.SubnetId === id)).filter((s): s is Subnet => Boolean(s?.CidrBlock));
}

// ---- security groups (stateful: a connection let out is let back in) ----

function groups(list: SecurityGroup[], direction: 'in' | 'out', peerCidr: string, peerGroupIds: string[], port: number): Verdict {
  let partial: string | null = null;
  for (const g of list) {
    for (const rule of (direction === 'out' ? g.IpPermissionsEgress : g.IpPermissions) ?? []) {
      if (!ruleCoversPort(rule, port)) continue;
      for (const r of rule.IpRanges ?? []) {
        const rel = r.CidrIp ? cidrRelation(r.CidrIp, peerCidr) : 'disjoint';
        if (rel === 'covers') return OK;
        if (rel === 'partly') partial ??= `${g.GroupId} lets TCP ${port} ${direction === 'out' ? 'out to' : 'in from'} ${r.CidrIp}, only part of ${peerCidr}`;
      }
      if ((rule.UserIdGroupPairs ?? []).some((pair) => pair.GroupId && peerGroupIds.includes(pair.GroupId))) return OK;
      if (rule.PrefixListIds?.length) partial ??= `${g.GroupId} lets TCP ${port} ${direction === 'out' ? 'out to' : 'in from'} prefix list ${rule.PrefixListIds.map((p) => p.PrefixListId).join(', ')}, which crossmove does not expand`;
    }
  }
  if (partial) return unknown(partial);
  return blocked(`let no TCP ${port} ${direction === 'out' ? 'out to' : 'in from'} ${peerCidr}`);
}

function ruleCoversPort(rule: IpPermission, port: number): boolean {
  if (!TCP_PROTOCOLS.has(String(rule.IpProtocol))) return false;
  if (rule.IpProtocol === '-1' || rule.FromPort === undefined || rule.ToPort === undefined) return true;
  return rule.FromPort <= port && port <= rule.ToPort;
}

// ---- network ACLs (stateless, first matching rule by number wins, then the default deny) ----

function aclOf(net: VpcNetwork, subnetId: string): NetworkAcl | undefined {
  return net.networkAcls.find((a) => a.Associations?.some((x) => x.SubnetId === subnetId)) ?? net.networkAcls.find((a) => a.IsDefault);
}
const aclLabel = (p: Placement, s: Subnet) => `network ACL ${aclOf(p.net, s.SubnetId!)?.NetworkAclId ?? '(none found)'} of ${subnetLabel(p, s)}`;

function acl(p: Placement, s: Subnet, egress: boolean, peerCidr: string, ports: PortRange): Verdict {
  const a = aclOf(p.net, s.SubnetId!);
  if (!a) return unknown(`no network ACL is visible for the subnet (ec2:DescribeNetworkAcls answered none)`);
  const way = egress ? `outbound TCP ${formatPorts(ports)} to ${peerCidr}` : `inbound TCP ${formatPorts(ports)} from ${peerCidr}`;
  let undecided: PortRange[] = [ports];
  const entries = (a.Entries ?? []).filter((e) => Boolean(e.Egress) === egress && e.CidrBlock).sort((x, y) => (x.RuleNumber ?? 0) - (y.RuleNumber ?? 0));
  for (const e of entries) {
    if (!TCP_PROTOCOLS.has(String(e.Protocol))) continue;
    const rel = cidrRelation(e.CidrBlock!, peerCidr);
    if (rel === 'disjoint') continue;
    const hit = intersectPorts(undecided, entryPorts(e));
    if (!hit.length) continue;
    if (e.RuleAction === 'deny') {
      const n = e.RuleNumber === 32767 ? 'the default rule *' : `rule ${e.RuleNumber}`;
      const what = `${hit.map(formatPorts).join(', ')}`;
      return rel === 'covers' ? blocked(`denies ${way} (${n}${ports[0] !== ports[1] ? `, ports ${what}` : ''})`) : unknown(`${n} denies ${way} for part of ${peerCidr} (${e.CidrBlock})`);
    }
    // An allow for part of the peer's addresses decides nothing for the rest of them.
    if (rel === 'covers') undecided = subtractPorts(undecided, entryPorts(e));
    if (!undecided.length) return OK;
  }
  return blocked(`denies ${way} (no rule allows it; the default rule * denies)`);
}

/**
 * The replies' ports: AWS's guidance is 1024-65535 (clients vary); an ACL that opens only the Linux
 * range that Aurora's hosts use (32768-60999) works for replication, so that is a warning, not a stop.
 */
function replies(p: Placement, s: Subnet, egress: boolean, peerCidr: string): Verdict {
  const full = acl(p, s, egress, peerCidr, EPHEMERAL_PORTS);
  if (full.ok || full.severity !== 'blocked' || !acl(p, s, egress, peerCidr, LINUX_EPHEMERAL_PORTS).ok) return full;
  return unknown(`${full.problem}, but allows ${formatPorts(LINUX_EPHEMERAL_PORTS)} (the Linux ephemeral range Aurora's hosts use: enough unless a client picks a port outside it)`);
}

function entryPorts(e: NetworkAclEntry): PortRange {
  if (e.Protocol === '-1' || !e.PortRange) return [0, 65535];
  return [e.PortRange.From ?? 0, e.PortRange.To ?? 65535];
}

// ---- routes ----

function tableOf(net: VpcNetwork, subnetId: string): RouteTable | undefined {
  return net.routeTables.find((t) => t.Associations?.some((x) => x.SubnetId === subnetId)) ?? net.routeTables.find((t) => t.Associations?.some((x) => x.Main));
}
const rtbLabel = (p: Placement, s: Subnet) => `route table ${tableOf(p.net, s.SubnetId!)?.RouteTableId ?? '(none found)'} of ${subnetLabel(p, s)}`;

function routeFix(from: Placement, to: Placement, toCidr: string): string {
  return from.net.vpcId === to.net.vpcId
    ? `The subnets share VPC ${from.net.vpcId}; restore its local route.`
    : `Add a route to ${toCidr} (or ${to.side} VPC ${to.net.vpcId}'s CIDR) through the active VPC peering connection or transit gateway between ${from.net.vpcId} and ${to.net.vpcId}.`;
}

/** Where a route must lead: a VPC crossmove can see, or an address whose network it cannot. */
interface RouteDestination {
  side: Placement['side'];
  cidr: string;
  vpcId: string | null;
  /** Addresses outside the private ranges may be reached through an internet or NAT gateway. */
  isPublic: boolean;
  /** The far side opens the connection (reverse replication from an address): no NAT or internet route carries that in. */
  inbound?: boolean;
}

const toSubnet = (p: Placement, s: Subnet): RouteDestination => ({ side: p.side, cidr: s.CidrBlock!, vpcId: p.net.vpcId, isPublic: false });

function route(from: Placement, s: Subnet, to: RouteDestination, via: Set<string>): Verdict {
  const table = tableOf(from.net, s.SubnetId!);
  if (!table) return unknown('no route table is visible for the subnet (ec2:DescribeRouteTables answered none)');
  const dest = to.cidr;
  const best = (table.Routes ?? [])
    .filter((r) => r.DestinationCidrBlock && cidrRelation(r.DestinationCidrBlock, dest) === 'covers')
    .sort((a, b) => prefixLength(b.DestinationCidrBlock!) - prefixLength(a.DestinationCidrBlock!))[0];
  if (!best) {
    if ((table.Routes ?? []).some((r) => r.DestinationPrefixListId)) return unknown(`has no CIDR route to ${dest}, only prefix-list routes crossmove does not expand`);
    return blocked(`has no route to ${dest}`);
  }
  if (best.State === 'blackhole') return blocked(`routes ${dest} to ${routeTarget(best)}, which is a blackhole (deleted or not active)`);
  // A longer route over part of the destination decides for those addresses, whatever the covering route says.
  const split = (table.Routes ?? []).find(
    (r) => r !== best && r.DestinationCidrBlock && cidrRelation(r.DestinationCidrBlock, dest) === 'partly' && (r.State === 'blackhole' || routeTarget(r) !== routeTarget(best)),
  );
  if (split) return unknown(`sends part of ${dest} (${split.DestinationCidrBlock}) to ${routeTarget(split)}${split.State === 'blackhole' ? ', a blackhole' : ''}, not to ${routeTarget(best)}`);
  if (best.GatewayId === 'local') {
    if (to.vpcId === null || from.net.vpcId === to.vpcId) {
      via.add(`the same VPC ${from.net.vpcId}`);
      return OK;
    }
    return blocked(`sends ${dest} to its own VPC ${from.net.vpcId} (local route ${best.DestinationCidrBlock}): the two VPCs' address ranges overlap, so they cannot be peered`);
  }
  if (best.VpcPeeringConnectionId) {
    const pcx = from.net.peerings.find((x) => x.VpcPeeringConnectionId === best.VpcPeeringConnectionId);
    if (!pcx) return unknown(`routes ${dest} through peering ${best.VpcPeeringConnectionId}, which is not visible`);
    if (pcx.Status?.Code !== 'active') return blocked(`routes ${dest} through peering ${pcx.VpcPeeringConnectionId}, which is ${pcx.Status?.Code ?? 'not active'} (accept it in the other account)`);
    const ends = [pcx.RequesterVpcInfo?.VpcId, pcx.AccepterVpcInfo?.VpcId];
    if (to.vpcId !== null && (!ends.includes(from.net.vpcId) || !ends.includes(to.vpcId))) {
      return blocked(`routes ${dest} through peering ${pcx.VpcPeeringConnectionId}, which connects ${ends.join(' and ')}, not ${to.side} VPC ${to.vpcId}`);
    }
    via.add(`peering ${pcx.VpcPeeringConnectionId}`);
    return OK;
  }
  if (best.GatewayId?.startsWith('igw-') || best.NatGatewayId || best.EgressOnlyInternetGatewayId) {
    if (!to.isPublic) return blocked(`routes ${dest} to ${routeTarget(best)} (the internet), but the ${to.side}'s addresses are private`);
    if (to.inbound) {
      return blocked(`routes ${dest} to ${routeTarget(best)}: a connection opened from the internet cannot come in through it (the cluster is not publicly accessible, and a NAT gateway carries outbound connections only)`);
    }
    if (best.NatGatewayId) {
      via.add(`the internet (${routeTarget(best)})`);
      return OK;
    }
    return unknown(`routes ${dest} to ${routeTarget(best)}, which works only for an instance with a public address (crossmove creates the writer private): route it through a NAT gateway`);
  }
  return unknown(`routes ${dest} through ${routeTarget(best)}, which crossmove does not follow: check that it forwards to ${to.vpcId ? `${to.side} VPC ${to.vpcId}` : `the ${to.side} (${dest})`} and back`);
}

function routeTarget(r: Route): string {
  return (
    r.VpcPeeringConnectionId ??
    r.TransitGatewayId ??
    r.NatGatewayId ??
    r.GatewayId ??
    r.NetworkInterfaceId ??
    r.InstanceId ??
    r.LocalGatewayId ??
    r.CoreNetworkArn ??
    r.EgressOnlyInternetGatewayId ??
    'an unknown target'
  );
}
