// Builders for AWS test fixtures: a source Aurora cluster as RDS/KMS/Secrets Manager would hold it,
// created through the real API of the moto server (in whichever account the credentials act in).
import { CreateDBClusterCommand, CreateDBClusterParameterGroupCommand, CreateDBInstanceCommand, ModifyDBClusterParameterGroupCommand, RDSClient } from '@aws-sdk/client-rds';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { AwsCredentialIdentity } from '@aws-sdk/types';

export const REGION = 'us-east-1';
/** moto's default account (the pipeline / target account in these tests). */
export const TARGET_ACCOUNT = '123456789012';
export const SOURCE_ACCOUNT = '111111111111';

export interface ClientOptions {
  region: string;
  credentials?: AwsCredentialIdentity;
}

/** Credentials acting in `account` inside moto (AssumeRole of a role in that account). */
export async function credentialsFor(account: string): Promise<AwsCredentialIdentity> {
  const out = await new STSClient({ region: REGION }).send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/fixture`, RoleSessionName: 'fixture' }),
  );
  const c = out.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken };
}

export interface SourceFixture {
  clusterArn: string;
  /** The cluster's VPC security group (the cutover's write block empties it). */
  securityGroupId: string;
  clusterIdentifier: string;
  endpoint: string;
  keyArn: string | null;
  parameterGroup: string;
  adminSecretArn: string;
}

export async function createSourceCluster(
  opts: ClientOptions,
  spec: { name: string; binlogFormat?: string | null; encrypted?: boolean; instances?: number; dbSubnetGroupName?: string; vpcSecurityGroupIds?: string[] },
): Promise<SourceFixture> {
  const rds = new RDSClient(opts);
  const kms = new KMSClient(opts);
  const sm = new SecretsManagerClient(opts);
  const keyArn = spec.encrypted === false ? null : (await kms.send(new CreateKeyCommand({ Description: `${spec.name} storage` }))).KeyMetadata!.Arn!;
  let parameterGroup = 'default.aurora-mysql8.0';
  if (spec.binlogFormat !== null) {
    parameterGroup = `${spec.name}-binlog`;
    await rds.send(new CreateDBClusterParameterGroupCommand({ DBClusterParameterGroupName: parameterGroup, DBParameterGroupFamily: 'aurora-mysql8.0', Description: 'binlogs on' }));
    await rds.send(
      new ModifyDBClusterParameterGroupCommand({
        DBClusterParameterGroupName: parameterGroup,
        Parameters: [{ ParameterName: 'binlog_format', ParameterValue: spec.binlogFormat ?? 'ROW', ApplyMethod: 'pending-reboot' }],
      }),
    );
  }
  // The applications' way in: MySQL from the private network, in the group the write block empties.
  const ec2 = new EC2Client(opts);
  const securityGroupId = spec.vpcSecurityGroupIds?.[0] ?? (await ec2.send(new CreateSecurityGroupCommand({ GroupName: `${spec.name}-db`, Description: `${spec.name} database` }))).GroupId!;
  if (!spec.vpcSecurityGroupIds) {
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: securityGroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }] }));
  }
  const cluster = (
    await rds.send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: spec.name,
        Engine: 'aurora-mysql',
        EngineVersion: '8.0.mysql_aurora.3.05.2',
        MasterUsername: 'admin',
        MasterUserPassword: 'fixture-master-pw',
        StorageEncrypted: keyArn !== null,
        ...(keyArn ? { KmsKeyId: keyArn } : {}),
        ...(spec.binlogFormat !== null ? { DBClusterParameterGroupName: parameterGroup } : {}),
        ...(spec.dbSubnetGroupName ? { DBSubnetGroupName: spec.dbSubnetGroupName } : {}),
        VpcSecurityGroupIds: spec.vpcSecurityGroupIds ?? [securityGroupId],
      }),
    )
  ).DBCluster!;
  for (let i = 1; i <= (spec.instances ?? 1); i++) {
    await rds.send(new CreateDBInstanceCommand({ DBInstanceIdentifier: `${spec.name}-${i}`, DBClusterIdentifier: spec.name, Engine: 'aurora-mysql', DBInstanceClass: 'db.r6g.large' }));
  }
  const secret = await sm.send(
    new CreateSecretCommand({ Name: `${spec.name}-admin`, SecretString: JSON.stringify({ username: 'admin', password: 'source-admin-pw-123' }) }),
  );
  return {
    clusterArn: cluster.DBClusterArn!,
    securityGroupId,
    clusterIdentifier: spec.name,
    endpoint: cluster.Endpoint!,
    keyArn,
    parameterGroup,
    adminSecretArn: secret.ARN!,
  };
}

export async function createSecret(opts: ClientOptions, name: string): Promise<string> {
  const out = await new SecretsManagerClient(opts).send(
    new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ username: 'admin', password: 'target-admin-pw-456' }) }),
  );
  return out.ARN!;
}

/** The cutover settings of an Aurora source: its security group is the write block. */
export const auroraWriteBlock = (source: Pick<SourceFixture, 'securityGroupId'>) => ({ writeBlock: { method: 'security-group' as const, securityGroupId: source.securityGroupId } });
