// GET /migrations/{migrationId}: phase, current state, lag, replication health, approval. 404 unknown id.
import { apiHandler } from '../shared/http/api-handler.js';
import { migrationIdParam } from '../shared/http/request.js';
import { json } from '../shared/http/response.js';
import { ApprovalTable } from '../shared/approval/table.js';
import { operationsConfig } from '../shared/operations/config.js';
import { migrationStatus } from '../shared/operations/status.js';

export const handler = apiHandler('status', async (event) => {
  const status = await migrationStatus(migrationIdParam(event), operationsConfig.stateMachineArn(), new ApprovalTable());
  return json(200, status);
});
