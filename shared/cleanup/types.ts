// What cleanup-aws receives: the finished migration's state (the execution output, or at least
// {input, accounts}) and the operator's choices. Nothing irreversible happens without cleanupOptions.
import type { CleanupItem, MigrationState } from '../state.js';

interface CleanupOptions {
  /** What to do with the old source cluster. Default keep; stop and delete need a successful cutover. */
  sourceCluster?: 'keep' | 'stop' | 'delete';
}

export type CleanupState = Pick<MigrationState, 'input' | 'accounts'> &
  Partial<Pick<MigrationState, 'preflight' | 'keyAccess' | 'share' | 'replicationUser' | 'cutover' | 'targetAdmin' | 'frozenSource'>> & {
    cleanupOptions?: CleanupOptions;
  };

export function item(kind: CleanupItem['kind'], id: string, account: string | null, outcome: CleanupItem['outcome'], detail?: string): CleanupItem {
  return { kind, id, account, outcome, ...(detail ? { detail } : {}) };
}
