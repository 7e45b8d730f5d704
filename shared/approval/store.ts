// Where the approval gate keeps its task token, keyed by migration, so nobody copies a token by hand:
// approve/reject look it up by migrationId and answer with SendTaskSuccess/SendTaskFailure.
// On the deployed stack the store is the operations stack's DynamoDB table (table.ts); without one, the
// default store logs the exact commands that resolve the gate (the token is already visible in the
// execution history, so logging it discloses nothing new). current.ts picks one.
import { logger } from '../logger.js';
import type { ApprovalRequest } from './request.js';

export interface ApprovalStore {
  put(request: ApprovalRequest): Promise<void>;
  get(migrationId: string): Promise<ApprovalRequest | null>;
  /** Forgets the request once it was answered (a second answer then gets a clear "nothing waits"). */
  remove(migrationId: string): Promise<void>;
}

/** Keeps requests in this process: local runs and tests. */
export class MemoryApprovalStore implements ApprovalStore {
  readonly requests = new Map<string, ApprovalRequest>();
  async put(request: ApprovalRequest): Promise<void> {
    this.requests.set(request.migrationId, request);
  }
  async get(migrationId: string): Promise<ApprovalRequest | null> {
    return this.requests.get(migrationId) ?? null;
  }
  async remove(migrationId: string): Promise<void> {
    this.requests.delete(migrationId);
  }
}

/** Default on AWS until a durable store exists: logs how to answer. `get` cannot find anything. */
export class LoggingApprovalStore implements ApprovalStore {
  async put(request: ApprovalRequest): Promise<void> {
    const output = JSON.stringify(JSON.stringify({ approved: true, by: 'cli' }));
    logger.info('cutover approval requested', {
      migrationId: request.migrationId,
      expiresAt: request.expiresAt,
      approve: `aws stepfunctions send-task-success --task-token ${request.taskToken} --task-output ${output}`,
      reject: `aws stepfunctions send-task-failure --task-token ${request.taskToken} --error ApprovalRejected --cause "<why>"`,
    });
  }
  async get(): Promise<ApprovalRequest | null> {
    return null;
  }
  async remove(): Promise<void> {}
}
