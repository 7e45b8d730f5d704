// Answers of the operations API. Typed errors become 4xx answers with their message (written for
// the operator, secret-free); anything else is a 500 that names only the request id, so nothing
// internal (stack, SDK details, ARNs of internals) leaks to the caller.
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { InputValidationError } from '../errors.js';
import { redact } from '../redact.js';

export type ApiResult = Exclude<APIGatewayProxyResultV2, string> & { statusCode: number; body: string };

export function json(statusCode: number, body: unknown): ApiResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/** HTTP status for each typed error name (shared/errors.ts). */
const STATUS_OF_ERROR: Record<string, number> = {
  InputValidationError: 400,
  BadRequestError: 400,
  MigrationNotFoundError: 404,
  MigrationAlreadyRunningError: 409,
  NothingToApproveError: 409,
  ApprovalAlreadyAnsweredError: 409,
  ApprovalExpiredError: 410,
  // Step Functions / AWS pushing back: the caller may retry.
  ThrottlingException: 503,
  TooManyRequestsException: 503,
};

export function errorResponse(err: unknown, requestId: string): ApiResult {
  const e = err instanceof Error ? err : new Error(String(err));
  const status = STATUS_OF_ERROR[e.name];
  if (status === 503) return json(503, { error: 'ServiceBusy', message: 'AWS is throttling requests; retry in a few seconds', requestId });
  if (status) {
    return json(status, {
      error: e.name,
      message: redact(e.message),
      ...(e instanceof InputValidationError ? { issues: e.issues } : {}),
    });
  }
  return json(500, { error: 'InternalError', message: `Internal error; the function logs have the details under request id ${requestId}`, requestId });
}
