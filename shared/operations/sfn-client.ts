// The one Step Functions client of the operations functions, created once per cold start;
// tests swap it (moto endpoint or aws-sdk-client-mock).
import { SFNClient } from '@aws-sdk/client-sfn';

let client: SFNClient | undefined;
export function sfnClient(): SFNClient {
  client ??= new SFNClient({});
  return client;
}
export function setSfnClient(c: SFNClient | undefined): void {
  client = c;
}
