// The preflight's write-block check against moto's real EC2 and RDS: on Aurora the cutover blocks
// writes by emptying one security group, so that group must be attached, must hold the applications'
// rules, and other attached groups must not let them in anyway.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ModifyDBClusterCommand, RDSClient } from '@aws-sdk/client-rds';
import { localLambdaContext } from '../../shared/handler.js';
import type { MigrationState } from '../../shared/state.js';
import { inspectPreflight } from '../../shared/preflight/run.js';
import { handler as validateInput } from '../../handlers/validate-input.js';
import { startMoto, type Moto } from '../support/moto.js';
import { createSecret, createSourceCluster, REGION, type SourceFixture } from './fixtures.js';

const ctx = localLambdaContext('test');
let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

const ec2 = () => new EC2Client({ region: REGION });
const mysqlFrom = (source: { CidrIp?: string; GroupId?: string }) => [
  { IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, ...(source.CidrIp ? { IpRanges: [{ CidrIp: source.CidrIp }] } : { UserIdGroupPairs: [{ GroupId: source.GroupId }] }) },
];
async function newGroup(name: string): Promise<string> {
  return (await ec2().send(new CreateSecurityGroupCommand({ GroupName: name, Description: name }))).GroupId!;
}

describe('preflight: the cutover write block of an Aurora source (moto)', () => {
  let source: SourceFixture;
  let targetSecret: string;
  const stateWith = (cutover: Record<string, unknown> | undefined): Promise<MigrationState> =>
    validateInput(
      {
        migrationId: 'orders-1',
        source: { clusterArn: source.clusterArn, adminSecret: source.adminSecretArn },
        target: { adminSecret: targetSecret },
        initialLoad: { method: 'clone' },
        ...(cutover ? { cutover } : {}),
      },
      ctx,
    );
  const checks = async (cutover: Record<string, unknown> | undefined) => (await inspectPreflight(await stateWith(cutover))).outcomes.filter((c) => c.id.startsWith('write-block'));

  beforeEach(async () => {
    await moto.reset();
    source = await createSourceCluster({ region: REGION }, { name: 'orders-prod', encrypted: false });
    targetSecret = await createSecret({ region: REGION }, 'orders-target-admin');
  });
  afterEach(() => {
    delete process.env.CROSSMOVE_LAMBDA_SECURITY_GROUP_IDS;
  });

  it('passes the attached group that lets the applications in, naming what the block removes', async () => {
    expect(await checks({ writeBlock: { method: 'security-group', securityGroupId: source.securityGroupId } })).toEqual([
      { id: 'write-block', status: 'pass', message: `The write block removes 1 inbound TCP 3306 source(s) from ${source.securityGroupId} (10.0.0.0/8); it restores them on rollback.` },
    ]);
  });

  it('fails read-only (Aurora ignores it), a missing group and a group that is not attached, before anything changes', async () => {
    const [readOnly] = await checks({ writeBlock: { method: 'read-only' } });
    expect(readOnly).toMatchObject({ status: 'fail', message: expect.stringContaining("Aurora, whose writer ignores read_only"), fix: expect.stringContaining(source.securityGroupId) });
    const [none] = await checks(undefined);
    expect(none).toMatchObject({ status: 'fail', message: expect.stringContaining('cutover.writeBlock.securityGroupId is not set'), fix: expect.stringContaining(source.securityGroupId) });
    const stray = await newGroup('not-attached');
    const [notAttached] = await checks({ writeBlock: { method: 'security-group', securityGroupId: stray } });
    expect(notAttached).toMatchObject({ status: 'fail', message: `cutover.writeBlock.securityGroupId ${stray} is not attached to source cluster orders-prod (attached: ${source.securityGroupId}): removing its rules would block nothing.` });
    await expect(inspectPreflight(await stateWith(undefined)).then((r) => r.ok)).resolves.toBe(false);
  });

  it('warns when another attached group also lets MySQL in, and when the block would remove nothing', async () => {
    const apps = await newGroup('apps-way-in');
    await ec2().send(new AuthorizeSecurityGroupIngressCommand({ GroupId: apps, IpPermissions: mysqlFrom({ CidrIp: '172.20.0.0/16' }) }));
    await new RDSClient({ region: REGION }).send(new ModifyDBClusterCommand({ DBClusterIdentifier: 'orders-prod', VpcSecurityGroupIds: [source.securityGroupId, apps] }));
    const out = await checks({ writeBlock: { method: 'security-group', securityGroupId: source.securityGroupId } });
    expect(out.map((c) => [c.id, c.status])).toEqual([['write-block', 'pass'], ['write-block-other-groups', 'warn']]);
    expect(out[1]!.message).toContain(`${apps} (172.20.0.0/16)`);
    // A group with only the kept group's rule: the block would remove nothing, applications keep coming in.
    const quiet = await newGroup('admin-only');
    const kept = await newGroup('crossmove-lambdas');
    await ec2().send(new AuthorizeSecurityGroupIngressCommand({ GroupId: quiet, IpPermissions: mysqlFrom({ GroupId: kept }) }));
    await new RDSClient({ region: REGION }).send(new ModifyDBClusterCommand({ DBClusterIdentifier: 'orders-prod', VpcSecurityGroupIds: [source.securityGroupId, apps, quiet] }));
    const nothing = await checks({ writeBlock: { method: 'security-group', securityGroupId: quiet, keepSecurityGroupIds: [kept] } });
    expect(nothing[0]).toMatchObject({ id: 'write-block', status: 'warn', message: expect.stringContaining(`The write block would remove no rule: security group ${quiet} has no inbound rule for TCP 3306 besides those of the kept groups (${kept})`) });
    expect(nothing[1]!.message).toContain(`${source.securityGroupId} (10.0.0.0/8)`);
  });

  it("warns when crossmove's own Lambda security groups are not kept (a retried cutover could not reconnect)", async () => {
    process.env.CROSSMOVE_LAMBDA_SECURITY_GROUP_IDS = 'sg-0fa11bac000000001';
    const out = await checks({ writeBlock: { method: 'security-group', securityGroupId: source.securityGroupId } });
    expect(out.find((c) => c.id === 'write-block-keeps-crossmove')).toMatchObject({ status: 'warn', fix: 'Add sg-0fa11bac000000001 to cutover.writeBlock.keepSecurityGroupIds (and let them in through a rule that names the group).' });
    const kept = await checks({ writeBlock: { method: 'security-group', securityGroupId: source.securityGroupId, keepSecurityGroupIds: ['sg-0fa11bac000000001'] } });
    expect(kept.find((c) => c.id === 'write-block-keeps-crossmove')).toBeUndefined();
  });
});
