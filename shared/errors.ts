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

/** The server is one crossmove's dialects cannot drive (MySQL 5.7, MySQL 8.0 before 8.0.23, Aurora MySQL 1). */
export class UnsupportedEngineError extends CrossmoveError {}

/** The deployment's configuration (an environment variable) is wrong or does not fit a server: names the variable and the fix. */
export class ConfigurationError extends CrossmoveError {}

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

// Names the state machine itself produces (Pass states: the poll bounds CloneNotAvailableInTimeError,
// BinlogPositionNotFoundError, ...NotAvailableInTimeError, ...NotFinishedInTimeError; ReplicationNotCaughtUpError,
// ApprovalTimedOutError, CutoverNeverReadyError) are spelled in statemachine/migration.asl.yaml only (no
// code throws them; each Pass state's Cause says what happened and what to do). The approval gate's name:
/**
 * Error name given to SendTaskFailure when a person rejects the cutover. The state machine catches it
 * (with States.Timeout) and ends in "Approval not given". Kept without the Error suffix: it is the
 * contract with the approve/reject API and the local runner.
 */
export const APPROVAL_REJECTED = 'ApprovalRejected';

/** An AWS resource crossmove created ended in a failed state (e.g. the clone is `failed` or has lost its KMS key). */
export class ResourceFailedError extends CrossmoveError {}

// Operations API. The HTTP layer (shared/http/) maps these names to 4xx answers.

/** No execution exists for the migration id (never started from this stack). */
export class MigrationNotFoundError extends CrossmoveError {}

/** A start was asked for a migration whose execution is still running: nothing was started. */
export class MigrationAlreadyRunningError extends CrossmoveError {}

/** Approve/reject was asked but no cutover approval waits for the migration. */
export class NothingToApproveError extends CrossmoveError {}

/** The approval was already answered (approved or rejected): a second answer changes nothing. */
export class ApprovalAlreadyAnsweredError extends CrossmoveError {}

/** The stored task token is no longer valid (gate timed out, execution ended or was re-run). */
export class ApprovalExpiredError extends CrossmoveError {}

/** An HTTP request is malformed (body not JSON, a required field or path parameter missing). */
export class BadRequestError extends CrossmoveError {}

// Logical initial load.

/** The logical copy could not take a consistent snapshot or copy an object; names the schema/table and the MySQL error. */
export class LogicalCopyError extends CrossmoveError {}

// Snapshot path and cleanup.

/** Cleanup refused to do something irreversible (stop/delete the source) without the conditions for it. Nothing was changed by that part. */
export class CleanupRefusedError extends CrossmoveError {}

// Fallback: moving the application back to the source through reverse replication.

/** The fallback refused to start: reverse replication not running/healthy or lag above the limit. Nothing changed. */
export class FallbackNotReadyError extends CrossmoveError {}

/** The fallback started but could not finish; it rolled back (target writable, reverse replication resumed). */
export class FallbackRolledBackError extends CrossmoveError {}

/** The fallback could not finish AND its rollback failed: a human must act now. */
export class FallbackRollbackFailedError extends CrossmoveError {}

/**
 * The cutover passed its point of no return (the target is the primary, the source stays blocked) but
 * did not finish. Retryable: the next invocation reads the marker and finishes the switch.
 */
export class CutoverIncompleteError extends CrossmoveError {}

/** replication.ssl cannot work with the target's engine as configured (named field and fix in the message). */
export class ReplicationSslUnsupportedError extends CrossmoveError {}

/**
 * The fallback passed its point of no return (the source is the primary again, the target stays
 * blocked) but did not finish. Running the fallback again reads the marker and finishes the switch.
 */
export class FallbackIncompleteError extends CrossmoveError {}

/**
 * STS refused to let this account assume source.accessRoleArn (trust policy, external id, or this
 * account's own sts:AssumeRole permission). Names the role and the fix; not retried.
 */
export class SourceAccessError extends CrossmoveError {}

// Resumable logical initial load (issue 11).

/** The frozen source cannot serve the copy as configured (not a replica of the source, unsafe parallel applier, ...): names the field and the fix. Nothing was changed on it. */
export class FrozenSourceError extends CrossmoveError {}

/** The frozen source changed while the copy read it (its replication was restarted, or something wrote to it): what was copied is not one consistent point any more. */
export class FrozenSourceMovedError extends CrossmoveError {}

/** The live copy's snapshot is gone (a copy from the live source needed more than one invocation): names the frozen sources to use instead. */
export class LiveSnapshotLostError extends CrossmoveError {}

// Past the point of no return (failures after "Cut over").

/**
 * A step was about to make a server writable while the other side of the migration takes writes too
 * (read_only off, not a replica, no write block in place). Nothing was made writable; both servers are
 * named in the message.
 */
export class TwoWritablePrimariesError extends CrossmoveError {}

/**
 * A re-run wanted to start replication into a target that is already the primary (its cutover passed
 * the point of no return): that would apply the source's old binlog onto the application's new writes.
 */
export class TargetIsPrimaryError extends CrossmoveError {}

/**
 * A re-run of a migration that fell back (its fallback record on the source passed its point of no
 * return, or stopped midway): resuming the steps after the cutover would point DNS at the blocked
 * target and replicate its old binlog into the source again. Nothing was changed.
 */
export class FellBackToSourceError extends CrossmoveError {}

/**
 * The migration's Fail name when the target became the primary but a later step (finishing the
 * cutover, Switch DNS, Start reverse replication) did not finish. Not a class: the state machine's Fail
 * states give it, and status/follow-up actions look for it.
 */
export const MIGRATED_WITH_UNFINISHED_STEPS = 'MigratedWithUnfinishedSteps';

/**
 * The source-account role refused a call of the logical copy's frozen source (AccessDenied): it was
 * deployed without that kind's statements (another FrozenSource, or without the ARN the kind needs).
 * Names the call, the resource, the role and the redeployment that fixes it. Not retried: the same
 * call is refused until the role changes.
 */
export class FrozenSourceAccessDeniedError extends CrossmoveError {}
