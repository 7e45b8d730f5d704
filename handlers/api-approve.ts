// POST /migrations/{migrationId}/approve  body optional {reason}. 200 | 404 unknown | 409 nothing waits or
// already answered | 410 the gate's token expired.
import { apiHandler } from '../shared/http/api-handler.js';
import { caller, jsonBody, migrationIdParam, optionalReason } from '../shared/http/request.js';
import { json } from '../shared/http/response.js';
import { answerApproval } from '../shared/approval/answer.js';
import { ApprovalTable } from '../shared/approval/table.js';
import { operationsConfig } from '../shared/operations/config.js';

export const handler = apiHandler('approve', async (event) => {
  const migrationId = migrationIdParam(event);
  const reason = optionalReason(jsonBody(event, { required: false }));
  const answered = await answerApproval(
    { migrationId, decision: 'approved', by: caller(event), reason },
    { table: new ApprovalTable(), stateMachineArn: operationsConfig.stateMachineArn() },
  );
  return json(200, answered);
});
