// The one CloudWatch client (metrics and per-migration alarms).
import { CloudWatchClient, type CloudWatchClientConfig } from '@aws-sdk/client-cloudwatch';
import { sharedClient } from './shared-client.js';

const shared = sharedClient((config: CloudWatchClientConfig) => new CloudWatchClient(config), {});
export const cloudWatchClient = shared.get;
export const setCloudWatchClient = shared.set;
