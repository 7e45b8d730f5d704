// Answering the cutover approval gate by migration id: the task token comes from the approval table,
// the answer is claimed there first (conditional update: exactly one answer wins), then sent with
// SendTaskSuccess / SendTaskFailure(error ApprovalRejected, cause = reason).
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import {
  APPROVAL_REJECTED,
  ApprovalAlreadyAnsweredError,
  ApprovalExpiredError,
  BadRequestError,
  NothingToApproveError,
} from '../errors.js';
import { logStep } from '../logger.js';
import { redact } from '../redact.js';
import type { ApprovalResult } from '../state.js';
import { notFound, runsOf } from '../operations/executions.js';
import { sfnClient } from '../aws/sfn.js';
import type { ApprovalTable } from './table.js';

export interface ApprovalAnswer {
  migrationId: string;
  decision: 'approved' | 'rejected';
  /** Who answered (the caller's IAM ARN from the signed request). */
  by: string;
  reason?: string;
}

export interface ApprovalAnswered {
  migrationId: string;
  executionName: string;
  decision: 'approved' | 'rejected';
  by: string;
  at: string;
  reason?: string;
}

// Step Functions' answers for a token it no longer waits on.
const DEAD_TOKEN_ERRORS = new Set(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']);

export async function answerApproval(
  answer: ApprovalAnswer,
  deps: { table: ApprovalTable; stateMachineArn: string; now?: () => Date },
): Promise<ApprovalAnswered> {
  const { migrationId, decision } = answer;
  const reason = answer.reason?.trim() || undefined;
  if (decision === 'rejected' && !reason) {
    throw new BadRequestError('A rejection needs a reason (field "reason"): it is recorded and sent to the execution as the cause');
  }
  const now = (deps.now ?? (() => new Date()))();
  const record = await deps.table.record(migrationId);
  if (!record) {
    const runs = await runsOf(deps.stateMachineArn, migrationId);
    if (!runs.length) throw notFound(migrationId);
    throw new NothingToApproveError(
      `No cutover approval is waiting for migration ${migrationId}: its run ${runs[0]!.name} (${runs[0]!.status}) has not asked for one. \`crossmove status ${migrationId}\` shows where it is.`,
    );
  }
  if (record.status === 'approved' || record.status === 'rejected') {
    throw new ApprovalAlreadyAnsweredError(
      `The cutover approval of migration ${migrationId} was already ${record.status}${record.answeredBy ? ` by ${record.answeredBy}` : ''}${record.answeredAt ? ` at ${record.answeredAt}` : ''}; nothing was changed`,
    );
  }
  if (record.status === 'expired' || Date.parse(record.expiresAt) <= now.getTime()) {
    if (record.status !== 'expired') await deps.table.markExpired(migrationId, record.taskToken);
    throw expired(migrationId, `the approval request expired at ${record.expiresAt}`);
  }

  const at = now.toISOString();
  await deps.table.answer(migrationId, record.taskToken, { status: decision, by: answer.by, at, reason });
  logStep(decision === 'approved' ? 'approve the cutover' : 'reject the cutover', {
    migrationId,
    executionName: record.executionName,
    by: answer.by,
  });
  try {
    if (decision === 'approved') {
      const result: ApprovalResult = { approved: true, by: answer.by, at, ...(reason ? { reason } : {}) };
      await sfnClient().send(new SendTaskSuccessCommand({ taskToken: record.taskToken, output: JSON.stringify(result) }));
    } else {
      await sfnClient().send(
        new SendTaskFailureCommand({
          taskToken: record.taskToken,
          error: APPROVAL_REJECTED,
          cause: redact(`Rejected by ${answer.by}: ${reason}`).slice(0, 32_000),
        }),
      );
    }
  } catch (err) {
    const name = (err as Error).name;
    if (DEAD_TOKEN_ERRORS.has(name)) {
      await deps.table.markExpired(migrationId, record.taskToken);
      throw expired(migrationId, `Step Functions no longer waits on this request (${name})`);
    }
    // Not answered after all (throttled, network): let the person answer again.
    await deps.table.reopen(migrationId, record.taskToken);
    throw err;
  }
  return { migrationId, executionName: record.executionName, decision, by: answer.by, at, ...(reason ? { reason } : {}) };
}

function expired(migrationId: string, why: string): ApprovalExpiredError {
  return new ApprovalExpiredError(
    `The cutover approval of migration ${migrationId} can no longer be answered: ${why}. The gate timed out or the run ended; nothing was cut over. \`crossmove status ${migrationId}\` shows the run; start the migration again to be asked again.`,
  );
}
