// The one Step Functions client of the operations functions and commands, created once per cold start;
// the CLI configures it from --profile/--region, tests swap it (moto endpoint or aws-sdk-client-mock).
import { SFNClient, type SFNClientConfig } from '@aws-sdk/client-sfn';

let client: SFNClient | undefined;
export function sfnClient(): SFNClient {
  client ??= new SFNClient({});
  return client;
}
export function setSfnClient(c: SFNClient | undefined): void {
  client = c;
}
/** The CLI: the client of the operator's profile and region. */
export function configureSfnClient(config: SFNClientConfig): void {
  client = new SFNClient(config);
}
