// API Gateway HTTP API (payload 2.0, IAM authoriser) events for the operations handlers' tests,
// shaped like the ones API Gateway sends.
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from 'aws-lambda';
import { localLambdaContext } from '../../shared/handler.js';

export const CALLER_ARN = 'arn:aws:iam::123456789012:user/alice';

export function apiEvent(
  routeKey: string,
  options: { migrationId?: string; body?: unknown; rawBody?: string; query?: Record<string, string>; base64?: boolean } = {},
): APIGatewayProxyEventV2WithIAMAuthorizer {
  const [method, path] = routeKey.split(' ') as [string, string];
  const rawPath = options.migrationId ? path.replace('{migrationId}', options.migrationId) : path;
  let body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (body !== undefined && options.base64) body = Buffer.from(body).toString('base64');
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: { 'content-type': 'application/json' },
    queryStringParameters: options.query,
    pathParameters: options.migrationId !== undefined ? { migrationId: options.migrationId } : undefined,
    body,
    isBase64Encoded: !!options.base64,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'crossmove-cli' },
      requestId: 'req-1',
      routeKey,
      stage: '$default',
      time: '24/Nov/2026:09:00:00 +0000',
      timeEpoch: 1795510800000,
      authorizer: {
        iam: {
          accessKey: 'AKIAEXAMPLE',
          accountId: '123456789012',
          callerId: 'AIDAEXAMPLE',
          cognitoIdentity: null as never,
          principalOrgId: null as never,
          userArn: CALLER_ARN,
          userId: 'AIDAEXAMPLE',
        },
      },
    },
  } as APIGatewayProxyEventV2WithIAMAuthorizer;
}

export const apiContext = (name = 'api') => localLambdaContext(name);
