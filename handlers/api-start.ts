// POST /migrations  body: the migration input (JSON). 202 started | 400 invalid input | 409 already running.
import { apiHandler } from '../shared/http/api-handler.js';
import { jsonBody } from '../shared/http/request.js';
import { json } from '../shared/http/response.js';
import { operationsConfig } from '../shared/operations/config.js';
import { startMigration } from '../shared/operations/start.js';

export const handler = apiHandler('start', async (event) => {
  const started = await startMigration(jsonBody(event, { required: true }), operationsConfig.stateMachineArn());
  return json(202, { ...started, status: `/migrations/${started.migrationId}` });
});
