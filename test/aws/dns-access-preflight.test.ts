// The preflight's dns-access check against moto's Route 53: with cutover.dns, the hosted zone must be
// readable with this run's credentials and region and hold the record, or "Switch DNS" would fail right
// after the cutover. In Lambda the check is left to the DNS step (the preflight role has no Route 53 right).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { dnsAccessChecks } from '../../shared/preflight/dns-access-checks.js';
import { validateMigrationInput } from '../../shared/input/validate.js';
import { startMoto, type Moto } from '../support/moto.js';
import { REGION } from './fixtures.js';

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

const inputWith = (dns: { hostedZoneId: string; recordName: string }) =>
  validateMigrationInput({
    migrationId: 'orders-1',
    source: { endpoint: { host: '127.0.0.1', port: 3306 }, adminSecret: 'env:X' },
    target: { endpoint: { host: '127.0.0.1', port: 3307 }, adminSecret: 'env:Y', region: REGION },
    initialLoad: { method: 'logical' },
    cutover: { dns },
  });

describe('preflight: cutover.dns can be switched from where the run executes (moto)', () => {
  let zoneId: string;
  beforeEach(async () => {
    await moto.reset();
    const zone = await new Route53Client({ region: REGION }).send(new CreateHostedZoneCommand({ Name: 'internal.example.com', CallerReference: 'z1' }));
    zoneId = zone.HostedZone!.Id!.replace('/hostedzone/', '');
  });
  afterEach(() => {
    delete process.env.AWS_LAMBDA_FUNCTION_NAME;
  });

  it('passes when the zone is readable and holds the record', async () => {
    const [check] = await dnsAccessChecks(inputWith({ hostedZoneId: zoneId, recordName: 'orders-db.internal.example.com' }));
    expect(check).toMatchObject({ id: 'dns-access', status: 'pass' });
  });

  it('fails naming cutover.dns.recordName when the record is not in the zone', async () => {
    const [check] = await dnsAccessChecks(inputWith({ hostedZoneId: zoneId, recordName: 'orders-db.other.example.org' }));
    expect(check).toMatchObject({ id: 'dns-access', status: 'fail' });
    expect(check!.message).toContain('cutover.dns.recordName orders-db.other.example.org is not in hosted zone');
    expect(check!.fix).toContain('internal.example.com');
  });

  it('fails naming cutover.dns.hostedZoneId when the zone does not exist for these credentials', async () => {
    const [check] = await dnsAccessChecks(inputWith({ hostedZoneId: 'Z0NOSUCHZONE00000000', recordName: 'orders-db.internal.example.com' }));
    expect(check).toMatchObject({ id: 'dns-access', status: 'fail' });
    expect(check!.message).toMatch(/cutover\.dns\.hostedZoneId Z0NOSUCHZONE00000000 cannot be read .*NoSuchHostedZone/);
    expect(check!.fix).toMatch(/credentials and a region/);
  });

  it('runs nowhere in Lambda (the DNS step itself reports there) and not without cutover.dns', async () => {
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'crossmove-runPreflight';
    expect(await dnsAccessChecks(inputWith({ hostedZoneId: 'Z0NOSUCHZONE00000000', recordName: 'orders-db.internal.example.com' }))).toEqual([]);
    delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    const input = inputWith({ hostedZoneId: zoneId, recordName: 'orders-db.internal.example.com' });
    expect(await dnsAccessChecks({ ...input, cutover: { ...input.cutover, dns: undefined } })).toEqual([]);
  });
});
