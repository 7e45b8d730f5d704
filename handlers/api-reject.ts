// POST /migrations/{migrationId}/reject  body {reason} (required). Same answers as approve; 400 without a reason.
import { apiHandler } from '../shared/http/api-handler.js';
import { caller, jsonBody, migrationIdParam, optionalReason } from '../shared/http/request.js';
import { json } from '../shared/http/response.js';
import { answerApproval } from '../shared/approval/answer.js';
import { ApprovalTable } from '../shared/approval/table.js';
import { operationsConfig } from '../shared/operations/config.js';

export const handler = apiHandler('reject', async (event) => {
  const migrationId = migrationIdParam(event);
  const reason = optionalReason(jsonBody(event, { required: true }));
  const answered = await answerApproval(
    { migrationId, decision: 'rejected', by: caller(event), reason },
    { table: new ApprovalTable(), stateMachineArn: operationsConfig.stateMachineArn() },
  );
  return json(200, answered);
});
