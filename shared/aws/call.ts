// Every AWS call goes through awsCall so throttling, 5xx answers and dropped connections surface as
// TransientError (retried with backoff by the state machine) while real faults keep their SDK name
// (DBClusterNotFoundFault, AccessDeniedException, ...) for the caller to turn into a clear message.
import { TransientError } from '../errors.js';

const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalServerError',
  'InternalServerException',
  'ServerInternalException',
  'KMSInternalException',
  'PriorRequestNotComplete',
  'TimeoutError',
  'RequestTimeout',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
]);

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

export function isTransientAwsError(err: unknown): boolean {
  const e = (err ?? {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  return (
    TRANSIENT_NAMES.has(e.name ?? '') ||
    TRANSIENT_NAMES.has(e.code ?? '') ||
    (typeof status === 'number' && status >= 500) ||
    Boolean(e.$retryable)
  );
}

/** Runs one AWS call; `what` names the call and resource for the operator ("RDS DescribeDBClusters orders-prod"). */
export async function awsCall<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isTransientAwsError(err)) {
      const e = err as SdkErrorShape;
      throw new TransientError(`${what} failed temporarily (${e.name ?? e.code}: ${e.message}); the step is safe to retry`, { cause: err });
    }
    throw err;
  }
}

export function errorName(err: unknown): string {
  return (err as SdkErrorShape)?.name ?? '';
}
