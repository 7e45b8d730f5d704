// Turns raw execution input into a validated MigrationInput with defaults filled in and every
// resource name derived from migrationId (so a retried or re-run step finds what it made).
import { InputValidationError, type FieldIssue } from '../errors.js';
import { initialLoadSchema, migrationInputSchema, type MigrationInputParsed } from './schema.js';
import { deriveNames, type ResourceNames } from './names.js';

export interface MigrationInput extends Omit<MigrationInputParsed, 'initialLoad'> {
  initialLoad: NonNullable<MigrationInputParsed['initialLoad']>;
  names: ResourceNames;
  /** Figures the state machine needs as plain numbers (ASL has no multiplication): TimeoutSecondsPath etc. */
  derived: DerivedFigures;
}

interface DerivedFigures {
  /** Rounds of the copy's Map per child execution (copy.asl.yaml; a round is about 13 + 7 x parallelism events). */
  copyRoundsPerWindow: number;
  /** Copy windows before the parent gives up (about 30 days of copying). */
  maxCopyWindows: number;
  /**
   * TimeoutSecondsPath of one copy window: rounds x (a worker's 15 minutes, retried once, + the check and
   * wait) + slack; under 2^31 ms (about 24.8 days), the longest timer Node (the local engine) can set.
   */
  copyWindowTimeoutSeconds: number;
  approvalTimeoutSeconds: number;
  /** Rounds of the lag monitor child execution per window (keeps each child far below 25,000 events). */
  monitorRoundsPerWindow: number;
  /** Windows the parent runs before giving up on catching up (from replication.maxCatchUpHours). */
  maxMonitorWindows: number;
  /** TimeoutSecondsPath of one monitoring window (child execution): rounds x (poll + a check's worst case) + slack. */
  monitorWindowTimeoutSeconds: number;
  /** Rounds of the comparison's Map per child execution (a round is about 13 + 7 x parallelism events). */
  diffRoundsPerWindow: number;
  /** Comparison windows before the parent gives up. */
  maxDiffWindows: number;
  /** TimeoutSecondsPath of one comparison window: rounds x (a worker's 15 minutes + retries) + slack. */
  diffWindowTimeoutSeconds: number;
}

/** Events per round of the comparison window: Map 4 + 7 per worker, the check 5, Choice 2, Pass 2. */
export const diffEventsPerRound = (workers: number) => 13 + 7 * workers;
/** Events per round of the copy window: Map 4, 7 per worker slot (inline, as locally), the check 5, Choice 2, Pass 2. */
export const copyEventsPerRound = (workers: number) => 13 + 7 * workers;

/** TimeoutSeconds of "Copy chunks until the time budget" (its Lambda runs 900 s at most). */
const COPY_WORKER_TIMEOUT_SECONDS = 930;

/** A Standard workflow history holds 25,000 events; one monitor round is ~9 events. */
const MONITOR_ROUNDS_PER_WINDOW = 1000;

/** Anything but a mapping (an empty file, null, a list, a string) is refused with one clear issue. */
export function notAnInputIssue(raw: unknown): FieldIssue | null {
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) return null;
  const got = raw === null || raw === undefined ? 'nothing (an empty file or null)' : Array.isArray(raw) ? 'a list' : `a ${typeof raw}`;
  return {
    field: '(input)',
    message: `must be a YAML mapping or JSON object with migrationId, source, target and the other sections (see examples/ and schema/migration-input.schema.json); got ${got}`,
  };
}

export function validateMigrationInput(raw: unknown): MigrationInput {
  const notAnInput = notAnInputIssue(raw);
  if (notAnInput) throw new InputValidationError([notAnInput]);
  const parsed = migrationInputSchema.safeParse(raw);
  // Cross-field rules are checked on the raw input too, so one answer names every problem.
  const issues: FieldIssue[] = [
    ...(parsed.success ? [] : parsed.error.issues.map((issue) => ({
      field: issue.path.length ? issue.path.join('.') : '(input)',
      message: issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message,
    }))),
    ...crossFieldIssues(raw),
  ];
  if (!parsed.success || issues.length) throw new InputValidationError(dedupe(issues));
  const input = parsed.data;
  const initialLoad = input.initialLoad ?? initialLoadSchema.parse({ method: input.source.clusterArn ? 'clone' : 'logical' });
  const rounds = MONITOR_ROUNDS_PER_WINDOW;
  const copyRounds = Math.max(1, Math.floor(20_000 / copyEventsPerRound(initialLoad.parallelism)));
  const derived: DerivedFigures = {
    copyRoundsPerWindow: copyRounds,
    maxCopyWindows: Math.max(1, Math.ceil((30 * 86_400) / (copyRounds * COPY_WORKER_TIMEOUT_SECONDS))),
    copyWindowTimeoutSeconds: Math.min(2_147_000, copyRounds * (2 * COPY_WORKER_TIMEOUT_SECONDS + 120) + 3600),
    approvalTimeoutSeconds: Math.max(1, Math.round(input.cutover.approvalTimeoutHours * 3600)),
    monitorRoundsPerWindow: rounds,
    maxMonitorWindows: Math.max(1, Math.ceil((input.replication.maxCatchUpHours * 3600) / (input.replication.pollSeconds * rounds))),
    // A check is a Lambda with a 60 s timeout retried up to 6 times with backoff capped at 60 s: ~12 min worst case.
    monitorWindowTimeoutSeconds: rounds * (input.replication.pollSeconds + 120) + 3600,
    // 16,000 of the 25,000 events: room for every worker to be retried once in every round.
    diffRoundsPerWindow: Math.max(1, Math.floor(16_000 / diffEventsPerRound(input.verify.parallelism))),
    maxDiffWindows: 20,
    diffWindowTimeoutSeconds: 0,
  };
  derived.diffWindowTimeoutSeconds = Math.min(31_536_000, derived.diffRoundsPerWindow * (930 + 300) + 3600);
  return { ...input, initialLoad, names: deriveNames(input.migrationId, input), derived };
}

function dedupe(issues: FieldIssue[]): FieldIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => !seen.has(i.field) && seen.add(i.field));
}

/** Rules that span fields (zod skips object refinements once a field failed, so they live here). */
function crossFieldIssues(raw: unknown): FieldIssue[] {
  const r = (raw ?? {}) as Record<string, any>;
  const issues: FieldIssue[] = [];
  const source = r.source ?? {};
  const target = r.target ?? {};
  const method = r.initialLoad?.method;
  if (typeof source === 'object' && source.clusterArn === undefined && source.endpoint === undefined) {
    issues.push({ field: 'source.clusterArn', message: 'give clusterArn (Aurora) or endpoint (any MySQL)' });
  } else if ((method === 'clone' || method === 'snapshot') && source.clusterArn === undefined) {
    issues.push({ field: 'source.clusterArn', message: `required for initialLoad.method ${method}` });
  }
  const logical = method === 'logical' || (method === undefined && source.clusterArn === undefined);
  if (logical && target.endpoint === undefined && target.clusterIdentifier === undefined) {
    issues.push({ field: 'target.endpoint', message: 'required for a logical copy (where to load the data)' });
  }
  if ((method === 'clone' || method === 'snapshot') && r.initialLoad?.schemas !== undefined) {
    issues.push({ field: 'initialLoad.schemas', message: `applies only to method logical: a ${method} copies the whole cluster; remove it, or use method logical to copy only some schemas` });
  }
  if (logical && typeof target === 'object' && target.adminSecret === undefined) {
    issues.push({ field: 'target.adminSecret', message: 'required for a logical copy (the admin of the target it loads into); clone and snapshot need none (crossmove sets the new cluster\'s master password into its own secret)' });
  }
  issues.push(...frozenSourceIssues(r, logical));
  const wb = r.cutover?.writeBlock;
  if (wb?.method === 'security-group' && wb.securityGroupId === undefined) {
    issues.push({ field: 'cutover.writeBlock.securityGroupId', message: 'required when writeBlock.method is security-group' });
  }
  return issues;
}

/** initialLoad.frozenSource: each kind's own fields, and only for a logical copy. */
function frozenSourceIssues(r: Record<string, any>, logical: boolean): FieldIssue[] {
  const f = r.initialLoad?.frozenSource;
  if (!f || typeof f !== 'object') return [];
  const issues: FieldIssue[] = [];
  const kind = f.kind ?? 'auto';
  if (!logical && kind !== 'auto') issues.push({ field: 'initialLoad.frozenSource', message: 'applies to initialLoad.method logical only (a clone or snapshot is its own consistent copy)' });
  if (kind === 'named-replica' && f.endpoint === undefined) issues.push({ field: 'initialLoad.frozenSource.endpoint', message: 'required for kind named-replica: where the replica of the source listens' });
  if (kind === 'rds-replica' && f.sourceInstanceArn === undefined) issues.push({ field: 'initialLoad.frozenSource.sourceInstanceArn', message: 'required for kind rds-replica: the RDS MySQL/MariaDB instance to make the read replica of' });
  if (kind === 'source-clone' && r.source?.clusterArn === undefined) issues.push({ field: 'source.clusterArn', message: 'required for initialLoad.frozenSource kind source-clone (the Aurora cluster to clone in the source account)' });
  if (kind !== 'named-replica' && kind !== 'auto') {
    for (const field of ['endpoint', 'adminSecret', 'engine']) if (f[field] !== undefined) issues.push({ field: `initialLoad.frozenSource.${field}`, message: `applies to kind named-replica only (this is ${kind})` });
  }
  if (f.sourceInstanceArn !== undefined && kind !== 'rds-replica' && kind !== 'auto') issues.push({ field: 'initialLoad.frozenSource.sourceInstanceArn', message: `applies to kind rds-replica only (this is ${kind})` });
  return issues;
}
