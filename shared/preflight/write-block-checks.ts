// Preflight: will the cutover's write block on an Aurora source really stop writes? Aurora's writer
// ignores read_only, so the block removes the MySQL inbound rules of one security group
// (cutover.writeBlock.securityGroupId): that group must be attached to the cluster, must hold the rules
// the applications come in through, and no other attached group may let them in anyway. The rules it
// would remove are asked of the blocker itself (read-only: DescribeSecurityGroups), so this check and
// the cutover never disagree.
import type { DBCluster } from '@aws-sdk/client-rds';
import type { IpPermission } from '@aws-sdk/client-ec2';
import { securityGroupsById } from '../aws/ec2.js';
import { ec2Client } from '../aws/ec2-client.js';
import { sourceClientConfig } from '../aws/source-account.js';
import type { MigrationInput } from '../input/validate.js';
import { coversPort, SecurityGroupBlocker, singleSourceRules } from '../aws/write-block-sg.js';
import { ResourceNotFoundError } from '../errors.js';
import { errorName } from '../aws/call.js';
import { redact } from '../redact.js';
import { fail, pass, warn, type CheckOutcome } from './checks.js';

const ID = 'write-block';

export async function writeBlockChecks(input: MigrationInput, cluster: DBCluster): Promise<CheckOutcome[]> {
  const wb = input.cutover.writeBlock;
  const attached = (cluster.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId!).filter(Boolean);
  const port = cluster.Port ?? 3306;
  const clusterId = cluster.DBClusterIdentifier;
  if (wb?.method === 'read-only') {
    return [
      fail(
        ID,
        `cutover.writeBlock.method is read-only, but source cluster ${clusterId} is Aurora, whose writer ignores read_only: the cutover would refuse.`,
        `Set cutover.writeBlock.method to security-group and securityGroupId to the cluster's security group that lets the applications in (${attached.join(', ') || 'none attached'}).`,
      ),
    ];
  }
  if (!wb?.securityGroupId) {
    return [
      fail(
        ID,
        `cutover.writeBlock.securityGroupId is not set: on Aurora writes are blocked by removing the MySQL inbound rules of the source's security group, and the cutover would refuse without it.`,
        `Set cutover.writeBlock to { method: security-group, securityGroupId: <one of ${attached.join(', ') || "the cluster's VPC security groups"}> }.`,
      ),
    ];
  }
  const sg = wb.securityGroupId;
  if (!attached.includes(sg)) {
    return [
      fail(
        ID,
        `cutover.writeBlock.securityGroupId ${sg} is not attached to source cluster ${clusterId} (attached: ${attached.join(', ') || 'none'}): removing its rules would block nothing.`,
        `Set cutover.writeBlock.securityGroupId to the attached group the applications come in through.`,
      ),
    ];
  }
  const ec2 = ec2Client(await sourceClientConfig(input));
  let removed: IpPermission[];
  try {
    removed = await new SecurityGroupBlocker(ec2, sg, port, wb.keepSecurityGroupIds).mysqlRules();
  } catch (err) {
    const name = errorName(err);
    if (err instanceof ResourceNotFoundError || name === 'InvalidGroup.NotFound') {
      return [fail(ID, `Security group ${sg} (cutover.writeBlock.securityGroupId) is not visible in the source account, though cluster ${clusterId} lists it.`, "Check the group and the cluster's region.", 'ResourceNotFoundError')];
    }
    // An older source-account role stack: say so instead of failing the whole preflight.
    if (name === 'UnauthorizedOperation' || name === 'AccessDenied' || name === 'AccessDeniedException') {
      return [warn(ID, `Could not read security group ${sg} to check the write block: ${redact((err as Error).message)}.`, 'Update the source-account role (source-account/role.yaml grants ec2:DescribeSecurityGroups), or check the group\'s inbound rules by hand.')];
    }
    throw err;
  }
  const out: CheckOutcome[] = [];
  const sources = removed.flatMap(singleSourceRules).map(describeSource);
  if (!sources.length) {
    out.push(
      warn(
        ID,
        `The write block would remove no rule: security group ${sg} has no inbound rule for TCP ${port} besides those of the kept groups (${wb.keepSecurityGroupIds.join(', ') || 'none'}), so new application connections would not be stopped.`,
        `Put the applications' inbound TCP ${port} rules in ${sg}, or point cutover.writeBlock.securityGroupId at the group that has them.`,
      ),
    );
  } else {
    out.push(pass(ID, `The write block removes ${sources.length} inbound TCP ${port} source(s) from ${sg} (${sources.join(', ')})${wb.keepSecurityGroupIds.length ? ` and keeps ${wb.keepSecurityGroupIds.join(', ')}` : ''}; it restores them on rollback.`));
  }
  // Other attached groups stay open during the block: whatever they let in can keep writing.
  const others = (await securityGroupsById(ec2, attached.filter((id) => id !== sg)))
    .map((g) => ({ id: g.GroupId!, sources: (g.IpPermissions ?? []).filter((p) => coversPort(p, port)).flatMap(singleSourceRules).map(describeSource) }))
    .filter((g) => g.sources.length);
  if (others.length) {
    out.push(
      warn(
        `${ID}-other-groups`,
        `Other security groups of ${clusterId} also let TCP ${port} in and are not touched by the write block: ${others.map((g) => `${g.id} (${g.sources.join(', ')})`).join('; ')}. Applications coming in through them could keep writing during the cutover (which then rolls back when the source binlog moves).`,
        `Move application access into ${sg}, or make sure these sources are only crossmove, replication or administration paths.`,
      ),
    );
  }
  const lambdaGroups = (process.env.CROSSMOVE_LAMBDA_SECURITY_GROUP_IDS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const notKept = lambdaGroups.filter((id) => !wb.keepSecurityGroupIds.includes(id));
  if (notKept.length) {
    out.push(
      warn(
        `${ID}-keeps-crossmove`,
        `crossmove's Lambda security groups ${notKept.join(', ')} are not in cutover.writeBlock.keepSecurityGroupIds: if they reach the source through a rule of ${sg}, the block cuts crossmove off too, and a retried cutover step could not reconnect to the source.`,
        `Add ${notKept.join(', ')} to cutover.writeBlock.keepSecurityGroupIds (and let them in through a rule that names the group).`,
      ),
    );
  }
  return out;
}

function describeSource(p: IpPermission): string {
  return p.IpRanges?.[0]?.CidrIp ?? p.Ipv6Ranges?.[0]?.CidrIpv6 ?? p.PrefixListIds?.[0]?.PrefixListId ?? p.UserIdGroupPairs?.[0]?.GroupId ?? 'a rule';
}
