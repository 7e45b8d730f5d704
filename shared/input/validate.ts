// Turns raw execution input into a validated MigrationInput with defaults filled in and every
// resource name derived from migrationId (so a retried or re-run step finds what it made).
import { InputValidationError, type FieldIssue } from '../errors.js';
import { migrationInputSchema, type MigrationInputParsed } from './schema.js';
import { deriveNames, type ResourceNames } from './names.js';

export type InitialLoadMethod = 'clone' | 'snapshot' | 'logical';

export interface MigrationInput extends Omit<MigrationInputParsed, 'initialLoad'> {
  initialLoad: NonNullable<MigrationInputParsed['initialLoad']>;
  names: ResourceNames;
  /** Figures the state machine needs as plain numbers (ASL has no multiplication): TimeoutSecondsPath etc. */
  derived: DerivedFigures;
}

export interface DerivedFigures {
  approvalTimeoutSeconds: number;
  /** Rounds of the lag monitor child execution per window (keeps each child far below 25,000 events). */
  monitorRoundsPerWindow: number;
  /** Windows the parent runs before giving up on catching up (from replication.maxCatchUpHours). */
  maxMonitorWindows: number;
  /** TimeoutSecondsPath of one monitoring window (child execution): rounds x (poll + a check's worst case) + slack. */
  monitorWindowTimeoutSeconds: number;
}

/** A Standard workflow history holds 25,000 events; one monitor round is ~9 events. */
export const MONITOR_ROUNDS_PER_WINDOW = 1000;

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
  const initialLoad = input.initialLoad ?? {
    method: input.source.clusterArn ? ('clone' as const) : ('logical' as const),
    parallelism: 4,
    chunkRows: 50_000,
  };
  const rounds = MONITOR_ROUNDS_PER_WINDOW;
  const derived: DerivedFigures = {
    approvalTimeoutSeconds: Math.max(1, Math.round(input.cutover.approvalTimeoutHours * 3600)),
    monitorRoundsPerWindow: rounds,
    maxMonitorWindows: Math.max(1, Math.ceil((input.replication.maxCatchUpHours * 3600) / (input.replication.pollSeconds * rounds))),
    // A check is a Lambda with a 60 s timeout retried up to 6 times with backoff capped at 60 s: ~12 min worst case.
    monitorWindowTimeoutSeconds: rounds * (input.replication.pollSeconds + 120) + 3600,
  };
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
  const wb = r.cutover?.writeBlock;
  if (wb?.method === 'security-group' && wb.securityGroupId === undefined) {
    issues.push({ field: 'cutover.writeBlock.securityGroupId', message: 'required when writeBlock.method is security-group' });
  }
  return issues;
}
