// "Switch DNS": one Route 53 UPSERT of the CNAME, exact parameters.
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { ChangeResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { localLambdaContext } from '../../shared/handler.js';
import { handler as switchDns } from '../../handlers/switch-dns.js';
import { crossAccountState, resetCaches } from '../aws/mock-fixtures.js';

const r53 = mockClient(Route53Client);
const ctx = localLambdaContext('test');
const dns = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', recordName: 'orders-db.internal.example.com', ttl: 5 };
const clone = { done: true, attempts: 2, status: 'available', clusterIdentifier: 'orders-prod-moved', endpoint: 'orders-prod-moved.cluster-f9e8d7c6b5a4.us-east-1.rds.amazonaws.com', port: 3306 };

beforeEach(() => {
  r53.reset();
  resetCaches();
});

describe('Switch DNS', () => {
  it('UPSERTs the CNAME to the target cluster endpoint', async () => {
    r53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C2682N5HXP0BZ4', Status: 'PENDING', SubmittedAt: new Date() } });
    const out = await switchDns({ ...crossAccountState({ cutover: { dns } }), clone }, ctx);
    expect(out).toEqual({ recordName: dns.recordName, value: clone.endpoint, changeId: '/change/C2682N5HXP0BZ4', skipped: false });
    expect(r53.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input)).toEqual([
      {
        HostedZoneId: 'Z0123456789ABCDEFGHIJ',
        ChangeBatch: {
          Comment: 'crossmove orders-2026-12: cut over to the target',
          Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: dns.recordName, Type: 'CNAME', TTL: 5, ResourceRecords: [{ Value: clone.endpoint }] } }],
        },
      },
    ]);
  });

  it('prefers an explicit target.endpoint and is skipped without cutover.dns', async () => {
    r53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: new Date() } });
    const explicit = await switchDns({ ...crossAccountState({ cutover: { dns }, target: { endpoint: { host: 'proxy.internal', port: 3306 } } }), clone }, ctx);
    expect(explicit.value).toBe('proxy.internal');
    r53.reset();
    expect(await switchDns({ ...crossAccountState(), clone }, ctx)).toEqual({ recordName: '', value: '', changeId: null, skipped: true });
    expect(r53.calls()).toHaveLength(0);
  });
});
