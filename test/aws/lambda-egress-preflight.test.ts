// The preflight's check that the functions in the VPC can reach the AWS APIs the migration calls
// (lambda-vpc-egress), against EC2 in moto: subnets without a NAT route and without endpoints are
// warned about, service by service; a NAT route or the right endpoints (interface with private DNS,
// DynamoDB's gateway on the subnets' route table) satisfy it; Route 53 is reachable only through NAT.
import {
  AssociateRouteTableCommand, CreateNatGatewayCommand, CreateRouteCommand, CreateRouteTableCommand, CreateSubnetCommand, CreateVpcCommand, CreateVpcEndpointCommand,
  AllocateAddressCommand, EC2Client,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lambdaEgressChecks, servicesNeeded } from '../../shared/preflight/lambda-egress-checks.js';
import { startMoto, type Moto } from '../support/moto.js';
import { crossAccountState } from './mock-fixtures.js';
import { SendRecorder } from '../support/iam/send-recorder.js';
import { packagedRoles, type PackagedRoles } from '../support/iam/roles.js';
import { deniedCalls } from '../support/iam/simulate.js';

const REGION = 'us-east-1';
let moto: Moto;
let ec2: EC2Client;
let vpcId: string;
let subnetIds: string[];
let routeTableId: string;
let packaged: PackagedRoles;
const recorder = new SendRecorder({ ec2: EC2Client }, () => '123456789012');

const input = () => crossAccountState({ cutover: { dns: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', recordName: 'orders-db.internal.example.com' } } });
const check = async () => {
  const state = input();
  const [outcome] = await recorder.as('runPreflight', () => lambdaEgressChecks(state.input, state.accounts, { subnetIds, region: REGION, ec2 }));
  return outcome!;
};
const interfaceEndpoint = (service: string, privateDns = true) =>
  ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, ServiceName: `com.amazonaws.${REGION}.${service}`, VpcEndpointType: 'Interface', SubnetIds: subnetIds, PrivateDnsEnabled: privateDns }));

beforeAll(async () => {
  [moto, packaged] = await Promise.all([startMoto(), packagedRoles('123456789012')]);
  ec2 = new EC2Client({ endpoint: moto.endpoint, region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  recorder.install();
}, 330_000);
afterAll(async () => {
  recorder.uninstall();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }))).Vpc!.VpcId!;
  subnetIds = [];
  for (const cidr of ['10.9.1.0/24', '10.9.2.0/24']) subnetIds.push((await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr }))).Subnet!.SubnetId!);
  // The functions' subnets use their own route table (explicitly associated); it has only the local route.
  routeTableId = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
  for (const SubnetId of subnetIds) await ec2.send(new AssociateRouteTableCommand({ RouteTableId: routeTableId, SubnetId }));
});

describe('lambda-vpc-egress', () => {
  it('warns, naming every service, when the subnets have neither a NAT route nor endpoints', async () => {
    const outcome = await check();
    expect(outcome.status).toBe('warn');
    for (const service of ['sts', 'secretsmanager', 'ec2', 'rds', 'kms', 'states', 'dynamodb', 'monitoring', 'sns']) expect(outcome.message).toContain(`com.amazonaws.${REGION}.${service}`);
    expect(outcome.message).toContain('Route 53 (no VPC endpoint exists');
    for (const id of subnetIds) expect(outcome.message).toContain(id);
    expect(outcome.fix).toContain('NAT gateway route');
  });

  it('passes with a NAT gateway route', async () => {
    const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    const nat = await ec2.send(new CreateNatGatewayCommand({ SubnetId: subnetIds[0]!, AllocationId: eip.AllocationId! }));
    await ec2.send(new CreateRouteCommand({ RouteTableId: routeTableId, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: nat.NatGateway!.NatGatewayId! }));
    expect(await check()).toMatchObject({ status: 'pass' });
  });

  it('with endpoints for every service the warning is about Route 53 alone; an endpoint without private DNS or a gateway off the route table does not count', async () => {
    for (const service of ['sts', 'secretsmanager', 'ec2', 'rds', 'kms', 'states', 'monitoring']) await interfaceEndpoint(service);
    await interfaceEndpoint('sns', false);
    await ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, ServiceName: `com.amazonaws.${REGION}.dynamodb`, VpcEndpointType: 'Gateway', RouteTableIds: [] }));
    let outcome = await check();
    expect(outcome.status).toBe('warn');
    expect(outcome.message).toContain(`com.amazonaws.${REGION}.sns`);
    expect(outcome.message).toContain(`com.amazonaws.${REGION}.dynamodb`);
    expect(outcome.message).not.toContain(`com.amazonaws.${REGION}.kms`);

    await interfaceEndpoint('sns');
    await ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, ServiceName: `com.amazonaws.${REGION}.dynamodb`, VpcEndpointType: 'Gateway', RouteTableIds: [routeTableId] }));
    outcome = await check();
    expect(outcome.status).toBe('warn');
    expect(outcome.message).toMatch(/no usable endpoint for: Route 53 \(no VPC endpoint exists: the fallback points cutover\.dns back at the source\)\./);
  });

  it('asks only for what the migration uses, and checks nothing outside a VPC', async () => {
    const plain = crossAccountState({ source: { accessRoleArn: undefined }, cutover: { writeBlock: { method: 'read-only' } } });
    expect(servicesNeeded({ ...plain.input, source: { ...plain.input.source, clusterArn: undefined, accessRoleArn: undefined } } as never).map((n) => n.service)).toEqual(['secretsmanager', 'ec2', 'states', 'dynamodb', 'monitoring', 'sns']);
    const state = input();
    expect(await lambdaEgressChecks(state.input, state.accounts, { subnetIds: [], ec2 })).toEqual([]);
  });

  it('its EC2 calls are read-only and allowed by the packaged RunPreflightRole', async () => {
    recorder.clear();
    await check();
    const calls = await recorder.recorded();
    expect(calls.map((c) => c.operation).sort()).toEqual(['DescribeRouteTables', 'DescribeSubnets', 'DescribeVpcEndpoints']);
    expect(await deniedCalls(calls, { principalFor: () => packaged.functionRole('runPreflight') })).toEqual([]);
  });
});
