// Route 53 in the target account: point the application's CNAME at the target. UPSERT is idempotent.
import { ChangeResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import type { MigrationInput } from '../input/validate.js';
import { awsCall } from './call.js';
import { targetClientConfig } from './source-account.js';

export function targetRoute53Client(input: Pick<MigrationInput, 'target'>): Route53Client {
  return new Route53Client(targetClientConfig(input));
}

export interface CnameSpec {
  hostedZoneId: string;
  recordName: string;
  value: string;
  ttl: number;
  comment: string;
}

export async function upsertCname(client: Route53Client, spec: CnameSpec): Promise<string | null> {
  const out = await awsCall(`Route 53 ChangeResourceRecordSets ${spec.recordName}`, () =>
    client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: spec.hostedZoneId,
        ChangeBatch: {
          Comment: spec.comment,
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: { Name: spec.recordName, Type: 'CNAME', TTL: spec.ttl, ResourceRecords: [{ Value: spec.value }] },
            },
          ],
        },
      }),
    ),
  );
  return out.ChangeInfo?.Id ?? null;
}
