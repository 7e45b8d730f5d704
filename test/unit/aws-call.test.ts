// Mapping of AWS errors: throttling, 5xx and dropped connections become TransientError (retried);
// everything else keeps its SDK name for the caller to explain.
import { describe, expect, it } from 'vitest';
import { awsCall, isTransientAwsError } from '../../shared/aws/call.js';
import { RETRYABLE_ERROR_NAMES } from '../../shared/errors.js';

const sdkError = (name: string, status?: number) => Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });

describe('awsCall', () => {
  it.each([
    ['ThrottlingException', 400],
    ['Throttling', 400],
    ['TooManyRequestsException', 429],
    ['InternalFailure', 500],
    ['SomethingNew', 503],
    ['TimeoutError', undefined],
  ])('turns %s (%s) into TransientError naming the call', async (name, status) => {
    const err = await awsCall('RDS DescribeDBClusters x', () => Promise.reject(sdkError(name, status))).catch((e: Error) => e);
    expect(err.name).toBe('TransientError');
    expect(err.message).toBe(`RDS DescribeDBClusters x failed temporarily (${name}: ${name} happened); the step is safe to retry`);
    expect(RETRYABLE_ERROR_NAMES).toContain(err.name);
  });

  it.each(['DBClusterNotFoundFault', 'AccessDeniedException', 'InvalidParameterValue'])('keeps %s as is', async (name) => {
    const original = sdkError(name, 400);
    await expect(awsCall('x', () => Promise.reject(original))).rejects.toBe(original);
    expect(isTransientAwsError(original)).toBe(false);
  });

  it('passes results through', async () => {
    expect(await awsCall('x', async () => 42)).toBe(42);
  });
});
