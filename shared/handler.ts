// Every Lambda is `stepHandler(name, fn)`: middy adds the migration's log context before the step
// and, on failure, rethrows an error that keeps its typed `name` (matched by the state machine's
// Retry/Catch) but has secrets masked and no stack trace (the Cause in the execution history is
// visible to anyone who can read the execution).
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger } from './logger.js';
import { redact } from './redact.js';

interface StepContext {
  lambda: Context;
}

export type StepFunction<E, R> = (event: E, ctx: StepContext) => Promise<R>;

/** Turns any thrown value into a clean, named, secret-free error. */
export function sanitizeError(err: unknown): Error {
  const source = err instanceof Error ? err : new Error(String(err));
  const clean = new Error(redact(source.message));
  // AWS SDK errors carry their service error code in `name` (ThrottlingException, ...): keep it.
  clean.name = source.name && source.name !== 'Error' ? source.name : 'Error';
  clean.stack = `${clean.name}: ${clean.message}`;
  return clean;
}

export function stepHandler<E, R>(step: string, fn: StepFunction<E, R>) {
  return middy<E, R, Error, Context>(async (event: E, context: Context) => fn(event, { lambda: context }))
    .before(async (request) => {
      const ev = request.event as { input?: { migrationId?: string }; migrationId?: string } | undefined;
      const migrationId = ev?.input?.migrationId ?? ev?.migrationId;
      logger.resetKeys?.();
      logger.appendKeys({ step, migrationId, executionName: migrationId });
    })
    .onError(async (request) => {
      const clean = sanitizeError(request.error);
      logger.error(`step failed: ${step}`, { errorName: clean.name, errorMessage: clean.message });
      request.error = clean;
    });
}

/** A minimal Lambda context for local runs and tests: 15 minutes from its creation, as on AWS. */
export function localLambdaContext(functionName: string): Context {
  const deadline = Date.now() + 900_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: `local-${Date.now()}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
