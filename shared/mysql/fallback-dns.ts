// DNS back to the source after a fallback: the same UPSERT as "Switch DNS" (shared/aws/route53.ts),
// with the source's endpoint as the value. Idempotent.
import type { Route53Client } from '@aws-sdk/client-route-53';
import { targetRoute53Client, upsertCname } from '../aws/route53.js';
import { sourceEndpoint } from '../endpoints.js';
import { logStep } from '../logger.js';
import type { DnsResult, MigrationState } from '../state.js';

export async function switchDnsBack(state: Pick<MigrationState, 'input' | 'preflight'>, client?: Route53Client): Promise<DnsResult> {
  const dns = state.input.cutover.dns;
  if (!dns) return { recordName: '', value: '', changeId: null, skipped: true };
  const value = sourceEndpoint(state).host;
  logStep('point the CNAME back at the source', { recordName: dns.recordName, value, ttl: dns.ttl });
  const changeId = await upsertCname(client ?? targetRoute53Client(state.input), {
    hostedZoneId: dns.hostedZoneId,
    recordName: dns.recordName,
    value,
    ttl: dns.ttl,
    comment: `crossmove ${state.input.migrationId}: fall back to the source`,
  });
  return { recordName: dns.recordName, value, changeId, skipped: false };
}
