// API Gateway HTTP API (payload v2, IAM authoriser) events -> the few things the operations API
// reads: a validated migration id from the path, a JSON body, the caller's IAM identity.
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from 'aws-lambda';
import { BadRequestError } from '../errors.js';

export type ApiEvent = APIGatewayProxyEventV2WithIAMAuthorizer;

const MIGRATION_ID = /^[a-z0-9-]{1,40}$/;

export function migrationIdParam(event: ApiEvent): string {
  const id = event.pathParameters?.migrationId;
  if (!id) throw new BadRequestError('The path needs a migration id: /migrations/{migrationId}');
  const decoded = decodeURIComponent(id);
  if (!MIGRATION_ID.test(decoded)) {
    throw new BadRequestError('The migration id in the path must be 1-40 lowercase letters, digits or hyphens ([a-z0-9-]{1,40})');
  }
  return decoded;
}

/** The JSON body, or `fallback` when there is none (optional bodies). */
export function jsonBody(event: ApiEvent, options: { required: boolean }): unknown {
  const raw = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
  if (!raw.trim()) {
    if (options.required) throw new BadRequestError('The request needs a JSON body');
    return {};
  }
  try {
    return JSON.parse(raw);
  } catch (err) {
    // The parser's message says where (position); the body itself is never echoed back.
    throw new BadRequestError(`The request body is not valid JSON (${(err as Error).message.replace(/, "[\s\S]*$/, '')})`);
  }
}

/** Who is calling: the IAM principal API Gateway verified from the SigV4 signature. */
export function caller(event: ApiEvent): string {
  const iam = event.requestContext?.authorizer?.iam;
  return iam?.userArn ?? (iam?.accountId ? `account ${iam.accountId}` : 'unknown caller');
}

export function optionalReason(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestError('The request body must be a JSON object such as {"reason": "..."}');
  }
  const reason = (body as Record<string, unknown>).reason;
  if (reason === undefined || reason === null) return undefined;
  if (typeof reason !== 'string') throw new BadRequestError('Field "reason" must be a string');
  if (reason.length > 2000) throw new BadRequestError('Field "reason" must be at most 2000 characters');
  return reason;
}
