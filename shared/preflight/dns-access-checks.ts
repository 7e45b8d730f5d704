// Preflight: with cutover.dns, the record can be switched from where the run executes. A local run
// (`crossmove run --local`) and `crossmove plan` use this machine's AWS credentials and region for
// Route 53; without them "Switch DNS" failed right after the cutover ("Region is missing"). Here the
// hosted zone is read (GetHostedZone, read-only) through the same client the DNS step uses. In Lambda the
// check is left to the step itself: the preflight function's role has no Route 53 permission.
import { GetHostedZoneCommand, type Route53Client } from '@aws-sdk/client-route-53';
import type { MigrationInput } from '../input/validate.js';
import { targetRoute53Client } from '../aws/route53.js';
import { isTransientAwsError } from '../aws/call.js';
import { TransientError } from '../errors.js';
import { redact } from '../redact.js';
import { fail, pass, type CheckOutcome } from './checks.js';

const inLambda = () => Boolean(process.env.AWS_LAMBDA_FUNCTION_NAME);

export async function dnsAccessChecks(input: MigrationInput, client?: Route53Client): Promise<CheckOutcome[]> {
  const dns = input.cutover.dns;
  if (!dns || inLambda()) return [];
  const id = 'dns-access';
  let zoneName: string | undefined;
  try {
    const out = await (client ?? targetRoute53Client(input)).send(new GetHostedZoneCommand({ Id: dns.hostedZoneId }));
    zoneName = out.HostedZone?.Name;
  } catch (err) {
    if (isTransientAwsError(err)) throw new TransientError(`Route 53 GetHostedZone ${dns.hostedZoneId} failed temporarily: ${(err as Error).message}`, { cause: err });
    const e = err as Error;
    return [
      fail(
        id,
        `cutover.dns.hostedZoneId ${dns.hostedZoneId} cannot be read from where this migration runs (${e.name}: ${redact(e.message)}): "Switch DNS" would fail right after the cutover.`,
        'Give this run AWS credentials and a region (AWS_PROFILE, AWS_REGION or target.region) allowed route53:GetHostedZone and ChangeResourceRecordSets on the zone, correct the zone id, or remove cutover.dns (then repoint the applications yourself after the cutover).',
      ),
    ];
  }
  const record = dns.recordName.replace(/\.$/, '').toLowerCase();
  const zone = (zoneName ?? '').replace(/\.$/, '').toLowerCase();
  if (zone && record !== zone && !record.endsWith(`.${zone}`)) {
    return [fail(id, `cutover.dns.recordName ${dns.recordName} is not in hosted zone ${dns.hostedZoneId} (${zoneName}).`, `Set cutover.dns.recordName to a name in ${zoneName}, or cutover.dns.hostedZoneId to the zone that holds ${dns.recordName}.`)];
  }
  return [pass(id, `cutover.dns: hosted zone ${dns.hostedZoneId} (${zoneName}) is readable from here and holds ${dns.recordName}.`)];
}
