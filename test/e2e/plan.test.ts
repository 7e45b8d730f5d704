// `crossmove plan` changes nothing: every AWS call it makes is a read (recorded by aws-sdk-client-mock),
// and every statement the databases receive is a read (recorded by the server itself, in MariaDB's
// general log). It still shows every step with what it would create or change, passwords masked.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeDBClusterParametersCommand, DescribeDBClustersCommand, RDSClient } from '@aws-sdk/client-rds';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { RAMClient } from '@aws-sdk/client-ram';
import { EC2Client } from '@aws-sdk/client-ec2';
import { Route53Client } from '@aws-sdk/client-route-53';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { startMariaDb, type MariaDbServer, ADMIN_PASSWORD } from '../../local/mariadb.js';
import { buildPlan, formatPlan } from '../../cli/plan.js';
import { planSteps } from '../../shared/plan/steps.js';
import { validateMigrationInput } from '../../shared/input/validate.js';
import { mockNetworkCalls, placedSourceCluster, placedTarget } from '../aws/network-fixtures.js';
import { crossAccounts, REGION, SOURCE_ARN, SOURCE_KEY, TGT, assumeRoleResponse, rawCrossAccountInput, resetCaches } from '../aws/mock-fixtures.js';

const mocks = {
  rds: mockClient(RDSClient),
  kms: mockClient(KMSClient),
  ram: mockClient(RAMClient),
  ec2: mockClient(EC2Client),
  route53: mockClient(Route53Client),
  secretsmanager: mockClient(SecretsManagerClient),
  sts: mockClient(STSClient),
};

/** Statements that change something, as MariaDB's general log records them. */
const CHANGING_SQL = /^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|ALTER|DROP|GRANT|REVOKE|RENAME|TRUNCATE|SET\s+GLOBAL|CHANGE|START|STOP|RESET|PURGE|FLUSH|KILL|LOCK|CALL\s+mysql\.rds_(?!show))/i;

let source: MariaDbServer;
let target: MariaDbServer;

async function withGeneralLog<T>(servers: MariaDbServer[], act: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  for (const s of servers) {
    const c = await s.connect();
    await c.query("SET GLOBAL log_output = 'TABLE'; TRUNCATE mysql.general_log; SET GLOBAL general_log = ON");
    await c.end();
  }
  const result = await act();
  const statements: string[] = [];
  for (const s of servers) {
    const c = await s.connect();
    await c.query('SET GLOBAL general_log = OFF');
    const [rows] = await c.query("SELECT CONVERT(argument USING utf8mb4) AS a FROM mysql.general_log WHERE command_type IN ('Query', 'Execute')");
    await c.end();
    // Our own log switching above is not the plan's.
    statements.push(...(rows as { a: string }[]).map((r) => r.a).filter((a) => !/general_log|log_output/.test(a)));
  }
  return { result, statements };
}

beforeAll(async () => {
  [source, target] = await Promise.all([startMariaDb({ serverId: 61 }), startMariaDb({ serverId: 62 })]);
  const c = await source.connect();
  await c.query('CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, total DECIMAL(10,2)); CREATE TABLE shop.audit (at DATETIME, what TEXT)');
  await c.end();
});
afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
});
beforeEach(() => {
  Object.values(mocks).forEach((m) => m.reset());
  resetCaches();
});

const awsCallNames = () => Object.values(mocks).flatMap((m) => m.calls().map((c) => (c.args[0] as object).constructor.name.replace(/Command$/, '')));

describe('crossmove plan', () => {
  it('plans a cross-account clone with only AWS reads and database reads, and names what each step would change', async () => {
    mocks.sts.on(AssumeRoleCommand).resolves(assumeRoleResponse());
    mocks.sts.on(GetCallerIdentityCommand).resolves({ Account: TGT, Arn: `arn:aws:sts::${TGT}:user/dba`, UserId: 'AIDAEXAMPLE' });
    mocks.rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: SOURCE_ARN }).resolves({ DBClusters: [placedSourceCluster()] });
    mockNetworkCalls(mocks.rds, mocks.ec2);
    mocks.rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders-prod-moved' }).rejects(Object.assign(new Error('DBCluster orders-prod-moved not found.'), { name: 'DBClusterNotFoundFault' }));
    mocks.rds.on(DescribeDBClusterParametersCommand).resolves({ Parameters: [{ ParameterName: 'binlog_format', ParameterValue: 'ROW', Source: 'user' }] });
    mocks.kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', Arn: SOURCE_KEY, KeyManager: 'CUSTOMER', KeyState: 'Enabled', Enabled: true } });
    // Both admin secrets resolve to the local server's admin (the source endpoint is overridden to it).
    mocks.secretsmanager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });

    const raw = rawCrossAccountInput({ source: { endpoint: { host: '127.0.0.1', port: source.port } }, target: placedTarget });
    const { result: plan, statements } = await withGeneralLog([source], () => buildPlan(raw));
    // The network path from the target's subnets was analysed from EC2 reads, both ways.
    expect(plan.checks.filter((c) => c.id.startsWith('network-')).map((c) => [c.id, c.status])).toEqual([['network-target-to-source', 'pass'], ['network-source-to-target', 'pass']]);
    expect(awsCallNames()).toEqual(expect.arrayContaining(['DescribeDBSubnetGroups', 'DescribeSubnets', 'DescribeRouteTables', 'DescribeNetworkAcls', 'DescribeSecurityGroups', 'DescribeVpcPeeringConnections']));

    const awsCalls = awsCallNames();
    expect(awsCalls.length).toBeGreaterThan(0);
    expect(awsCalls.filter((name) => !/^(Describe|Get|List)/.test(name) && name !== 'AssumeRole')).toEqual([]);
    expect(statements.length).toBeGreaterThan(0);
    expect(statements.filter((sql) => CHANGING_SQL.test(sql))).toEqual([]);

    const states = plan.steps.map((s) => s.state);
    expect(states).toEqual(expect.arrayContaining(['Share the cluster', 'Accept the share', 'Let the target use the KMS key', 'Clone the cluster', 'Create the writer', 'Cut over']));
    const text = formatPlan(plan);
    expect(text).toContain(`RAM resource share crossmove-orders-2026-12: ${SOURCE_ARN} -> account ${TGT}`);
    // The source endpoint is a local MariaDB here, so the clone's dialect is detected as mariadb.
    expect(plan.engines).toEqual({ source: 'mariadb', target: 'mariadb' });
    expect(text).toMatch(/CHANGE MASTER TO MASTER_HOST='127\.0\.0\.1', MASTER_PORT=\d+, MASTER_USER='crossmove_repl', MASTER_PASSWORD='\*{8}'/);
    expect(text).toMatch(/'\*{8}'/);
    expect(text).not.toContain(ADMIN_PASSWORD);
    expect(plan.checks.some((c) => c.id === 'db-primary-keys' && c.status === 'warn' && c.message.includes('shop.audit'))).toBe(true);
    expect(REGION).toBe('us-east-1');
  });

  it("renders Aurora MySQL 3's procedures for an Aurora pair", async () => {
    const input = validateMigrationInput(rawCrossAccountInput());
    const steps = await planSteps({ input, accounts: crossAccounts, sourceEngine: 'aurora-mysql-3', targetEngine: 'aurora-mysql-3' });
    const text = steps.flatMap((s) => s.changes).join('\n');
    expect(text).toContain("CALL mysql.rds_set_configuration('binlog retention hours', 72)");
    // Encrypted without imported material (Aurora MySQL 3.06+): ssl_encryption=0, then rds_set_binlog_source_ssl(1).
    expect(text).toMatch(/CALL mysql\.rds_set_external_source\('<source cluster endpoint>', 3306, 'crossmove_repl', '\*{8}', '<binlog file>', 0, 0\)\nCALL mysql\.rds_set_binlog_source_ssl\(1\)/);
    expect(text).toContain('CALL mysql.rds_set_read_only(1)');
    expect(text).toContain('CALL mysql.rds_start_replication');
    // The switch stops replication, checks, and forgets the external source only past its point of no return.
    expect(text).toContain('stop replication on the target: CALL mysql.rds_stop_replication\n');
    expect(text).toContain('reset the external source on the target: SET SESSION autocommit = 1; CALL mysql.rds_reset_external_source\n');
    expect(text).not.toContain('plan-password-never-used');
  });

  it('plans a local logical migration with the SQL each side would receive, passwords masked', async () => {
    process.env.PLAN_SRC = JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD });
    process.env.PLAN_TGT = JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD });
    const raw = {
      migrationId: 'plan-local',
      source: { endpoint: { host: '127.0.0.1', port: source.port }, adminSecret: 'env:PLAN_SRC' },
      target: { endpoint: { host: '127.0.0.1', port: target.port }, adminSecret: 'env:PLAN_TGT' },
      initialLoad: { method: 'logical' },
      replication: { ssl: false },
      cutover: { writeBlock: { method: 'read-only' } },
    };
    const { result: plan, statements } = await withGeneralLog([source, target], () => buildPlan(raw));

    expect(statements.filter((sql) => CHANGING_SQL.test(sql))).toEqual([]);
    expect(Object.values(mocks).map((m) => m.calls().length)).toEqual(Object.values(mocks).map(() => 0)); // no AWS at all
    expect(plan.engines).toEqual({ source: 'mariadb', target: 'mariadb' });
    const text = formatPlan(plan);
    expect(text).toMatch(/CHANGE MASTER TO MASTER_HOST='127\.0\.0\.1', MASTER_PORT=\d+, MASTER_USER='crossmove_repl', MASTER_PASSWORD='\*{8}'/);
    expect(text).toContain('SET GLOBAL read_only = ON');
    expect(text).toContain('Plan the copy');
    expect(text).toContain('Copy the data for one window');
    expect(text).not.toContain(ADMIN_PASSWORD);
    expect(plan.ok).toBe(true);
  });

  it('reports a failing check and a failed plan without changing anything', async () => {
    process.env.PLAN_SRC = JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD });
    const c = await target.connect();
    await c.query('CREATE DATABASE IF NOT EXISTS shop; CREATE TABLE IF NOT EXISTS shop.orders (id INT PRIMARY KEY)');
    await c.end();
    const raw = {
      migrationId: 'plan-clash',
      source: { endpoint: { host: '127.0.0.1', port: source.port }, adminSecret: 'env:PLAN_SRC' },
      target: { endpoint: { host: '127.0.0.1', port: target.port }, adminSecret: 'env:PLAN_SRC' },
      initialLoad: { method: 'logical' },
    };
    const { result: plan, statements } = await withGeneralLog([source, target], () => buildPlan(raw));
    expect(statements.filter((sql) => CHANGING_SQL.test(sql))).toEqual([]);
    expect(plan.ok).toBe(false);
    expect(plan.checks.find((x) => x.id === 'db-target-empty')).toMatchObject({ status: 'fail' });
    expect(formatPlan(plan)).toContain('Preflight FAILED');
  });

  it('reports an AWS half that cannot run (the source role refuses us) as one failed check with a fix', async () => {
    mocks.sts.on(GetCallerIdentityCommand).resolves({ Account: TGT, Arn: `arn:aws:sts::${TGT}:user/dba`, UserId: 'AIDAEXAMPLE' });
    mocks.sts.on(AssumeRoleCommand).rejects(Object.assign(new Error(`User: arn:aws:sts::${TGT}:user/dba is not authorized to perform: sts:AssumeRole`), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    mocks.secretsmanager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
    const plan = await buildPlan(rawCrossAccountInput({ source: { endpoint: { host: '127.0.0.1', port: source.port } } }));
    expect(plan.ok).toBe(false);
    expect(plan.checks.find((c) => c.id === 'aws')).toEqual({
      id: 'aws',
      status: 'fail',
      message: expect.stringMatching(/^The AWS checks could not run: SourceAccessError: Cannot assume source\.accessRoleArn arn:aws:iam::111111111111:role\/crossmove-source-access \(AccessDenied: .*not authorized to perform: sts:AssumeRole\)\. Check that the role exists/),
      fix: expect.stringContaining('source.accessRoleArn and source.externalId'),
    });
    // The database half reads the source secret through the same role: said, not thrown.
    expect(plan.checks.find((c) => c.id === 'db-source-reachable')).toMatchObject({ status: 'warn', message: expect.stringContaining('source.adminSecret does not resolve') });
    expect(awsCallNames().filter((name) => !/^(Describe|Get|List)/.test(name) && name !== 'AssumeRole')).toEqual([]);
  });
});
