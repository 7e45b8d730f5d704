// "Switch DNS": point the application's CNAME at the target's cluster endpoint (which survives a
// failover, unlike an instance address); the fallback points it back at the source the same way.
import type { Route53Client } from '@aws-sdk/client-route-53';
import { sourceEndpoint, targetEndpoint } from '../endpoints.js';
import { logStep } from '../logger.js';
import type { DnsResult, MigrationState } from '../state.js';
import { targetRoute53Client, upsertCname } from './route53.js';

/** UPSERTs cutover.dns.recordName -> host (skipped without cutover.dns). Idempotent. */
async function pointCname(
  input: MigrationState['input'],
  host: string,
  purpose: { step: string; comment: string },
  client?: Route53Client,
): Promise<DnsResult> {
  const dns = input.cutover.dns;
  if (!dns) return { recordName: '', value: '', changeId: null, skipped: true };
  logStep(purpose.step, { recordName: dns.recordName, value: host, ttl: dns.ttl });
  const changeId = await upsertCname(client ?? targetRoute53Client(input), {
    hostedZoneId: dns.hostedZoneId,
    recordName: dns.recordName,
    value: host,
    ttl: dns.ttl,
    comment: `crossmove ${input.migrationId}: ${purpose.comment}`,
  });
  return { recordName: dns.recordName, value: host, changeId, skipped: false };
}

export async function switchDns(state: Pick<MigrationState, 'input' | 'clone'>): Promise<DnsResult> {
  if (!state.input.cutover.dns) return { recordName: '', value: '', changeId: null, skipped: true };
  return pointCname(state.input, targetEndpoint(state).host, { step: 'point the CNAME at the target', comment: 'cut over to the target' });
}

/** DNS back to the source after a fallback: the same UPSERT with the source's endpoint. Idempotent. */
export async function switchDnsBack(state: Pick<MigrationState, 'input' | 'preflight'>, client?: Route53Client): Promise<DnsResult> {
  if (!state.input.cutover.dns) return { recordName: '', value: '', changeId: null, skipped: true };
  return pointCname(state.input, sourceEndpoint(state).host, { step: 'point the CNAME back at the source', comment: 'fall back to the source' }, client);
}
