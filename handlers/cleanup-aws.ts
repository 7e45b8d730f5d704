import { stepHandler } from '../shared/handler.js';
import { cleanupAws } from '../shared/cleanup/aws.js';
import type { CleanupState } from '../shared/cleanup/types.js';

export const handler = stepHandler('Clean up (AWS)', async (state: CleanupState) => cleanupAws(state));
