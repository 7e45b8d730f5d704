// Inputs and AWS API responses for the aws-sdk-client-mock unit tests (test/unit/aws-*.test.ts),
// shaped like the AWS API reference.
import { STSClient } from '@aws-sdk/client-sts';
import { DescribeDBClusterParameterGroupsCommand, DescribeDBClusterParametersCommand, type DBCluster, type DBInstance } from '@aws-sdk/client-rds';
import type { AwsStub } from 'aws-sdk-client-mock';
import { setStsClient } from '../../shared/aws/source-account.js';
import { clearSecretCache } from '../../shared/secrets.js';
import { validateMigrationInput } from '../../shared/input/validate.js';
import type { Accounts, MigrationState } from '../../shared/state.js';

export const SRC = '111111111111';
export const TGT = '222222222222';
export const REGION = 'us-east-1';
export const SOURCE_ARN = `arn:aws:rds:${REGION}:${SRC}:cluster:orders-prod`;
export const SOURCE_KEY = `arn:aws:kms:${REGION}:${SRC}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
export const ROLE_ARN = `arn:aws:iam::${SRC}:role/crossmove-source-access`;
export const SOURCE_SECRET = `arn:aws:secretsmanager:${REGION}:${SRC}:secret:orders-admin-AbCdEf`;
export const TARGET_SECRET = `arn:aws:secretsmanager:${REGION}:${TGT}:secret:orders-target-admin-XyZabc`;
/** What the mocked AssumeRole hands out: lets a test tell source-account calls from target-account ones. */
export const ASSUMED_KEY_ID = 'ASIASOURCEACCOUNTKEY';
/** The source cluster's VPC security group: the one the cutover's write block empties. */
export const SOURCE_SG = 'sg-0a1b2c3d4e5f60718';

export function rawCrossAccountInput(overrides: Record<string, any> = {}) {
  return {
    migrationId: 'orders-2026-12',
    source: { clusterArn: SOURCE_ARN, adminSecret: SOURCE_SECRET, accessRoleArn: ROLE_ARN, externalId: 'orders-2026-12-3f9c', ...overrides.source },
    target: {
      clusterIdentifier: 'orders-prod-moved',
      adminSecret: TARGET_SECRET,
      instanceClass: 'db.r6g.large',
      kmsKeyId: `arn:aws:kms:${REGION}:${TGT}:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0`,
      dbClusterParameterGroupName: 'orders-binlog-on',
      vpcSecurityGroupIds: ['sg-0123456789abcdef0'],
      dbSubnetGroupName: 'orders-private',
      ...overrides.target,
    },
    initialLoad: { method: 'clone', ...overrides.initialLoad },
    // Aurora ignores read_only: the write block empties the source's security group.
    cutover: { writeBlock: { method: 'security-group', securityGroupId: SOURCE_SG }, ...overrides.cutover },
  };
}

export const crossAccounts: Accounts = { source: SRC, target: TGT, sameAccount: false, sourceRegion: REGION, targetRegion: REGION };
export const sameAccounts: Accounts = { source: TGT, target: TGT, sameAccount: true, sourceRegion: REGION, targetRegion: REGION };

export function crossAccountState(overrides: Record<string, any> = {}): MigrationState {
  return { input: validateMigrationInput(rawCrossAccountInput(overrides)), accounts: crossAccounts };
}

/** Call in beforeEach: drops cached assumed-role credentials and secrets between tests. */
export function resetCaches(): void {
  setStsClient(new STSClient({ region: REGION }));
  clearSecretCache();
}

export const assumeRoleResponse = () => ({
  Credentials: {
    AccessKeyId: ASSUMED_KEY_ID,
    SecretAccessKey: 'source-secret-access-key',
    SessionToken: 'source-session-token',
    Expiration: new Date(Date.now() + 3600_000),
  },
  AssumedRoleUser: { AssumedRoleId: 'AROAEXAMPLE:crossmove-orders-2026-12', Arn: `arn:aws:sts::${SRC}:assumed-role/crossmove-source-access/crossmove-orders-2026-12` },
});

export function sourceCluster(overrides: Partial<DBCluster> = {}): DBCluster {
  return {
    DBClusterIdentifier: 'orders-prod',
    DBClusterArn: SOURCE_ARN,
    Status: 'available',
    Engine: 'aurora-mysql',
    EngineVersion: '8.0.mysql_aurora.3.05.2',
    EngineMode: 'provisioned',
    Endpoint: 'orders-prod.cluster-c1a2b3c4d5e6.us-east-1.rds.amazonaws.com',
    ReaderEndpoint: 'orders-prod.cluster-ro-c1a2b3c4d5e6.us-east-1.rds.amazonaws.com',
    Port: 3306,
    StorageEncrypted: true,
    KmsKeyId: SOURCE_KEY,
    DBClusterParameterGroup: 'orders-binlog',
    DBClusterMembers: [{ DBInstanceIdentifier: 'orders-prod-1', IsClusterWriter: true, DBClusterParameterGroupStatus: 'in-sync', PromotionTier: 1 }],
    VpcSecurityGroups: [{ VpcSecurityGroupId: SOURCE_SG, Status: 'active' }],
    TagList: [],
    ...overrides,
  };
}

export function targetCluster(status: string, overrides: Partial<DBCluster> = {}): DBCluster {
  return {
    DBClusterIdentifier: 'orders-prod-moved',
    DBClusterArn: `arn:aws:rds:${REGION}:${TGT}:cluster:orders-prod-moved`,
    Status: status,
    Engine: 'aurora-mysql',
    EngineVersion: '8.0.mysql_aurora.3.05.2',
    Endpoint: 'orders-prod-moved.cluster-f9e8d7c6b5a4.us-east-1.rds.amazonaws.com',
    Port: 3306,
    ClusterCreateTime: new Date('2026-11-24T08:00:00Z'),
    DBClusterMembers: [],
    TagList: [{ Key: 'crossmove:migrationId', Value: 'orders-2026-12' }],
    ...overrides,
  };
}

export function writerInstance(status: string, overrides: Partial<DBInstance> = {}): DBInstance {
  return {
    DBInstanceIdentifier: 'orders-prod-moved-writer',
    DBClusterIdentifier: 'orders-prod-moved',
    DBInstanceClass: 'db.r6g.large',
    Engine: 'aurora-mysql',
    DBInstanceStatus: status,
    InstanceCreateTime: new Date('2026-11-24T08:20:00Z'),
    TagList: [{ Key: 'crossmove:migrationId', Value: 'orders-2026-12' }],
    ...overrides,
  };
}

/** The target's cluster parameter group (rawCrossAccountInput's dbClusterParameterGroupName): Aurora 3 family, binlogs on. */
export function mockTargetParameterGroup(rds: AwsStub<any, any, any>, binlogFormat = 'ROW'): void {
  const name = 'orders-binlog-on';
  rds.on(DescribeDBClusterParameterGroupsCommand, { DBClusterParameterGroupName: name }).resolves({
    DBClusterParameterGroups: [{ DBClusterParameterGroupName: name, DBParameterGroupFamily: 'aurora-mysql8.0', Description: 'binlogs on', DBClusterParameterGroupArn: `arn:aws:rds:${REGION}:${TGT}:cluster-pg:${name}` }],
  });
  rds.on(DescribeDBClusterParametersCommand, { DBClusterParameterGroupName: name }).resolves({ Parameters: [{ ParameterName: 'binlog_format', ParameterValue: binlogFormat, Source: 'user' }] });
}
