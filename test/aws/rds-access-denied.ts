// An RDS refusal exactly as the SDK surfaces it: the query protocol's XML error response (HTTP 403,
// <Error><Type>Sender</Type><Code>AccessDenied</Code>, IAM's "is not authorized to perform" message)
// parsed by the real RDSClient's own deserializer, not an object written by hand. For
// aws-sdk-client-mock's `rejects`. Works with RDSClient mocked or not (sinon keeps the real send).
import { Readable } from 'node:stream';
import { RDSClient } from '@aws-sdk/client-rds';

export async function rdsAccessDenied(command: object, principalArn: string, resourceArn: string): Promise<Error> {
  const action = `rds:${command.constructor.name.replace(/Command$/, '')}`;
  const xml =
    '<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Sender</Type><Code>AccessDenied</Code>' +
    `<Message>User: ${principalArn} is not authorized to perform: ${action} on resource: ${resourceArn} because no identity-based policy allows the ${action} action</Message>` +
    '</Error><RequestId>4b5f8e2a-0d3c-4a1e-9b7f-6c2d1e0a9f8b</RequestId></ErrorResponse>';
  const client = new RDSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
    maxAttempts: 1,
    requestHandler: { handle: async () => ({ response: { statusCode: 403, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': '4b5f8e2a-0d3c-4a1e-9b7f-6c2d1e0a9f8b' }, body: Readable.from([Buffer.from(xml)]) } }) } as never,
  });
  const send = ((RDSClient.prototype.send as any).wrappedMethod ?? RDSClient.prototype.send) as (this: RDSClient, c: object) => Promise<unknown>;
  try {
    await send.call(client, command);
  } catch (err) {
    return err as Error;
  }
  throw new Error(`${action}: the fake 403 response was not turned into an error`);
}
