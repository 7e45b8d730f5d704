// Typed errors. Each class sets `name`, which is what Step Functions puts in the `Error` field of a
// failed Task, so statemachine/*.asl.yaml matches on these names in Retry/Catch `ErrorEquals`.
// Messages are written for the operator: they name the field, the resource or the MySQL error and
// say what to do. They never contain a secret (see shared/redact.ts, applied to every message).

export class CrossmoveError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `source.clusterArn`. */
  field: string;
  message: string;
}

/** The execution input is malformed. Lists every offending field; nothing has been changed. */
export class InputValidationError extends CrossmoveError {
  constructor(readonly issues: FieldIssue[]) {
    super(
      `Invalid migration input (${issues.length} problem${issues.length === 1 ? '' : 's'}): ` +
        issues.map((i) => `${i.field}: ${i.message}`).join('; '),
    );
  }
}

/** A read-only check found something that makes the migration impossible as configured. */
export class PreflightFailedError extends CrossmoveError {}

/** A resource crossmove would create already exists and was not made by this migration. */
export class ResourceConflictError extends CrossmoveError {}

/** A resource the input refers to does not exist or is not visible to the account. */
export class ResourceNotFoundError extends CrossmoveError {}

/** The source is encrypted with the AWS-managed aws/rds key: it cannot be cloned cross-account. */
export class DefaultKmsKeyError extends CrossmoveError {}

/** Binary logging is off (or the format is not ROW/MIXED/STATEMENT) on the source. */
export class BinlogDisabledError extends CrossmoveError {}

/** A secret reference cannot be resolved or does not hold {username, password}. */
export class SecretError extends CrossmoveError {}

/** Worth retrying: throttling, a dropped connection, a resource briefly in the wrong state. */
export class TransientError extends CrossmoveError {}

/** Replication stopped with an error that needs a human (base of the specific cases below). */
export class ReplicationBrokenError extends CrossmoveError {}

/** IO error 1236: the binlog the target needs was purged on the source. */
export class BinlogPurgedError extends ReplicationBrokenError {}

/** SQL thread error: a row the target applies conflicts (duplicate key, row not found). */
export class ReplicationConflictError extends ReplicationBrokenError {}

/** The target cannot log in to the source as the replication user. */
export class ReplicationAuthError extends ReplicationBrokenError {}

/** The cutover refused to start: replication not healthy or lag above the limit. Nothing changed. */
export class CutoverNotReadyError extends CrossmoveError {}

/** The cutover started but could not finish; it rolled back (source writable, replication resumed). */
export class CutoverRolledBackError extends CrossmoveError {}

/** The cutover could not finish AND the rollback failed: a human must act now. */
export class CutoverRollbackFailedError extends CrossmoveError {}

/** Data verification found a difference between source and target. */
export class VerificationFailedError extends CrossmoveError {}

/** Error names the state machine retries with backoff. */
export const RETRYABLE_ERROR_NAMES = [
  'TransientError',
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'InternalFailure',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;
