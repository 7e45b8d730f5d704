import { stepHandler } from '../shared/handler.js';
import { resetMasterPassword } from '../shared/aws/master-password.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler('Reset the master password', async (state: MigrationState) => resetMasterPassword(state));
