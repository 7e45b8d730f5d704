// The source's region for source-account calls when there is no cluster ARN to read it from: an RDS for
// MySQL/MariaDB source is given by its endpoint, and its security-group write block (cut-over, fallback,
// their preflight) must look for the group in the source's region, not in crossmove's own (the SDK
// default, AWS_REGION). RDS endpoint names carry the region: <name>.<id>.<region>.rds.amazonaws.com
// (RDS User Guide, "Finding the connection information for an RDS for MySQL DB instance").
import { afterEach, describe, expect, it } from 'vitest';
import { ec2Client } from '../../shared/aws/ec2-client.js';
import { sourceClientConfig, sourceRegion } from '../../shared/aws/source-account.js';

const input = (source: Record<string, unknown>) => ({ migrationId: 'orders-2026-12', source: { adminSecret: 'env:X', ...source } }) as never;
const saved = process.env.AWS_REGION;
afterEach(() => {
  process.env.AWS_REGION = saved;
});

describe("the source's region", () => {
  it('comes from the cluster ARN, else from an RDS endpoint name, else from nowhere (the SDK default)', () => {
    expect(sourceRegion({ clusterArn: 'arn:aws:rds:ap-southeast-2:111111111111:cluster:orders', endpoint: { host: 'orders.c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com', port: 3306 } })).toBe('ap-southeast-2');
    expect(sourceRegion({ endpoint: { host: 'orders.c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com', port: 3306 } })).toBe('eu-west-1');
    expect(sourceRegion({ endpoint: { host: 'orders.cluster-ro-c1a2b3c4d5e6.us-gov-west-1.rds.amazonaws.com', port: 3306 } })).toBe('us-gov-west-1');
    expect(sourceRegion({ endpoint: { host: 'orders.c1a2b3c4d5e6.cn-north-1.rds.amazonaws.com.cn', port: 3306 } })).toBe('cn-north-1');
    expect(sourceRegion({ endpoint: { host: 'db.example.internal', port: 3306 } })).toBeUndefined();
    expect(sourceRegion({ endpoint: { host: '10.0.1.15', port: 3306 } })).toBeUndefined();
  });

  it("aims an RDS for MySQL source's EC2 client (the security-group write block) at the source's region, not crossmove's", async () => {
    process.env.AWS_REGION = 'us-east-1';
    const ec2 = ec2Client(await sourceClientConfig(input({ endpoint: { host: 'orders.c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com', port: 3306 } })));
    expect(await ec2.config.region()).toBe('eu-west-1');
    const selfManaged = ec2Client(await sourceClientConfig(input({ endpoint: { host: 'db.example.internal', port: 3306 } })));
    expect(await selfManaged.config.region()).toBe('us-east-1');
  });
});
