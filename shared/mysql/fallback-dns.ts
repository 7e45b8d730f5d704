// DNS back to the source after a fallback: the same UPSERT as "Switch DNS" (shared/aws/dns.ts), with
// the source's endpoint as the value. Idempotent.
import type { Route53Client } from '@aws-sdk/client-route-53';
import { pointCname } from '../aws/dns.js';
import { sourceEndpoint } from '../endpoints.js';
import type { DnsResult, MigrationState } from '../state.js';

export async function switchDnsBack(state: Pick<MigrationState, 'input' | 'preflight'>, client?: Route53Client): Promise<DnsResult> {
  if (!state.input.cutover.dns) return { recordName: '', value: '', changeId: null, skipped: true };
  return pointCname(state.input, sourceEndpoint(state).host, { step: 'point the CNAME back at the source', comment: 'fall back to the source' }, client);
}
