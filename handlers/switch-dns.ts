import { stepHandler } from '../shared/handler.js';
import { switchDns } from '../shared/aws/dns.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Switch DNS', async (state: MigrationState) => switchDns(state));
