// "Run preflight checks": can crossmove's functions in the VPC (serverless.yml lambdaSubnetIds) reach
// the AWS APIs the migration calls? A Lambda function in a VPC reaches AWS APIs only through a NAT route
// or a VPC endpoint: its network interfaces get no public address, so a route to an internet gateway is
// not enough (AWS Lambda Developer Guide, "Enable internet access for VPC-connected Lambda functions";
// AWS PrivateLink Guide, "AWS services that integrate with AWS PrivateLink"). Without either the calls
// time out, as Lambda timeouts, in the middle of a step. Read-only: EC2 Describe calls on the functions'
// own subnets (the pipeline account). Runs only where the subnets are known: in the deployed function.
import type { EC2Client, RouteTable, Subnet, VpcEndpoint } from '@aws-sdk/client-ec2';
import type { MigrationInput } from '../input/validate.js';
import type { Accounts } from '../state.js';
import { describeRouteTables, describeSubnets, describeVpcEndpoints } from '../aws/ec2.js';
import { ec2Client } from '../aws/ec2-client.js';
import { pass, warn, type CheckOutcome } from './checks.js';

const LAMBDA_EGRESS_CHECK = 'lambda-vpc-egress';

/** An AWS API the functions in the VPC call, and why. */
export interface ServiceNeed {
  /** The endpoint service name suffix: com.amazonaws.<region>.<service>. */
  service: string;
  name: string;
  why: string;
  /** No VPC interface endpoint exists for it: only NAT reaches it. */
  natOnly?: boolean;
}

/** What the functions that run in the VPC call on this migration (the stack's scheduled lag check always). */
export function servicesNeeded(input: MigrationInput): ServiceNeed[] {
  const needs: ServiceNeed[] = [
    { service: 'secretsmanager', name: 'Secrets Manager', why: 'admin secrets and the replication users’ secrets' },
    { service: 'ec2', name: 'EC2', why: 'the preflight’s network checks' + (input.cutover.writeBlock?.method === 'security-group' ? ', the security-group write block and its undo' : '') },
    { service: 'states', name: 'Step Functions', why: 'the scheduled lag check lists the running migrations' },
    { service: 'dynamodb', name: 'DynamoDB', why: 'the scheduled lag check keeps its state in the approval table' },
    { service: 'monitoring', name: 'CloudWatch', why: 'the scheduled lag check publishes metrics and keeps alarms' },
    { service: 'sns', name: 'SNS', why: 'the scheduled lag check notifies' },
  ];
  if (input.source.accessRoleArn) needs.unshift({ service: 'sts', name: 'STS', why: 'assuming source.accessRoleArn for the source-account steps' });
  if (input.source.clusterArn) {
    needs.push({ service: 'rds', name: 'RDS', why: 'the preflight reads the clusters, parameter and subnet groups' });
    needs.push({ service: 'kms', name: 'KMS', why: 'the preflight reads the clusters’ keys' });
  }
  // The Route 53 API (a global endpoint) has no interface endpoint: only NAT reaches it.
  if (input.cutover.dns) needs.push({ service: 'route53', name: 'Route 53', why: 'the fallback points cutover.dns back at the source', natOnly: true });
  return needs;
}

/** The route table a subnet uses: its explicit association, else the VPC's main table. */
function routeTableOf(subnet: Subnet, tables: RouteTable[]): RouteTable | undefined {
  const explicit = tables.find((t) => (t.Associations ?? []).some((a) => a.SubnetId === subnet.SubnetId));
  return explicit ?? tables.find((t) => (t.Associations ?? []).some((a) => a.Main));
}

/** A default route that gives a function without a public address a way out (NAT gateway, NAT instance or appliance, transit gateway). */
function hasEgressRoute(table: RouteTable | undefined): boolean {
  return (table?.Routes ?? []).some(
    (r) => r.DestinationCidrBlock === '0.0.0.0/0' && r.State !== 'blackhole' && Boolean(r.NatGatewayId || r.TransitGatewayId || r.NetworkInterfaceId || r.InstanceId),
  );
}

/** Does an endpoint of the VPC serve this service to a subnet using `table`? */
function endpointServes(endpoints: VpcEndpoint[], region: string, service: string, table: RouteTable | undefined): boolean {
  return endpoints.some((e) => {
    if (e.ServiceName !== `com.amazonaws.${region}.${service}` || e.State?.toLowerCase() !== 'available') return false;
    // A gateway endpoint (DynamoDB) works through the route tables it is associated with.
    if (e.VpcEndpointType === 'Gateway') return Boolean(table?.RouteTableId && (e.RouteTableIds ?? []).includes(table.RouteTableId));
    // An interface endpoint is used by the SDK's default host names only with private DNS on.
    return e.PrivateDnsEnabled === true;
  });
}

interface EgressNetwork {
  subnets: Subnet[];
  routeTables: RouteTable[];
  endpoints: VpcEndpoint[];
}

/** Per subnet, the needed services it can reach neither through NAT nor an endpoint. */
function unreachableServices(network: EgressNetwork, region: string, needs: ServiceNeed[]): Map<string, ServiceNeed[]> {
  const out = new Map<string, ServiceNeed[]>();
  for (const subnet of network.subnets) {
    const table = routeTableOf(subnet, network.routeTables);
    if (hasEgressRoute(table)) continue;
    const missing = needs.filter((n) => n.natOnly || !endpointServes(network.endpoints, region, n.service, table));
    if (missing.length) out.set(subnet.SubnetId!, missing);
  }
  return out;
}

export interface EgressCheckOptions {
  /** The functions' subnets (CROSSMOVE_LAMBDA_SUBNET_IDS, from serverless.yml lambdaSubnetIds). */
  subnetIds?: string[];
  region?: string;
  ec2?: EC2Client;
}

export async function lambdaEgressChecks(input: MigrationInput, accounts: Accounts, options: EgressCheckOptions = {}): Promise<CheckOutcome[]> {
  const subnetIds = options.subnetIds ?? (process.env.CROSSMOVE_LAMBDA_SUBNET_IDS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  // Outside a VPC (no lambdaSubnetIds, local runs, `crossmove plan` on a laptop) there is nothing to check.
  if (!subnetIds.length) return [];
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  // Short timeouts: from a VPC without a way to EC2 this very check would otherwise hang until the Lambda times out.
  const ec2 = options.ec2 ?? ec2Client({ region, maxAttempts: 2, requestHandler: { connectionTimeout: 3000, requestTimeout: 10_000 } });
  const needs = servicesNeeded(input);
  let network: EgressNetwork;
  try {
    const subnets = await describeSubnets(ec2, subnetIds);
    const vpcId = subnets[0]?.VpcId;
    if (!vpcId) return [warn(LAMBDA_EGRESS_CHECK, `The functions' subnets ${subnetIds.join(', ')} (lambdaSubnetIds) were not found in ${region}.`, 'Deploy with --param lambdaSubnetIds naming subnets of this account and region.')];
    const [routeTables, endpoints] = await Promise.all([describeRouteTables(ec2, vpcId), describeVpcEndpoints(ec2, vpcId)]);
    network = { subnets, routeTables, endpoints };
  } catch (err) {
    return [
      warn(
        LAMBDA_EGRESS_CHECK,
        `Could not read the functions' network from inside it (${(err as Error).name}: ${(err as Error).message}); if the call timed out, the subnets reach EC2 neither through NAT nor an endpoint, and other AWS calls will time out too.`,
        `Give the subnets ${subnetIds.join(', ')} a NAT route, or interface endpoints for ${needs.filter((n) => !n.natOnly).map((n) => n.service).join(', ')} (docs/deploying.md).`,
      ),
    ];
  }
  const unreachable = unreachableServices(network, region, needs);
  const crossRegion = accounts.sourceRegion && accounts.sourceRegion !== region ? ` The source is in ${accounts.sourceRegion}: endpoints in this VPC serve ${region} only, so its source-account calls need NAT.` : '';
  if (!unreachable.size) {
    return [pass(LAMBDA_EGRESS_CHECK, `The functions' subnets ${subnetIds.join(', ')} reach every AWS API the migration calls (NAT route or VPC endpoints).${crossRegion}`)];
  }
  const missing = [...new Map([...unreachable.values()].flat().map((n) => [n.service, n])).values()];
  const list = missing.map((n) => `${n.name} (${n.natOnly ? 'no VPC endpoint exists' : `com.amazonaws.${region}.${n.service}`}: ${n.why})`).join('; ');
  const endpointsToAdd = missing.filter((n) => !n.natOnly).map((n) => (n.service === 'dynamodb' ? 'dynamodb (a gateway endpoint on the subnets’ route tables)' : n.service));
  return [
    warn(
      LAMBDA_EGRESS_CHECK,
      `The functions' subnets ${[...unreachable.keys()].join(', ')} have no NAT route (0.0.0.0/0 to a NAT gateway) and the VPC has no usable endpoint for: ${list}. These calls will time out.${crossRegion}`,
      `Add a NAT gateway route to those subnets' route tables${endpointsToAdd.length ? `, or create VPC endpoints (interface endpoints with private DNS on) for ${endpointsToAdd.join(', ')}` : ''}${missing.some((n) => n.natOnly) ? '; Route 53 needs NAT in any case' : ''} (docs/deploying.md).`,
    ),
  ];
}
