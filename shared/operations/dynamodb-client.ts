// The one DynamoDB client of the operations functions (approval table, lag-watch records).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

let client: DynamoDBClient | undefined;
export function dynamoClient(): DynamoDBClient {
  client ??= new DynamoDBClient({});
  return client;
}
export function setDynamoClient(c: DynamoDBClient | undefined): void {
  client = c;
}
