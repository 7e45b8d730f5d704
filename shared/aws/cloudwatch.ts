// The one CloudWatch client (metrics and per-migration alarms); tests swap it.
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';

let client: CloudWatchClient | undefined;
export function cloudWatchClient(): CloudWatchClient {
  client ??= new CloudWatchClient({});
  return client;
}
export function setCloudWatchClient(c: CloudWatchClient | undefined): void {
  client = c;
}
