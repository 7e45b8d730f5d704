// Every operations API handler is `apiHandler(name, fn)`: log context (migration id when the path
// has one), typed errors -> 4xx, anything else logged in full and answered as an opaque 500.
import type { Context } from 'aws-lambda';
import { logger } from '../logger.js';
import { redact } from '../redact.js';
import { errorResponse, type ApiResult } from './response.js';
import type { ApiEvent } from './request.js';

export function apiHandler(name: string, fn: (event: ApiEvent) => Promise<ApiResult>) {
  return async (event: ApiEvent, context?: Context): Promise<ApiResult> => {
    const requestId = context?.awsRequestId ?? event.requestContext?.requestId ?? 'unknown';
    const migrationId = event.pathParameters?.migrationId;
    logger.resetKeys?.();
    logger.appendKeys({ api: name, requestId, ...(migrationId ? { migrationId, executionName: migrationId } : {}) });
    try {
      return await fn(event);
    } catch (err) {
      const answer = errorResponse(err, requestId);
      const e = err instanceof Error ? err : new Error(String(err));
      const log = answer.statusCode >= 500 ? logger.error.bind(logger) : logger.warn.bind(logger);
      log(`api ${name} answered ${answer.statusCode}`, { errorName: e.name, errorMessage: redact(e.message) });
      return answer;
    }
  };
}
