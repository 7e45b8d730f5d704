// The runbook's write block for Aurora: remove the inbound MySQL rules of the source's VPC security
// group (new connections fail), then kill the open sessions. plan() reads the rules before the block so
// the cutover can store them on the target; every rollback restores from that plan (undo), never from
// what a revoke call reported: a revoke that timed out may still have been applied.
// Rules whose source is a "keep" security group (crossmove's Lambda, the target's replication path)
// are never removed, or the rollback and a later recovery would lock themselves out.
import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { ResourceNotFoundError } from '../errors.js';
import { logger } from '../logger.js';
import type { WriteBlocker } from '../mysql/write-block.js';

export interface SgPlan {
  groupId: string;
  rules: IpPermission[];
}

export class SecurityGroupBlocker implements WriteBlocker {
  readonly method = 'security-group';
  private planned: SgPlan | null = null;
  constructor(
    private readonly ec2: EC2Client,
    private readonly groupId: string,
    private readonly port = 3306,
    private readonly keepGroupIds: string[] = [],
  ) {}

  /** Inbound rules that let clients reach the MySQL port, without the pairs of the "keep" groups. */
  async mysqlRules(): Promise<IpPermission[]> {
    const out = await this.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [this.groupId] }));
    const group = out.SecurityGroups?.[0];
    if (!group) throw new ResourceNotFoundError(`Security group ${this.groupId} (cutover.writeBlock.securityGroupId) not found in the source account`);
    const keep = new Set(this.keepGroupIds);
    return (group.IpPermissions ?? [])
      .filter((p) => coversPort(p, this.port))
      .map((p) => ({ ...p, UserIdGroupPairs: (p.UserIdGroupPairs ?? []).filter((g) => !g.GroupId || !keep.has(g.GroupId)) }))
      .filter((p) => singleSourceRules(p).length > 0);
  }

  async plan(): Promise<unknown> {
    this.planned = { groupId: this.groupId, rules: await this.mysqlRules() };
    return this.planned;
  }

  async block(): Promise<void> {
    // Recorded before the call: a revoke that fails may still have been applied.
    this.planned ??= { groupId: this.groupId, rules: await this.mysqlRules() };
    const rules = this.planned.rules;
    logger.info('security-group write block: removing inbound rules', { groupId: this.groupId, rules, keepGroupIds: this.keepGroupIds });
    if (!rules.length) return;
    await this.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: this.groupId, IpPermissions: rules }));
  }

  /** No inbound rule lets clients (other than the "keep" groups) reach the MySQL port. */
  async inPlace(): Promise<boolean> {
    return (await this.mysqlRules()).length === 0;
  }

  async unblock(): Promise<void> {
    if (this.planned) await this.undo(this.planned);
  }

  /** One source (CIDR, prefix list or group) at a time: a rule still there must not stop its siblings. */
  async undo(plan: unknown): Promise<void> {
    const rules = (plan as Partial<SgPlan> | null)?.rules ?? [];
    for (const rule of rules) for (const one of singleSourceRules(rule)) await this.authorize(one);
  }

  private async authorize(rule: IpPermission): Promise<void> {
    try {
      await this.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: this.groupId, IpPermissions: [rule] }));
    } catch (err) {
      if ((err as Error).name !== 'InvalidPermission.Duplicate') throw err;
    }
  }
}

/** Whether an inbound permission lets clients reach `port` (all traffic, or a range that holds it). */
export function coversPort(p: IpPermission, port: number): boolean {
  return p.IpProtocol === '-1' || (p.FromPort !== undefined && p.ToPort !== undefined && p.FromPort <= port && port <= p.ToPort);
}

/** A permission split into one permission per source, each with the same protocol and ports. */
export function singleSourceRules(p: IpPermission): IpPermission[] {
  const base = { IpProtocol: p.IpProtocol, FromPort: p.FromPort, ToPort: p.ToPort };
  return [
    ...(p.IpRanges ?? []).map((r) => ({ ...base, IpRanges: [r] })),
    ...(p.Ipv6Ranges ?? []).map((r) => ({ ...base, Ipv6Ranges: [r] })),
    ...(p.PrefixListIds ?? []).map((r) => ({ ...base, PrefixListIds: [r] })),
    ...(p.UserIdGroupPairs ?? []).map((r) => ({ ...base, UserIdGroupPairs: [r] })),
  ];
}
