// The one DynamoDB client of the operations functions and commands (approval table, lag-watch records).
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { sharedClient } from './shared-client.js';

const shared = sharedClient((config: DynamoDBClientConfig) => new DynamoDBClient(config), {});
export const dynamoClient = shared.get;
export const setDynamoClient = shared.set;
/** The CLI: the client of the operator's profile and region. */
export const configureDynamoClient = shared.configure;
