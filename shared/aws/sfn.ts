// The one Step Functions client of the operations functions and commands.
import { SFNClient, type SFNClientConfig } from '@aws-sdk/client-sfn';
import { sharedClient } from './shared-client.js';

const shared = sharedClient((config: SFNClientConfig) => new SFNClient(config), {});
export const sfnClient = shared.get;
export const setSfnClient = shared.set;
/** The CLI: the client of the operator's profile and region. */
export const configureSfnClient = shared.configure;
