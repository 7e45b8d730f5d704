// The approval store in use, picked once per process. Apart from store.ts so that the DynamoDB table
// (which implements ApprovalStore) and the interface do not import each other.
import { ApprovalTable } from './table.js';
import { LoggingApprovalStore, MemoryApprovalStore, type ApprovalStore } from './store.js';

let current: ApprovalStore | undefined;

/** Chosen by CROSSMOVE_APPROVAL_STORE: dynamodb (the deployed stack), memory, or log (default). */
export function approvalStore(): ApprovalStore {
  if (!current) {
    const kind = process.env.CROSSMOVE_APPROVAL_STORE;
    current = kind === 'dynamodb' ? new ApprovalTable() : kind === 'memory' ? new MemoryApprovalStore() : new LoggingApprovalStore();
  }
  return current;
}

/** For the local runner and tests. */
export function setApprovalStore(store: ApprovalStore | undefined): void {
  current = store;
}
