// The static path analysis on EC2-shaped networks: the peered pair passes, and each hop broken on its
// own is named (resource, problem, the subnets it hits) with its fix.
import { describe, expect, it } from 'vitest';
import { analyseAddressPath, analysePath } from '../../shared/preflight/network-path.js';
import { cidrRelation, subtractPorts } from '../../shared/preflight/cidr.js';
import { NET, PCX, peeredNetwork, placement } from '../aws/network-fixtures.js';

const target = (mutate?: (n: ReturnType<typeof peeredNetwork>) => void) => {
  const net = peeredNetwork('target');
  mutate?.(net);
  return placement('target', net);
};
const source = (mutate?: (n: ReturnType<typeof peeredNetwork>) => void) => {
  const net = peeredNetwork('source');
  mutate?.(net);
  return placement('source', net);
};
const [T1, T2] = NET.target.subnets.map(([id, cidr]) => `target subnet ${id} (${cidr})`);
const [S1, S2] = NET.source.subnets.map(([id, cidr]) => `source subnet ${id} (${cidr})`);

describe('cidr helpers', () => {
  it('tells covering, partial and disjoint CIDRs apart', () => {
    expect(cidrRelation('10.1.0.0/16', '10.1.2.0/24')).toBe('covers');
    expect(cidrRelation('10.1.2.0/24', '10.1.2.0/24')).toBe('covers');
    expect(cidrRelation('10.1.2.128/25', '10.1.2.0/24')).toBe('partly');
    expect(cidrRelation('10.2.0.0/16', '10.1.2.0/24')).toBe('disjoint');
    expect(cidrRelation('0.0.0.0/0', '10.1.2.0/24')).toBe('covers');
  });
  it('subtracts port ranges', () => {
    expect(subtractPorts([[1024, 65535]], [32768, 60999])).toEqual([[1024, 32767], [61000, 65535]]);
    expect(subtractPorts([[3306, 3306]], [0, 65535])).toEqual([]);
  });
});

describe('analysePath (target subnets -> source replication port)', () => {
  it('passes the peered VPCs and says how traffic travels', () => {
    const r = analysePath(target(), source(), 3306);
    expect(r.findings).toEqual([]);
    expect(r.via).toEqual([`peering ${PCX}`]);
  });

  it('passes two subnets of one VPC through the local route', () => {
    const net = peeredNetwork('source');
    const a = { side: 'target' as const, net, subnetIds: [NET.source.subnets[0][0]], securityGroupIds: [NET.source.sg] };
    const b = { side: 'source' as const, net, subnetIds: [NET.source.subnets[1][0]], securityGroupIds: [NET.source.sg] };
    // The group lets MySQL in from the other VPC only: same-VPC traffic needs its own rule.
    expect(analysePath(a, b, 3306).findings.map((f) => f.problem)).toEqual(['let no TCP 3306 in from 10.1.1.0/24']);
    net.securityGroups[0]!.IpPermissions!.push({ IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, UserIdGroupPairs: [{ GroupId: NET.source.sg }] });
    const r = analysePath(a, b, 3306);
    expect(r.findings).toEqual([]);
    expect(r.via).toEqual([`the same VPC ${NET.source.vpcId}`]);
  });

  it("fails when the source's security group lets no MySQL in from the target's subnets", () => {
    const r = analysePath(target(), source((n) => (n.securityGroups[0]!.IpPermissions = [])), 3306);
    expect(r.findings).toEqual([
      {
        severity: 'blocked',
        resource: `security groups ${NET.source.sg} of the source`,
        problem: 'let no TCP 3306 in from 10.2.1.0/24',
        fix: `Add an inbound rule TCP 3306 from 10.2.1.0/24, 10.2.2.0/24 (or from security group ${NET.target.account}/${NET.target.sg}) to ${NET.source.sg}.`,
        peers: [T1],
      },
      expect.objectContaining({ problem: 'let no TCP 3306 in from 10.2.2.0/24', peers: [T2] }),
    ]);
  });

  it("accepts a rule that names the target's security group, within one region only", () => {
    const byGroup = (n: ReturnType<typeof peeredNetwork>) => {
      n.securityGroups[0]!.IpPermissions = [{ IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, UserIdGroupPairs: [{ GroupId: NET.target.sg, UserId: NET.target.account }] }];
    };
    expect(analysePath(target(), source(byGroup), 3306).findings).toEqual([]);
    const otherRegion = source((n) => {
      byGroup(n);
      n.region = 'eu-west-1';
    });
    expect(analysePath(target(), otherRegion, 3306).findings[0]).toMatchObject({ severity: 'blocked', problem: 'let no TCP 3306 in from 10.2.1.0/24' });
  });

  it("fails when the target's security group lets nothing out on the port", () => {
    const r = analysePath(target((n) => (n.securityGroups[0]!.IpPermissionsEgress = [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }])), source(), 3306);
    expect(r.findings[0]).toMatchObject({ severity: 'blocked', resource: `security groups ${NET.target.sg} of the target`, problem: 'let no TCP 3306 out to 10.1.1.0/24', peers: [S1] });
  });

  it('names the network ACL rule that denies the port before the allow rule', () => {
    const r = analysePath(
      target(),
      source((n) => n.networkAcls[0]!.Entries!.push({ RuleNumber: 90, Protocol: '6', RuleAction: 'deny', Egress: false, CidrBlock: '10.2.0.0/16', PortRange: { From: 3306, To: 3306 } })),
      3306,
    );
    expect(r.findings.map((f) => [f.severity, f.resource, f.problem, f.peers])).toEqual([
      ['blocked', `network ACL ${NET.source.acl} of ${S1}`, 'denies inbound TCP 3306 from 10.2.1.0/24 (rule 90)', [T1]],
      ['blocked', `network ACL ${NET.source.acl} of ${S2}`, 'denies inbound TCP 3306 from 10.2.1.0/24 (rule 90)', [T1]],
      ['blocked', `network ACL ${NET.source.acl} of ${S1}`, 'denies inbound TCP 3306 from 10.2.2.0/24 (rule 90)', [T2]],
      ['blocked', `network ACL ${NET.source.acl} of ${S2}`, 'denies inbound TCP 3306 from 10.2.2.0/24 (rule 90)', [T2]],
    ]);
    expect(r.findings.every((f) => f.fix.includes(`Allow inbound TCP 3306 from 10.2.1.0/24, 10.2.2.0/24 in ${NET.source.acl}`))).toBe(true);
  });

  it("warns (not fails) when the target's ACL lets only the Linux ephemeral ports back in, and fails when not even those", () => {
    const repliesOn = (from: number, to: number) =>
      target((n) => {
        n.networkAcls[0]!.Entries = [
          { RuleNumber: 100, Protocol: '-1', RuleAction: 'allow', Egress: true, CidrBlock: '0.0.0.0/0' },
          { RuleNumber: 100, Protocol: '6', RuleAction: 'allow', Egress: false, CidrBlock: '10.0.0.0/8', PortRange: { From: from, To: to } },
          { RuleNumber: 32767, Protocol: '-1', RuleAction: 'deny', Egress: false, CidrBlock: '0.0.0.0/0' },
        ];
      });
    const linux = analysePath(repliesOn(32768, 60999), source(), 3306);
    // Each target subnet's ACL (two subnets) for each source subnet (two).
    expect(linux.findings.map((f) => [f.severity, f.resource])).toEqual([
      ['unknown', `network ACL ${NET.target.acl} of ${T1}`],
      ['unknown', `network ACL ${NET.target.acl} of ${T1}`],
      ['unknown', `network ACL ${NET.target.acl} of ${T2}`],
      ['unknown', `network ACL ${NET.target.acl} of ${T2}`],
    ]);
    expect(linux.findings[0]!.problem).toBe(
      'denies inbound TCP 1024-65535 from 10.1.1.0/24 (the default rule *, ports 1024-32767, 61000-65535), but allows 32768-60999 (the Linux ephemeral range Aurora\'s hosts use: enough unless a client picks a port outside it)',
    );
    expect(linux.findings[0]!.fix).toContain('(the replies)');
    const low = analysePath(repliesOn(1024, 32767), source(), 3306);
    expect(low.findings.map((f) => f.severity)).toEqual(['blocked', 'blocked', 'blocked', 'blocked']);
    expect(low.findings[0]!.problem).toBe('denies inbound TCP 1024-65535 from 10.1.1.0/24 (the default rule *, ports 32768-65535)');
  });

  it('fails one subnet whose own ACL blocks, naming only that subnet', () => {
    const [blockedId] = NET.target.subnets[1]!;
    const r = analysePath(
      target((n) => {
        n.networkAcls[0]!.Associations = n.networkAcls[0]!.Associations!.filter((a) => a.SubnetId !== blockedId);
        n.networkAcls[0]!.IsDefault = true;
        n.networkAcls.push({ NetworkAclId: 'acl-0closed', VpcId: n.vpcId, IsDefault: false, Associations: [{ SubnetId: blockedId, NetworkAclId: 'acl-0closed' }], Entries: [] });
      }),
      source(),
      3306,
    );
    expect(new Set(r.findings.map((f) => f.resource))).toEqual(new Set([`network ACL acl-0closed of ${T2}`]));
    expect(r.findings.map((f) => f.problem)).toContain('denies outbound TCP 3306 to 10.1.1.0/24 (no rule allows it; the default rule * denies)');
  });

  it('fails a missing route and a route through the NAT gateway (private addresses)', () => {
    const noPeeringRoute = (n: ReturnType<typeof peeredNetwork>) => (n.routeTables[0]!.Routes = n.routeTables[0]!.Routes!.filter((x) => !x.VpcPeeringConnectionId));
    const r = analysePath(target(noPeeringRoute), source(), 3306);
    expect(r.findings[0]).toMatchObject({
      severity: 'blocked',
      resource: `route table ${NET.target.rtb} of ${T1}`,
      problem: 'routes 10.1.1.0/24 to nat-0a1b2c3d4e5f60718 (the internet), but the source\'s addresses are private',
    });
    expect(r.findings[0]!.fix).toContain(`between ${NET.target.vpcId} and ${NET.source.vpcId}`);
    const none = analysePath(target((n) => (n.routeTables[0]!.Routes = [n.routeTables[0]!.Routes![0]!])), source(), 3306);
    expect(none.findings[0]!.problem).toBe('has no route to 10.1.1.0/24');
    // The way back counts too.
    const back = analysePath(target(), source(noPeeringRoute), 3306);
    expect(back.findings[0]).toMatchObject({ resource: `route table ${NET.source.rtb} of ${S1}`, problem: expect.stringContaining('routes 10.2.1.0/24 to nat-') });
  });

  it('fails a peering that is not active yet, a blackhole route and a peering to another VPC', () => {
    expect(analysePath(target((n) => (n.peerings[0]!.Status = { Code: 'pending-acceptance' })), source(), 3306).findings[0]!.problem).toBe(
      `routes 10.1.1.0/24 through peering ${PCX}, which is pending-acceptance (accept it in the other account)`,
    );
    expect(analysePath(target((n) => (n.routeTables[0]!.Routes![1]!.State = 'blackhole')), source(), 3306).findings[0]!.problem).toBe(`routes 10.1.1.0/24 to ${PCX}, which is a blackhole (deleted or not active)`);
    expect(analysePath(target((n) => (n.peerings[0]!.AccepterVpcInfo!.VpcId = 'vpc-0elsewhere')), source(), 3306).findings[0]!.problem).toContain('not source VPC');
  });

  it('warns (never passes) what it cannot follow: a transit gateway, a prefix list', () => {
    const viaTgw = analysePath(target((n) => (n.routeTables[0]!.Routes![1] = { DestinationCidrBlock: '10.0.0.0/8', TransitGatewayId: 'tgw-0a1b2c3d4e5f60718', State: 'active' })), source(), 3306);
    expect(new Set(viaTgw.findings.map((f) => f.severity))).toEqual(new Set(['unknown']));
    expect(viaTgw.findings).toHaveLength(4); // 2 target subnets x 2 source subnets, one route table
    expect(viaTgw.findings[0]!.problem).toBe(`routes 10.1.1.0/24 through tgw-0a1b2c3d4e5f60718, which crossmove does not follow: check that it forwards to source VPC ${NET.source.vpcId} and back`);
    const viaPrefixList = analysePath(target(), source((n) => (n.securityGroups[0]!.IpPermissions = [{ IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, PrefixListIds: [{ PrefixListId: 'pl-0a1b2c3d' }] }])), 3306);
    expect(viaPrefixList.findings.every((f) => f.severity === 'unknown')).toBe(true);
    expect(viaPrefixList.findings[0]!.problem).toContain('prefix list pl-0a1b2c3d');
  });

  it('checks the reverse direction on its own port (source subnets -> target)', () => {
    expect(analysePath(source(), target(), 3306).findings).toEqual([]);
    const r = analysePath(source(), target(), 3307);
    expect(r.findings[0]).toMatchObject({ resource: `security groups ${NET.target.sg} of the target`, problem: 'let no TCP 3307 in from 10.1.1.0/24' });
  });
});

describe('analyseAddressPath (a source known only by address)', () => {
  const dest = (address: string) => ({ side: 'source' as const, host: 'mysql.example.internal', address });

  it('passes a private address reached through the peering, and a public one through the NAT gateway', () => {
    const peered = analyseAddressPath(target(), dest('10.1.7.20'), 3306, 'to');
    expect(peered).toEqual({ findings: [], via: [`peering ${PCX}`] });
    const internet = analyseAddressPath(target(), dest('203.0.113.10'), 3306, 'to');
    expect(internet).toEqual({ findings: [], via: ['the internet (nat-0a1b2c3d4e5f60718)'] });
  });

  it('fails a private address the route table sends to the NAT gateway, naming the address', () => {
    const r = analyseAddressPath(target(), dest('172.16.4.9'), 3306, 'to');
    expect(r.findings[0]).toMatchObject({
      severity: 'blocked',
      resource: `route table ${NET.target.rtb} of ${T1}`,
      problem: "routes 172.16.4.9/32 to nat-0a1b2c3d4e5f60718 (the internet), but the source's addresses are private",
      peers: ['source mysql.example.internal (172.16.4.9)'],
    });
  });

  it("checks the target's inbound side for reverse replication from the address", () => {
    // The target group lets MySQL in from 10.1.0.0/16 only.
    expect(analyseAddressPath(target(), dest('10.1.7.20'), 3306, 'from').findings).toEqual([]);
    const r = analyseAddressPath(target(), dest('203.0.113.10'), 3306, 'from');
    expect(r.findings[0]).toMatchObject({ severity: 'blocked', problem: 'let no TCP 3306 in from 203.0.113.10/32', fix: `Add an inbound rule TCP 3306 from 203.0.113.10/32 to ${NET.target.sg}.` });
  });
});

describe('what the analysis cannot see is never a pass', () => {
  it('an IPv6-only subnet gives an unknown finding, not silence', () => {
    const r = analysePath(target((n) => delete n.subnets[1]!.CidrBlock), source(), 3306);
    expect(r.findings).toEqual([expect.objectContaining({ severity: 'unknown', resource: `target subnet ${NET.target.subnets[1]![0]}`, problem: 'has no IPv4 range (crossmove analyses IPv4 paths only)' })]);
    const a = analyseAddressPath(target((n) => n.subnets.forEach((s) => delete s.CidrBlock)), { side: 'source', host: 'db', address: '10.1.7.20' }, 3306, 'to');
    expect(a.findings.map((f) => f.severity)).toEqual(['unknown', 'unknown']);
  });
});

describe('an empty side', () => {
  it('a subnet group without subnets is an unknown finding', () => {
    const r = analysePath({ ...target(), subnetIds: [] }, source(), 3306);
    expect(r.findings).toEqual([expect.objectContaining({ severity: 'unknown', resource: "the target's DB subnet group", problem: 'lists no subnet' })]);
  });
});

describe('routes to the internet and routes over part of a subnet', () => {
  const dest = (address: string) => ({ side: 'source' as const, host: 'db.example.com', address });

  it('a NAT gateway carries connections out, never in; an internet gateway needs a public instance', () => {
    expect(analyseAddressPath(target(), dest('198.51.100.7'), 3306, 'to').findings).toEqual([]);
    const inbound = analyseAddressPath(target((n) => n.securityGroups[0]!.IpPermissions!.push({ IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, IpRanges: [{ CidrIp: '198.51.100.7/32' }] })), dest('198.51.100.7'), 3306, 'from');
    // One finding per target subnet (both use the route table with the NAT route).
    const nat = 'routes 198.51.100.7/32 to nat-0a1b2c3d4e5f60718: a connection opened from the internet cannot come in through it (the cluster is not publicly accessible, and a NAT gateway carries outbound connections only)';
    expect(inbound.findings.map((f) => [f.severity, f.problem])).toEqual([['blocked', nat], ['blocked', nat]]);
    const viaIgw = analyseAddressPath(target((n) => (n.routeTables[0]!.Routes![2] = { DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-0a1b2c3d4e5f60718', State: 'active' })), dest('198.51.100.7'), 3306, 'to');
    expect(viaIgw.findings[0]).toMatchObject({ severity: 'unknown', problem: expect.stringContaining('works only for an instance with a public address') });
  });

  it('a longer route over part of the destination subnet is never ignored (a blackhole /25 inside a peered /16)', () => {
    const r = analysePath(target((n) => n.routeTables[0]!.Routes!.push({ DestinationCidrBlock: '10.1.1.0/25', VpcPeeringConnectionId: 'pcx-0deleted000000000', State: 'blackhole' })), source(), 3306);
    // Both target subnets share the route table: one finding each, for the source subnet it splits.
    const problem = `sends part of 10.1.1.0/24 (10.1.1.0/25) to pcx-0deleted000000000, a blackhole, not to ${PCX}`;
    expect(r.findings.map((f) => [f.severity, f.resource, f.problem, f.peers])).toEqual([
      ['unknown', `route table ${NET.target.rtb} of ${T1}`, problem, [S1]],
      ['unknown', `route table ${NET.target.rtb} of ${T2}`, problem, [S1]],
    ]);
  });
});

describe('a name with several addresses (a proxy or load balancer per zone)', () => {
  it('checks every address: one open path does not hide a closed one', async () => {
    const { addressOutcome } = await import('../../shared/preflight/network-checks.js');
    const dests = ['10.1.7.20', '172.16.4.9'].map((address) => ({ side: 'source' as const, host: 'repl-proxy.internal', address }));
    const out = addressOutcome('network-target-to-source', 'replication', target(), dests, 3306, 'to');
    expect(out.status).toBe('fail');
    expect(out.message).toContain('to repl-proxy.internal (10.1.7.20, 172.16.4.9, resolved from where crossmove runs)');
    expect(out.message).toContain('routes 172.16.4.9/32 to nat-0a1b2c3d4e5f60718 (the internet)');
    expect(out.message).not.toContain('10.1.7.20/32');
    expect(addressOutcome('network-target-to-source', 'replication', target(), dests.slice(0, 1), 3306, 'to').status).toBe('pass');
  });
});
