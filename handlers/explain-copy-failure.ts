// "Explain the failed copy round": fails with the error the failed worker slot recorded.
import { stepHandler } from '../shared/handler.js';
import { explainCopyFailure } from '../shared/initial-load/steps/check-copy.js';
import type { FailureInfo, MigrationState } from '../shared/state.js';

export const handler = stepHandler('Explain the failed copy round', (event: Pick<MigrationState, 'input' | 'accounts'> & { failure: FailureInfo; since: string }) => explainCopyFailure(event));
