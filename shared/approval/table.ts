// The approval gate's token store on AWS: one DynamoDB item per migration (on-demand table, key
// migrationId). "Ask for cutover approval" puts the task token here (ApprovalStore.put), approve/reject
// find it by migration id, so nobody copies a token by hand. Why DynamoDB: a conditional update makes
// "answer once" atomic (two people approving at once: exactly one wins, the other gets a clear 409),
// and the record keeps who answered, when and why.
// The same item carries the scheduled lag check's memory (`watch`: since when the lag is above the
// limit, which notifications went out) so one table holds everything per migration.
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import type { ApprovalStore } from './store.js';
import type { ApprovalRequest } from './request.js';
import { ApprovalAlreadyAnsweredError } from '../errors.js';
import { dynamoClient } from '../aws/dynamodb.js';
import { operationsConfig } from '../operations/config.js';

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';

export interface ApprovalRecord extends ApprovalRequest {
  status: ApprovalStatus;
  answeredBy?: string;
  answeredAt?: string;
  reason?: string;
}

/** What the scheduled lag check remembers between runs (per migration). */
export interface WatchRecord {
  executionName: string;
  lastCheckedAt: string;
  lastLag: { heartbeatLagMs: number | null; byteLag: number | null; secondsBehind: number | null; ioRunning: boolean; sqlRunning: boolean };
  /** First check that saw the lag above the limit in the current episode (null = under the limit). */
  aboveSince: string | null;
  lagNotified: boolean;
  brokenSince: string | null;
  brokenNotified: boolean;
  alarmsCreated: boolean;
}

const S = (v: string): AttributeValue => ({ S: v });

export class ApprovalTable implements ApprovalStore {
  constructor(private readonly tableName: string = operationsConfig.approvalTable()) {}

  private key(migrationId: string) {
    return { migrationId: S(migrationId) };
  }

  /** A new request replaces an older one (a re-run asks again); the watch memory is kept. */
  async put(request: ApprovalRequest): Promise<void> {
    const { taskToken, ...details } = request;
    await dynamoClient().send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.key(request.migrationId),
        UpdateExpression:
          'SET taskToken = :token, executionName = :exec, requestedAt = :req, expiresAt = :exp, details = :details, #s = :pending REMOVE answeredBy, answeredAt, reason',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':token': S(taskToken),
          ':exec': S(request.executionName),
          ':req': S(request.requestedAt),
          ':exp': S(request.expiresAt),
          ':details': S(JSON.stringify(details)),
          ':pending': S('pending'),
        },
      }),
    );
  }

  /** The waiting request, or null when nothing waits (never asked, or already answered). */
  async get(migrationId: string): Promise<ApprovalRequest | null> {
    const record = await this.record(migrationId);
    if (!record || record.status !== 'pending') return null;
    const { status: _s, answeredBy: _b, answeredAt: _a, reason: _r, ...request } = record;
    return request;
  }

  /** Answered records are kept (status says so): a second answer then gets "already approved by ...". */
  async remove(_migrationId: string): Promise<void> {}

  /** The full record, whatever its status. */
  async record(migrationId: string): Promise<ApprovalRecord | null> {
    const item = await this.item(migrationId);
    if (!item?.taskToken?.S) return null;
    const details = JSON.parse(item.details?.S ?? '{}') as Omit<ApprovalRequest, 'taskToken'>;
    return {
      ...details,
      migrationId,
      executionName: item.executionName?.S ?? details.executionName,
      taskToken: item.taskToken.S,
      requestedAt: item.requestedAt?.S ?? details.requestedAt,
      expiresAt: item.expiresAt?.S ?? details.expiresAt,
      status: (item.status?.S ?? 'pending') as ApprovalStatus,
      answeredBy: item.answeredBy?.S,
      answeredAt: item.answeredAt?.S,
      reason: item.reason?.S,
    };
  }

  /**
   * Claims the answer: pending -> approved/rejected, only for this token. Exactly one caller wins;
   * the others get ApprovalAlreadyAnsweredError naming who answered and when.
   */
  async answer(
    migrationId: string,
    taskToken: string,
    answer: { status: 'approved' | 'rejected'; by: string; at: string; reason?: string },
  ): Promise<void> {
    try {
      await dynamoClient().send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(migrationId),
          ConditionExpression: '#s = :pending AND taskToken = :token',
          UpdateExpression: answer.reason
            ? 'SET #s = :status, answeredBy = :by, answeredAt = :at, reason = :reason'
            : 'SET #s = :status, answeredBy = :by, answeredAt = :at',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':pending': S('pending'),
            ':token': S(taskToken),
            ':status': S(answer.status),
            ':by': S(answer.by),
            ':at': S(answer.at),
            ...(answer.reason ? { ':reason': S(answer.reason) } : {}),
          },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException) && (err as Error).name !== 'ConditionalCheckFailedException') throw err;
      const now = await this.record(migrationId);
      throw new ApprovalAlreadyAnsweredError(
        now && now.status !== 'pending'
          ? `The cutover approval of migration ${migrationId} was already ${now.status}${now.answeredBy ? ` by ${now.answeredBy}` : ''}${now.answeredAt ? ` at ${now.answeredAt}` : ''}; nothing was changed`
          : `The cutover approval of migration ${migrationId} changed while answering (a newer request replaced it); run status and answer again`,
      );
    }
  }

  /** Undo a claim whose SendTask* call failed for a passing reason, so the person can answer again. */
  async reopen(migrationId: string, taskToken: string): Promise<void> {
    await this.setStatus(migrationId, taskToken, 'pending', 'REMOVE answeredBy, answeredAt, reason');
  }

  /** The token was refused by Step Functions (timed out, execution ended): remember it. */
  async markExpired(migrationId: string, taskToken: string): Promise<void> {
    await this.setStatus(migrationId, taskToken, 'expired');
  }

  private async setStatus(migrationId: string, taskToken: string, status: ApprovalStatus, extra = ''): Promise<void> {
    try {
      await dynamoClient().send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(migrationId),
          ConditionExpression: 'taskToken = :token',
          UpdateExpression: `SET #s = :status ${extra}`.trim(),
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':token': S(taskToken), ':status': S(status) },
        }),
      );
    } catch (err) {
      // A newer request replaced the token meanwhile: that one is not ours to change.
      if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
    }
  }

  async watch(migrationId: string): Promise<WatchRecord | null> {
    const item = await this.item(migrationId);
    return item?.watch?.S ? (JSON.parse(item.watch.S) as WatchRecord) : null;
  }

  /** Only the scheduled check writes `watch` (one run a minute), so a plain SET is enough. */
  async putWatch(migrationId: string, watch: WatchRecord): Promise<void> {
    await dynamoClient().send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.key(migrationId),
        UpdateExpression: 'SET watch = :watch',
        ExpressionAttributeValues: { ':watch': S(JSON.stringify(watch)) },
      }),
    );
  }

  private async item(migrationId: string): Promise<Record<string, AttributeValue> | undefined> {
    const out = await dynamoClient().send(
      new GetItemCommand({ TableName: this.tableName, Key: this.key(migrationId), ConsistentRead: true }),
    );
    return out.Item;
  }
}
