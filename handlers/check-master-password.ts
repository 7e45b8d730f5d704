import { stepHandler } from '../shared/handler.js';
import { checkMasterPassword } from '../shared/aws/master-password.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Check the master password', async (state: MigrationState) => checkMasterPassword(state));
