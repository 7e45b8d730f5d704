// The one DynamoDB client of the operations functions and commands (approval table, lag-watch records).
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

let client: DynamoDBClient | undefined;
export function dynamoClient(): DynamoDBClient {
  client ??= new DynamoDBClient({});
  return client;
}
export function setDynamoClient(c: DynamoDBClient | undefined): void {
  client = c;
}
/** The CLI: the client of the operator's profile and region. */
export function configureDynamoClient(config: DynamoDBClientConfig): void {
  client = new DynamoDBClient(config);
}
