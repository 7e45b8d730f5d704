// A preflight check result plus the typed error a failure maps to (the state machine matches on it).
import {
  BinlogDisabledError,
  DefaultKmsKeyError,
  PreflightFailedError,
  ResourceConflictError,
  ResourceNotFoundError,
  SecretError,
  type CrossmoveError,
} from '../errors.js';
import type { PreflightCheck } from '../state.js';

const FAILURE_ERRORS = {
  PreflightFailedError,
  ResourceNotFoundError,
  ResourceConflictError,
  DefaultKmsKeyError,
  BinlogDisabledError,
  SecretError,
} as const;
export type FailureErrorName = keyof typeof FAILURE_ERRORS;

export interface CheckOutcome extends PreflightCheck {
  /** Error thrown when this check fails (default PreflightFailedError). */
  error?: FailureErrorName;
}

export const pass = (id: string, message: string): CheckOutcome => ({ id, status: 'pass', message });
export const warn = (id: string, message: string, fix: string): CheckOutcome => ({ id, status: 'warn', message, fix });
export const fail = (id: string, message: string, fix: string, error: FailureErrorName = 'PreflightFailedError'): CheckOutcome => ({
  id,
  status: 'fail',
  message,
  fix,
  error,
});

/** Throws the typed error of the first failed check; its message lists every failed check and its fix. */
export function throwIfFailed(checks: CheckOutcome[]): void {
  const failed = checks.filter((c) => c.status === 'fail');
  if (!failed.length) return;
  const ErrorClass = FAILURE_ERRORS[failed[0]!.error ?? 'PreflightFailedError'];
  const text = failed.map((c) => `[${c.id}] ${c.message}${c.fix ? ` Fix: ${c.fix}` : ''}`).join(' ');
  const err: CrossmoveError = new ErrorClass(`Preflight failed (${failed.length} check${failed.length === 1 ? '' : 's'}); nothing was changed. ${text}`);
  throw err;
}

/** The public shape (drops the internal error mapping). */
export function publicChecks(checks: CheckOutcome[]): PreflightCheck[] {
  return checks.map(({ error: _error, ...c }) => c);
}
