// Preflight: will the TARGET cluster reach the source's replication port from its own subnets (and,
// with reverse replication, the source reach the target's)? Checked from the network configuration
// both accounts describe (network-path.ts), before the clone exists: a connection test from where
// crossmove runs (db-reach.ts) says nothing about the target's subnets. Read-only.
import { lookup } from 'node:dns/promises';
import type { DBCluster } from '@aws-sdk/client-rds';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { defaultSecurityGroup, describeVpcNetwork } from '../aws/ec2.js';
import { ec2Client } from '../aws/ec2-client.js';
import { errorName } from '../aws/call.js';
import { findCluster, findSubnetGroup, sourceRdsClient, targetRdsClient } from '../aws/rds.js';
import { regionOfArn, sourceClientConfig, targetClientConfig } from '../aws/source-account.js';
import { TransientError } from '../errors.js';
import type { MigrationInput } from '../input/validate.js';
import { redact } from '../redact.js';
import type { Accounts } from '../state.js';
import { fail, pass, warn, type CheckOutcome } from './checks.js';
import { analyseAddressPath, analysePath, type AddressDestination, type PathAnalysis, type PathFinding, type Placement } from './network-path.js';

const FORWARD = 'network-target-to-source';
/** What keeps the analysis from running at all (missing subnet group or security group, no permission). */
const SETUP = 'network-path';
const REVERSE = 'network-source-to-target';
const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthFailure']);

/** What the analysis needs about one side, or a check outcome that says why it cannot be had. */
type Side = { placement: Placement; port: number } | { outcome: CheckOutcome | null };

export async function networkPathChecks(input: MigrationInput, accounts: Accounts, sourceCluster: DBCluster | null): Promise<CheckOutcome[]> {
  try {
    const source = sourceCluster ? await sourceSide(input, sourceCluster) : null;
    if (source && 'outcome' in source) return source.outcome ? [source.outcome] : [];
    const target = await targetSide(input, accounts, sourceCluster, source?.port ?? input.source.endpoint?.port ?? 3306);
    if ('outcome' in target) return target.outcome ? [target.outcome] : [];
    const out: CheckOutcome[] = [];
    // The target connects to sourceHostForTarget (a proxy, a load balancer) when set, else to the
    // source cluster's subnets, else to the source endpoint's address.
    const replicationHost = input.replication.sourceHostForTarget ?? (source ? null : input.source.endpoint?.host);
    const replicationPort = input.source.endpoint?.port ?? source?.port ?? 3306;
    const sourceAddresses = replicationHost ? await resolveAddresses(replicationHost) : [];
    if (replicationHost) {
      out.push(
        sourceAddresses.length
          ? addressOutcome(FORWARD, 'replication', target.placement, sourceAddresses, replicationPort, 'to')
          : warn(FORWARD, `${replicationHost} (the address the target replicates from) does not resolve to an IPv4 address from where crossmove runs, so the path from the target's subnets was not analysed.`, `Check the name, or that the target's subnets reach ${replicationHost}:${replicationPort}.`),
      );
    } else if (source) {
      out.push(outcome(FORWARD, 'replication', target.placement, source.placement, source.port));
    }
    if (input.cutover.reverseReplication) {
      // Reverse replication connects from the source itself (never through sourceHostForTarget).
      if (source) out.push(outcome(REVERSE, 'reverse replication (cutover.reverseReplication)', source.placement, target.placement, target.port));
      else if (sourceAddresses.length && !input.replication.sourceHostForTarget) out.push(addressOutcome(REVERSE, 'reverse replication (cutover.reverseReplication)', target.placement, sourceAddresses, target.port, 'from'));
    }
    return out;
  } catch (err) {
    if (err instanceof TransientError || !DENIED.has(errorName(err) ?? '')) throw err;
    return [
      warn(
        SETUP,
        `Could not read the network configuration to check that the target's subnets reach the source on its replication port: ${redact((err as Error).message)}.`,
        'Grant ec2:DescribeSubnets, ec2:DescribeRouteTables, ec2:DescribeNetworkAcls, ec2:DescribeSecurityGroups, ec2:DescribeVpcPeeringConnections and rds:DescribeDBSubnetGroups (source-account/role.yaml and the preflight role carry them), or check the path by hand.',
      ),
    ];
  }
}

/**
 * Every IPv4 address of `host` as seen from where crossmove runs (an address is itself): a proxy or
 * load balancer has one per zone, and each must be reachable.
 */
async function resolveAddresses(host: string): Promise<AddressDestination[]> {
  try {
    const found = await lookup(host, { all: true, family: 4 });
    return [...new Set(found.map((a) => a.address))].map((address) => ({ side: 'source' as const, host, address }));
  } catch {
    return [];
  }
}

export function addressOutcome(id: string, purpose: string, placed: Placement, dests: AddressDestination[], port: number, direction: 'to' | 'from'): CheckOutcome {
  const results = dests.map((dest) => analyseAddressPath(placed, dest, port, direction));
  const where = `${dests[0]!.host} (${dests.map((d) => d.address).join(', ')}, resolved from where crossmove runs)`;
  const path = direction === 'to' ? `the ${placed.side}'s subnets (${placed.subnetIds.join(', ')}) to ${where}` : `${where} to the ${placed.side}'s subnets (${placed.subnetIds.join(', ')})`;
  return verdict(id, { findings: results.flatMap((r) => r.findings), via: [...new Set(results.flatMap((r) => r.via))] }, {
    pass: (via) =>
      `The ${placed.side}'s side of the path from ${path} on TCP ${port} for ${purpose} is open: security groups, network ACLs and routes (${via}). The ${dests[0]!.side}'s own firewall is not visible to crossmove: it must let ${direction === 'to' ? `the ${placed.side}'s subnets in` : `TCP ${port} out`}.`,
    blocked: `The path from ${path} on TCP ${port} for ${purpose} is closed on the ${placed.side}'s side`,
    unknown: `crossmove could not confirm the path from ${path} on TCP ${port} for ${purpose}`,
  });
}

function outcome(id: string, purpose: string, client: Placement, server: Placement, port: number): CheckOutcome {
  const subnets = (p: Placement) => p.subnetIds.join(', ');
  return verdict(id, analysePath(client, server, port), {
    pass: (via) =>
      `Every ${client.side} subnet (${subnets(client)}) reaches every ${server.side} subnet (${subnets(server)}) on TCP ${port} for ${purpose}, and the replies get back: security groups, network ACLs and routes (${via}) allow it.`,
    blocked: `The ${client.side}'s subnets cannot reach the ${server.side} on TCP ${port} for ${purpose}`,
    unknown: `crossmove could not confirm that the ${client.side}'s subnets reach the ${server.side} on TCP ${port} for ${purpose}`,
  });
}

/** Any blocked finding fails (only those are listed), else any unknown one warns, else the path passes. */
function verdict(id: string, { findings, via }: PathAnalysis, say: { pass: (via: string) => string; blocked: string; unknown: string }): CheckOutcome {
  if (!findings.length) return pass(id, say.pass(via.join(', ')));
  const blocking = findings.filter((f) => f.severity === 'blocked');
  const shown = blocking.length ? blocking : findings;
  const fixes = [...new Set(shown.map((f) => f.fix))].join(' ');
  return blocking.length ? fail(id, `${say.blocked}: ${listed(shown)}.`, fixes) : warn(id, `${say.unknown}: ${listed(shown)}.`, fixes);
}

const describe = (f: PathFinding) => `${f.resource} ${f.problem} (for ${f.peers.join(', ')})`;
/** The first findings in full; a wide subnet group with one closed rule would otherwise repeat it a dozen times. */
const MAX_LISTED = 6;
const listed = (findings: PathFinding[]) => findings.slice(0, MAX_LISTED).map(describe).join('; ') + (findings.length > MAX_LISTED ? `; and ${findings.length - MAX_LISTED} more` : '');

async function sourceSide(input: MigrationInput, cluster: DBCluster): Promise<Side> {
  const groupName = cluster.DBSubnetGroup;
  const id = cluster.DBClusterIdentifier;
  if (!groupName) return { outcome: warn(SETUP, `Source cluster ${id} reports no DB subnet group, so its network path was not analysed.`, 'Check by hand that the target subnets reach the source on its port.') };
  const group = await findSubnetGroup(await sourceRdsClient(input), groupName);
  if (!group?.VpcId) return { outcome: warn(SETUP, `Source cluster ${id}'s DB subnet group ${groupName} is not visible, so its network path was not analysed.`, 'Let the source-account role call rds:DescribeDBSubnetGroups, or check the path by hand.') };
  const placement = await placementIn(
    ec2Client(await sourceClientConfig(input)),
    'source',
    group.VpcId,
    regionOfArn(cluster.DBClusterArn) ?? input.target.region ?? process.env.AWS_REGION ?? '',
    (group.Subnets ?? []).map((s) => s.SubnetIdentifier!).filter(Boolean),
    (cluster.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId!).filter(Boolean),
  );
  if ('outcome' in placement) return placement;
  return { placement: placement.placement, port: cluster.Port ?? 3306 };
}

async function targetSide(input: MigrationInput, accounts: Accounts, sourceCluster: DBCluster | null, sourcePort: number): Promise<Side> {
  const method = input.initialLoad.method;
  const targetRds = targetRdsClient(input);
  const region = input.target.region ?? process.env.AWS_REGION ?? '';
  let groupName: string | undefined;
  let groupIds: string[] | undefined;
  let port = sourcePort; // a clone or a restored snapshot keeps the source's port
  let what: string;
  if (method === 'logical') {
    // The target already exists: read where it is. Given by endpoint only, it is not in AWS's view.
    const id = input.target.clusterIdentifier;
    const existing = id && !input.target.endpoint ? await findCluster(targetRds, id) : null;
    if (!existing) return { outcome: null };
    groupName = existing.DBSubnetGroup;
    groupIds = (existing.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId!).filter(Boolean);
    port = existing.Port ?? 3306;
    what = `target cluster ${id}'s DB subnet group`;
  } else {
    // A same-account clone without a subnet group keeps the source's (RestoreDBClusterToPointInTime
    // copies the source's configuration); a cross-account one is refused by target-network already.
    groupName = input.target.dbSubnetGroupName ?? (method === 'clone' && accounts.sameAccount ? sourceCluster?.DBSubnetGroup : undefined);
    groupIds = input.target.vpcSecurityGroupIds;
    what = input.target.dbSubnetGroupName ? 'target.dbSubnetGroupName' : "the source's DB subnet group (kept by a same-account clone)";
    if (!groupName) {
      if (method === 'clone' && !accounts.sameAccount) return { outcome: null };
      return {
        outcome: warn(
          SETUP,
          'target.dbSubnetGroupName is not set: the restored cluster goes into the account\'s default DB subnet group, so the path from its subnets to the source was not analysed.',
          'Set target.dbSubnetGroupName (and target.vpcSecurityGroupIds) to where the target cluster should live.',
        ),
      };
    }
  }
  if (!groupName) return { outcome: warn(SETUP, `The target cluster reports no DB subnet group, so its network path was not analysed.`, 'Check by hand that the target subnets reach the source.') };
  const group = await findSubnetGroup(targetRds, groupName);
  if (!group?.VpcId) {
    return {
      outcome: fail(SETUP, `DB subnet group ${groupName} (${what}) does not exist in account ${accounts.target ?? 'of the pipeline'} and region ${region}.`, `Create it, or set target.dbSubnetGroupName to an existing DB subnet group of the target account.`, 'ResourceNotFoundError'),
    };
  }
  const ec2 = ec2Client(targetClientConfig(input));
  // No security group given: RDS attaches the VPC's default one.
  const securityGroupIds = groupIds?.length ? groupIds : (await defaultSecurityGroup(ec2, group.VpcId)).map((g) => g.GroupId!);
  const placement = await placementIn(ec2, 'target', group.VpcId, region, (group.Subnets ?? []).map((s) => s.SubnetIdentifier!).filter(Boolean), securityGroupIds);
  if ('outcome' in placement) return placement;
  return { placement: placement.placement, port };
}

async function placementIn(
  ec2: EC2Client,
  side: Placement['side'],
  vpcId: string,
  region: string,
  subnetIds: string[],
  securityGroupIds: string[],
): Promise<{ placement: Placement } | { outcome: CheckOutcome }> {
  const net = await describeVpcNetwork(ec2, { vpcId, region, subnetIds, securityGroupIds });
  const missingGroups = securityGroupIds.filter((id) => !net.securityGroups.some((g) => g.GroupId === id));
  const foreignGroups = net.securityGroups.filter((g) => g.VpcId && g.VpcId !== vpcId).map((g) => g.GroupId);
  if (missingGroups.length || foreignGroups.length) {
    const field = side === 'target' ? 'target.vpcSecurityGroupIds' : `the source cluster's VPC security groups`;
    return {
      outcome: fail(
        SETUP,
        `${field}: ${[...missingGroups.map((g) => `${g} does not exist`), ...foreignGroups.map((g) => `${g} is not in VPC ${vpcId}`)].join(', ')} (the ${side}'s subnets are in ${vpcId}).`,
        `Give security groups of VPC ${vpcId} in the ${side} account.`,
        missingGroups.length ? 'ResourceNotFoundError' : 'PreflightFailedError',
      ),
    };
  }
  const missingSubnets = subnetIds.filter((id) => !net.subnets.some((s) => s.SubnetId === id));
  if (missingSubnets.length) {
    return { outcome: warn(SETUP, `The ${side}'s subnets ${missingSubnets.join(', ')} are not visible, so the network path was not analysed.`, 'Check the DB subnet group and the role\'s ec2:DescribeSubnets permission.') };
  }
  return { placement: { side, net, subnetIds, securityGroupIds } };
}
