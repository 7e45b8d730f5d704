// The runbook's write block for Aurora: remove the inbound MySQL rules of the source's VPC security
// group (new connections fail), then kill the open sessions. The removed rules are kept in memory
// and re-authorised on rollback; plan() returns them before the block so the cutover can store them
// (and they are logged) for an invocation that must undo the block after a crash.
import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { ResourceNotFoundError } from '../errors.js';
import { logger } from '../logger.js';
import type { WriteBlocker } from './write-block.js';

export class SecurityGroupBlocker implements WriteBlocker {
  readonly method = 'security-group';
  private revoked: IpPermission[] = [];
  constructor(private readonly ec2: EC2Client, private readonly groupId: string, private readonly port = 3306) {}

  /** Inbound rules that let clients reach the MySQL port. */
  async mysqlRules(): Promise<IpPermission[]> {
    const out = await this.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [this.groupId] }));
    const group = out.SecurityGroups?.[0];
    if (!group) throw new ResourceNotFoundError(`Security group ${this.groupId} (cutover.writeBlock.securityGroupId) not found in the source account`);
    return (group.IpPermissions ?? []).filter(
      (p) => p.IpProtocol === '-1' || (p.FromPort !== undefined && p.ToPort !== undefined && p.FromPort <= this.port && this.port <= p.ToPort),
    );
  }

  async plan(): Promise<unknown> {
    return { groupId: this.groupId, rules: await this.mysqlRules() };
  }

  async block(): Promise<void> {
    const rules = await this.mysqlRules();
    logger.info('security-group write block: removing inbound rules', { groupId: this.groupId, rules });
    if (!rules.length) return;
    await this.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: this.groupId, IpPermissions: rules }));
    this.revoked = rules;
  }

  async unblock(): Promise<void> {
    if (!this.revoked.length) return;
    await this.authorize(this.revoked);
    this.revoked = [];
  }

  async undo(plan: unknown): Promise<void> {
    const rules = (plan as { rules?: IpPermission[] } | null)?.rules ?? [];
    for (const rule of rules) await this.authorize([rule]); // one by one: some may still be there
  }

  private async authorize(rules: IpPermission[]): Promise<void> {
    try {
      await this.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: this.groupId, IpPermissions: rules }));
    } catch (err) {
      if ((err as Error).name !== 'InvalidPermission.Duplicate') throw err;
    }
  }
}
