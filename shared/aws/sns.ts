// The SNS client, one per region, created once per container. Tests point it at moto or a mock.
import { SNSClient } from '@aws-sdk/client-sns';

const clients = new Map<string, SNSClient>();
let override: SNSClient | undefined;

/** The client for the topic's region (topics are regional; the pipeline may run elsewhere). */
export function snsClientFor(topicArn: string): SNSClient {
  if (override) return override;
  const region = topicArn.split(':')[3] || undefined;
  const key = region ?? '';
  let client = clients.get(key);
  if (!client) {
    client = new SNSClient(region ? { region } : {});
    clients.set(key, client);
  }
  return client;
}

/** For tests: use this client for every topic (undefined restores the default). */
export function setSnsClient(client: SNSClient | undefined): void {
  override = client;
  clients.clear();
}
