// How long a chunk worker may keep claiming work in this invocation: the Lambda's remaining time
// minus a margin for the last sub-chunk to commit and the worker to release its claim. Locally the
// context reports a fixed 15 minutes, so local workers return at the same rhythm as on AWS.
import type { Context } from 'aws-lambda';

export interface Budget {
  /** Milliseconds left before the worker must stop taking new work. */
  remainingMs(): number;
  expired(): boolean;
}

export function lambdaBudget(context: Pick<Context, 'getRemainingTimeInMillis'>, marginMs = 60_000): Budget {
  const remainingMs = () => context.getRemainingTimeInMillis() - marginMs;
  return { remainingMs, expired: () => remainingMs() <= 0 };
}

export function fixedBudget(ms: number): Budget {
  const end = Date.now() + ms;
  const remainingMs = () => end - Date.now();
  return { remainingMs, expired: () => remainingMs() <= 0 };
}
