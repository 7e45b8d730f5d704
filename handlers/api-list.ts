// GET /migrations[?status=RUNNING]: every migration with its latest run.
import { BadRequestError } from '../shared/errors.js';
import { apiHandler } from '../shared/http/api-handler.js';
import { json } from '../shared/http/response.js';
import { operationsConfig } from '../shared/operations/config.js';
import { listMigrations } from '../shared/operations/list.js';

const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];

export const handler = apiHandler('list', async (event) => {
  const status = event.queryStringParameters?.status?.toUpperCase();
  if (status && !STATUSES.includes(status)) throw new BadRequestError(`Query parameter "status" must be one of ${STATUSES.join(', ')}`);
  return json(200, { migrations: await listMigrations(operationsConfig.stateMachineArn(), status) });
});
