// The payload that travels through statemachine/migration.asl.yaml. The first state replaces the raw
// execution input with `{ input, accounts }`; every later Task receives the whole state and its result
// is stored under its own key (ResultPath `$.<key>`), so the payload stays small and namespaced.
// Nothing in here is ever a secret: credentials travel as references (ARN, env:NAME, file:PATH).
import type { MigrationInput } from './input/validate.js';
import type { Engine } from './input/schema.js';
import type { DiffSummary } from './verify/diff-report.js';
import type { DiffPlanState } from './verify/steps.js';
import type { GrantDifferenceCounts } from './mysql/grant-report.js';
import type { UnfinishedStep } from './after-cutover.js';

export interface Accounts {
  /** Account that owns the source cluster (from source.clusterArn), or null for an endpoint-only source. */
  source: string | null;
  /** Account the pipeline runs in (the target), or null in local runs without AWS. */
  target: string | null;
  sameAccount: boolean;
  sourceRegion: string | null;
  targetRegion: string | null;
}

type CheckStatus = 'pass' | 'warn' | 'fail';
export interface PreflightCheck {
  id: string;
  status: CheckStatus;
  message: string;
  /** What to do about a warn/fail. */
  fix?: string;
}
export interface PreflightResult {
  ok: boolean;
  checks: PreflightCheck[];
  /** The source cluster's writer endpoint, read from source.clusterArn (absent for endpoint-only sources). */
  sourceEndpoint?: { host: string; port: number };
  /** What was learned about the source cluster (absent for endpoint-only sources). */
  sourceCluster?: {
    engineVersion: string;
    kmsKeyArn: string | null;
    parameterGroup: string;
    instanceCount: number;
  };
  /** Clone and snapshot paths: the parameter group of the new cluster (absent for a logical copy). */
  targetParameterGroup?: TargetParameterGroupPlan;
}

/**
 * The cluster parameter group the clone or restored cluster gets, decided by the preflight. Its binlogs
 * must be on: the new cluster reports the source's binlog position ("Binlog position from crash
 * recovery") only when binary logging is on in its own cluster parameter group.
 */
export interface TargetParameterGroupPlan {
  name: string;
  /** crossmove creates it (no target.dbClusterParameterGroupName given), as a copy of the source's group. */
  create: boolean;
  family?: string;
  /** The source cluster's parameter group it copies (create only). */
  copiedFrom?: string;
  /** What crossmove sets in it (create only): the source group's own settings, binlogs on. */
  parameters?: { name: string; value: string }[];
  /** Settings of the source group that are not copied, and why (create only). */
  notCopied?: { name: string; reason: string }[];
}

/** A step polled by a Task -> Choice -> Wait loop. `attempts` counts calls, bounded in the ASL. */
interface PollResult {
  done: boolean;
  attempts: number;
  status: string;
}

export interface BinlogSettings {
  logBin: boolean;
  format: string;
  retentionHours: number | null;
  /** Value before crossmove changed it (null = not retained / default), for cleanup. */
  previousRetentionHours: number | null;
  changed: boolean;
  /** MySQL/MariaDB with binlog_expire_logs_seconds = 0: binlogs are never purged (retentionHours is null). */
  retentionUnlimited?: boolean;
}

export interface ShareResult {
  resourceShareArn: string;
  created: boolean;
  /** Same-account migration: nothing to share. */
  skipped?: boolean;
}
export interface ShareAcceptance {
  invitationArn: string | null;
  status: string;
  skipped?: boolean;
}
export interface KeyAccess {
  keyArn: string;
  statementSid: string;
  added: boolean;
  /** Same-account migration or unencrypted source: the key policy is not touched. */
  skipped?: boolean;
}
export interface ClusterPoll extends PollResult {
  clusterIdentifier: string;
  clusterArn?: string;
  endpoint?: string;
  port?: number;
  created?: boolean;
  /** ClusterCreateTime (ISO): start of the DescribeEvents look-back window. */
  createdAt?: string;
  /** The cluster parameter group the cluster uses (its binlogs must be on). */
  parameterGroup?: string;
}
export interface InstancePoll extends PollResult {
  instanceIdentifier: string;
  created?: boolean;
  /** InstanceCreateTime (ISO): start of the DescribeEvents look-back window. */
  createdAt?: string;
}

/**
 * "Reset the master password" / "Check the master password": the clone (or restored cluster) inherits
 * the source's users and master password; crossmove sets a new master password on it, kept in a secret
 * of the target account that it owns, and every later step connects to the target with that secret.
 */
export interface TargetAdminReset extends PollResult {
  /** ARN of the secret holding {username, password} (never the password). */
  secretRef: string;
  /** The cluster's master user name (the source's). */
  username: string;
  clusterIdentifier: string;
  /** This migration created the secret (cleanup removes it). */
  createdSecret: boolean;
  /** When ModifyDBCluster was sent (ISO). */
  requestedAt?: string;
}

export interface BinlogPosition {
  file: string;
  position: number;
}
export interface BinlogPositionPoll extends PollResult {
  position?: BinlogPosition;
  /** Where the coordinates came from. */
  origin: 'describe-events' | 'logical-copy' | 'snapshot-events';
}

export interface LogicalCopyResult {
  position: BinlogPosition;
  tables: number;
  rows: number;
  bytes: number;
  ms: number;
}

/** Where the logical copy reads from: a source that does not change while it is read, or the live source with one snapshot. */
export type FrozenSourceKind = 'live' | 'named-replica' | 'rds-replica' | 'source-clone';

/** What must stay the same on a frozen source while it is read: its executed source position and its own binlog position. */
export interface FrozenFingerprint {
  /** `file:position` the replica executed of the source's binlog (null: not a replica). */
  executed: string | null;
  /** `file:position` of its own binlog (null: binary logging off): moves when anything writes to it. */
  own: string | null;
}

/**
 * "Prepare the frozen source" / "Check the frozen source": where the copy reads and the source binlog
 * position that data corresponds to (replication starts there). Polled until `done`.
 */
export interface FrozenSourceState extends PollResult {
  kind: FrozenSourceKind;
  /** Where the copy connects (the replica, the clone, or the source itself for live). */
  endpoint: { host: string; port: number } | null;
  /** The source's binlog position of the frozen data; null for live until the copy opens its snapshot. */
  position: BinlogPosition | null;
  fingerprint: FrozenFingerprint | null;
  /** rds-replica: the read replica instance; source-clone: the clone cluster (source account). */
  identifier?: string;
  /** source-clone: the clone's instance. */
  instanceIdentifier?: string;
  /** This migration created it (cleanup deletes it). */
  created?: boolean;
  createdAt?: string;
  /** named-replica: crossmove stopped its SQL thread and starts it again after the copy. */
  pausedByCrossmove?: boolean;
}

/** "Plan the copy": the ranges of the copy job in the target's cursor store (the plan itself never travels). */
export interface CopyPlanResult {
  job: string;
  schemas: string[];
  tables: number;
  ranges: number;
  estimatedRows: number;
  estimatedBytes: number;
  /** Tables without a walk key: each copied whole in one transaction. */
  wholeTables: string[];
  /** The plan was already in the store (a re-run resumes it). */
  reused: boolean;
}

/** "Check the copy": the copy job's progress after a round of chunk workers. */
export interface CopyProgressState {
  job: string;
  rangesTotal: number;
  rangesDone: number;
  rows: number;
  bytes: number;
  estimatedRows: number;
  rowsPerSec: number;
  etaSeconds: number | null;
  chunksCopiedTwice: number;
  done: boolean;
  /** The round moved no cursor (ranges held by leases of workers that died): wait before the next. */
  idle: boolean;
  checkedAt: string;
}

/** "Finish the copy" (polled while the secondary keys are built): the copy's result once done. */
export interface CopyFinishResult extends PollResult, Partial<LogicalCopyResult> {
  keys: { tables: number; built: number; building: number };
}

export interface ReplicationUserResult {
  userName: string;
  /** Reference to the secret holding the password (never the password). */
  secretRef: string;
  requireSsl: boolean;
}

export interface ReplicationStartResult {
  sourceHost: string;
  sourcePort: number;
  startedAt: string;
  from: BinlogPosition;
  targetEngine: Engine;
}

export interface LagFigures {
  /** Heartbeat written on the source, read on the target (ms); null when not measurable. */
  heartbeatLagMs: number | null;
  /** Bytes between the source's binlog position and the target's executed position (null across files). */
  byteLag: number | null;
  /** Seconds_Behind_Source / Seconds_Behind_Master, for reference only (unreliable). */
  secondsBehind: number | null;
}
export interface ReplicationCheck extends LagFigures {
  ioRunning: boolean;
  sqlRunning: boolean;
  healthy: boolean;
  underLimit: boolean;
  consecutiveUnderLimit: number;
  caughtUp: boolean;
  checkedAt: string;
  attempts: number;
  /** The IO thread is retrying a lost connection (e.g. the source restarted): not healthy, not broken. */
  reconnecting?: boolean;
}

export interface ApprovalResult {
  approved: boolean;
  by?: string;
  reason?: string;
  at: string;
}

export interface CutoverResult {
  ok: boolean;
  rolledBack: boolean;
  writeBlockedMs: number;
  finalSourcePosition: BinlogPosition;
  /** Target position right after replication stopped: where reverse replication starts. */
  targetPositionAtSwitch: BinlogPosition | null;
  tablesVerified: number;
  checksumsMatch: boolean | null;
  /** The first lines only (shared/mysql/grant-report.ts); the counts say how many there were in all. */
  grantDifferences: string[];
  /** Absent in results recorded before the counts existed. */
  grantDifferenceCounts?: GrantDifferenceCounts;
  steps: { step: string; ms: number }[];
}

export interface DnsResult {
  recordName: string;
  value: string;
  changeId: string | null;
  skipped: boolean;
}

export interface ReverseReplicationResult {
  started: boolean;
  from: BinlogPosition | null;
  skipped: boolean;
  /** The reverse replication user's secret (a reference, never the password); absent when skipped. */
  userSecretRef?: string;
}

/** A cluster snapshot polled by a Task -> Choice -> Wait loop (snapshot path). */
export interface SnapshotPoll extends PollResult {
  snapshotIdentifier: string;
  snapshotArn: string;
  /** Account and region the snapshot lives in. */
  account: string | null;
  region: string | null;
  encrypted: boolean;
  kmsKeyId: string | null;
  engineVersion?: string;
  percentProgress?: number;
  created?: boolean;
  /**
   * Snapshot path: the source snapshot reaches the target through a re-encrypted copy in the source
   * account (snapshot-plan.ts needsShareableCopy); `stage` says which of the two this poll describes.
   */
  viaShareableCopy?: boolean;
  stage?: 'source' | 'shareable-copy';
}

/** "Share the snapshot": the target account was added to the snapshot's `restore` attribute. */
export interface SnapshotShareResult {
  snapshotArn: string;
  sharedWith: string | null;
  added: boolean;
  /** Same-account migration: nothing to share. */
  skipped?: boolean;
}

type CleanupItemKind =
  | 'ram-share'
  | 'kms-key-statement'
  | 'replication-secret'
  | 'target-admin-secret'
  | 'source-snapshot'
  | 'target-snapshot-copy'
  | 'source-shareable-copy'
  | 'source-instance'
  | 'source-cluster'
  | 'cloudwatch-alarm'
  | 'frozen-source-instance'
  | 'frozen-source-cluster'
  // Database half (shared/cleanup/db.ts):
  | 'reverse-replication'
  | 'replication-user'
  | 'reverse-replication-user'
  | 'reverse-replication-secret'
  | 'heartbeat-objects'
  | 'copy-bookkeeping'
  | 'binlog-retention';
export interface CleanupItem {
  kind: CleanupItemKind;
  /** Name or ARN of what was (or would have been) removed. */
  id: string;
  account: string | null;
  /**
   * removed: this run removed it; stopped: this run stopped it (source cluster); gone: it was already
   * gone (or stopped); kept: left on purpose; pending: started, run cleanup again to finish; blocked:
   * asked for but impossible as things are (detail says why); skipped: not applicable to this migration.
   */
  outcome: 'removed' | 'stopped' | 'gone' | 'kept' | 'pending' | 'blocked' | 'skipped';
  detail?: string;
}
/** What "Clean up (AWS)" removed. Re-running it is safe: what is gone is reported as `gone`. */
export interface CleanupReport {
  migrationId: string;
  items: CleanupItem[];
  /** True when nothing is `pending` or `blocked` (deleting the source takes a second run on AWS). */
  complete: boolean;
}

/** What "Fall back" did: the application moved back to the source through reverse replication. */
export interface FallbackResult {
  ok: boolean;
  rolledBack: boolean;
  writeBlockedMs: number;
  /** The target's binlog position once its writes were blocked (the source executed up to it). */
  finalTargetPosition: BinlogPosition;
  /** The source's own binlog position when it became the primary again. */
  sourcePositionAtSwitch: BinlogPosition | null;
  tablesVerified: number;
  checksumsMatch: boolean | null;
  /** Application users/grants that exist on the target but not on the source (made after the cutover); first lines only. */
  grantDifferences: string[];
  grantDifferenceCounts?: GrantDifferenceCounts;
  steps: { step: string; ms: number }[];
  /** The CNAME pointed back at the source (skipped without cutover.dns). */
  dns?: DnsResult;
}

/**
 * "Read the cutover record on the target" / "Check how far the cutover got": whether this migration's
 * target is the primary, from the target's cutover marker rows.
 */
export interface PriorCutover {
  /** A cutover of this migration passed its point of no return: the source must never take writes again (except by fallback). */
  targetIsPrimary: boolean;
  /** The latest marker phase written by the target side (null: none, or no target yet). */
  phase: 'in-progress' | 'past-point-of-no-return' | 'done' | 'rolled-back' | null;
  /** The cutover's recorded result, when the target is the primary (its positions, for reverse replication). */
  cutover: CutoverResult | null;
  /** Where the target was read (a resumed run has no $.clone). */
  targetEndpoint: { host: string; port: number } | null;
  /** The source cluster's endpoint when a resumed run has no preflight result to take it from. */
  sourceEndpoint: { host: string; port: number } | null;
  /**
   * Clone and snapshot paths: the target admin (crossmove's secret for the new cluster's master user),
   * found by its derived name; a resumed run skips "Reset the master password". null otherwise.
   */
  targetAdmin: TargetAdminReset | null;
  detail: string;
  checkedAt: string;
}

export interface FailureInfo {
  Error: string;
  Cause: string;
}

export interface MigrationState {
  input: MigrationInput;
  accounts: Accounts;
  /** Whether the target already took over (first state after validation; again after a failed "Cut over"). */
  priorCutover?: PriorCutover;
  preflight?: PreflightResult;
  /** The read-only database checks ("Check the databases"). */
  databaseChecks?: PreflightResult;
  binlogs?: BinlogSettings;
  share?: ShareResult;
  shareAcceptance?: ShareAcceptance;
  keyAccess?: KeyAccess;
  clone?: ClusterPoll;
  writer?: InstancePoll;
  /**
   * Clone and snapshot paths: the target admin crossmove set up (its secret is the target admin from then
   * on). A run resumed after its cutover takes it from $.priorCutover (null on a logical copy's path).
   */
  targetAdmin?: TargetAdminReset | null;
  binlogPosition?: BinlogPositionPoll;
  /** Logical path: the frozen source, the plan in the cursor store, the progress, the result. */
  frozenSource?: FrozenSourceState;
  copyPlan?: CopyPlanResult;
  copy?: CopyProgressState;
  logicalCopy?: CopyFinishResult;
  replicationUser?: ReplicationUserResult;
  replication?: ReplicationStartResult;
  lag?: ReplicationCheck;
  /** The data comparison: its plan (job in the target's cursor store) and its last verdict. */
  diffPlan?: DiffPlanState;
  diff?: DiffSummary;
  approval?: ApprovalResult;
  cutover?: CutoverResult;
  dns?: DnsResult;
  reverse?: ReverseReplicationResult;
  failure?: FailureInfo;
  // Snapshot path: the restore's ClusterPoll is stored at `clone` so the clone path's
  // writer and binlog-position steps run unchanged.
  sourceSnapshot?: SnapshotPoll;
  snapshotShare?: SnapshotShareResult;
  snapshotCopy?: SnapshotPoll;
  /** What cleanup-aws returned. */
  cleanup?: CleanupReport;
  /** What cleanup-db returned (database half of the cleanup). */
  cleanupDb?: CleanupReport;
  /** What fall-back returned. */
  fallback?: FallbackResult;
  // Bookkeeping of statemachine/migration.asl.yaml (not step results):
  /** Monitoring windows (lag-monitor child executions) started so far. */
  monitor?: { windows: number; cutoverRefusals?: number };
  /** The last window's result ({ lag }), copied to `lag`. */
  lagWindow?: { lag: ReplicationCheck };
  /** Comparison windows (verify child executions) started so far, and the last one's result. */
  diffWindows?: { windows: number };
  diffWindow?: { diff: DiffSummary };
  /** An on-demand comparison (`crossmove verify`): which tables. */
  verifyRequest?: { tables?: string[] };
  /** Rounds within the current window (lag-monitor.asl.yaml and copy.asl.yaml); the copy's also lists its worker slots. */
  window?: { rounds: number; workers?: number[] };
  /** Copy windows (copy.asl.yaml child executions) started so far. */
  copyMonitor?: { windows: number };
  /** The last copy window's result ({ copy }). */
  copyWindow?: { copy: CopyProgressState };
  /** The approval gate was rejected (ApprovalRejected) or timed out (States.Timeout). */
  approvalFailure?: FailureInfo;
  /** "Check how far the cutover got": the target's record read again after "Cut over" failed. */
  cutoverRecord?: PriorCutover;
  /** Reading the cutover record after a failed "Cut over" failed too (the original error stays in `failure`). */
  cutoverRecordError?: FailureInfo;
  /** The last cutover refused to start (CutoverNotReadyError): the machine went back to watching. */
  cutoverNotReady?: FailureInfo;
  /** What report-failure returned (the Fail state's Error/Cause come from it). */
  failureReport?: { outcome: string; error: string; message: string; lastCompletedStep: string | null; unfinished?: UnfinishedStep[]; notified: boolean };
  /** What report-success returned. */
  report?: Record<string, unknown>;
}
