// "Switch DNS": point the application's CNAME at the target's cluster endpoint (which survives a
// failover, unlike an instance address).
import { targetEndpoint } from '../endpoints.js';
import { logStep } from '../logger.js';
import type { DnsResult, MigrationState } from '../state.js';
import { targetRoute53Client, upsertCname } from './route53.js';

export async function switchDns(state: Pick<MigrationState, 'input' | 'clone'>): Promise<DnsResult> {
  const dns = state.input.cutover.dns;
  if (!dns) return { recordName: '', value: '', changeId: null, skipped: true };
  const value = targetEndpoint(state).host;
  logStep('point the CNAME at the target', { recordName: dns.recordName, value, ttl: dns.ttl });
  const changeId = await upsertCname(targetRoute53Client(state.input), {
    hostedZoneId: dns.hostedZoneId,
    recordName: dns.recordName,
    value,
    ttl: dns.ttl,
    comment: `crossmove ${state.input.migrationId}: cut over to the target`,
  });
  return { recordName: dns.recordName, value, changeId, skipped: false };
}
