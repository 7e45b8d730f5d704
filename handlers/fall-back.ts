import { stepHandler } from '../shared/handler.js';
import { fallBackStep, type FallbackState } from '../shared/mysql/steps/fall-back.js';

export const handler = stepHandler('Fall back', async (state: FallbackState) => fallBackStep(state));
