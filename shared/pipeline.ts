// The migration's states in one table: each state of statemachine/migration.asl.yaml with the phase
// `status` reports for it, the stage the local progress line times it under, the state key it fills and
// which initial-load path it belongs to. The CLI tracker, the execution-history digest and the failure
// notification all read this table; test/statemachine/pipeline.test.ts checks it against the definition
// (every state listed, nothing extra, each `fills` equal to the state's ResultPath), so a renamed or new
// state cannot leave one of them behind.
import type { MigrationState } from './state.js';

/** What `status` and the API report (shared/operations/history-digest.ts). */
export type StatusPhase =
  | 'starting'
  | 'validating'
  | 'initial-load'
  | 'replicating'
  | 'comparing'
  | 'awaiting-approval'
  | 'cutting-over'
  | 'finishing'
  | 'succeeded'
  /** The target is the primary; a step after the point of no return did not finish (MigratedWithUnfinishedSteps). */
  | 'migrated-unfinished'
  | 'failed';

/** The local run's time buckets, in display order (cli/tracker.ts). */
export type Stage = 'checks' | 'initialLoad' | 'catchUp' | 'verify' | 'approval' | 'cutover' | 'finish';
export const STAGES: { id: Stage; label: string }[] = [
  { id: 'checks', label: 'checks' },
  { id: 'initialLoad', label: 'initial load' },
  { id: 'catchUp', label: 'catch-up' },
  { id: 'verify', label: 'comparison' },
  { id: 'approval', label: 'approval' },
  { id: 'cutover', label: 'cutover' },
  { id: 'finish', label: 'report' },
];

/** The initial load's branches: a state on one of them runs only for that `initialLoad.method`. */
type LoadPath = 'clone' | 'snapshot' | 'logical';

export interface PipelineState {
  name: string;
  phase: StatusPhase;
  stage: Stage;
  /** The state key its result is written to (its ResultPath `$.<key>`), where that key is a step's output. */
  fills?: keyof MigrationState;
  /** The initial-load methods it runs for (absent: every method). */
  paths?: LoadPath[];
  /** How a person names the step when it is the last one done, where the state's name says less. */
  words?: string;
  /** Fills its key again from a record (a resumed run), so it never names the step that made it. */
  refill?: true;
}

type Extra = Pick<PipelineState, 'fills' | 'paths' | 'words' | 'refill'>;
const group =
  (phase: StatusPhase, stage: Stage, common: Extra = {}) =>
  (...entries: (string | [string, Extra])[]): PipelineState[] =>
    entries.map((e) => (typeof e === 'string' ? { name: e, phase, stage, ...common } : { name: e[0], phase, stage, ...common, ...e[1] }));

/** Failure branches: the execution is about to end failed; the stage stays the one the run was in. */
const failing = (stage: Stage, paths?: LoadPath[]) => group('failed', stage, paths ? { paths } : {});

/** The new cluster's states: after a clone or a restored snapshot alike. */
const CLUSTER = { paths: ['clone', 'snapshot'] as LoadPath[] };
const LOGICAL = { paths: ['logical'] as LoadPath[] };

/** In the order the definition lists them (the order a failure notification reads them in). */
export const PIPELINE: readonly PipelineState[] = [
  ...group('validating', 'checks')(
    'Validate the input',
    // A run whose target already took over resumes after the cutover (nothing before it runs again).
    'Read the cutover record on the target',
    'Is the target already the primary?',
  ),
  ...group('cutting-over', 'cutover')(
    ['Use the target admin found with the record', { fills: 'targetAdmin', refill: true }],
    ['Resume after the cutover', { fills: 'cutover', refill: true }],
  ),
  ...group('validating', 'checks')(['Run preflight checks', { fills: 'preflight' }], 'Did the preflight checks pass?'),
  ...failing('checks')('Preflight checks failed'),
  ...group('validating', 'checks')(['Check the databases', { fills: 'databaseChecks' }], ['Keep binlogs long enough', { fills: 'binlogs' }]),
  ...group('initial-load', 'initialLoad')('Which initial load?'),
  ...group('initial-load', 'initialLoad', { paths: ['snapshot'] })(['Snapshot the source', { fills: 'sourceSnapshot' }], 'Is the source snapshot available?', 'Wait for the source snapshot', ['Check the source snapshot', { fills: 'sourceSnapshot' }]),
  ...failing('initialLoad', ['snapshot'])('Source snapshot not available in time'),
  ...group('initial-load', 'initialLoad', { paths: ['snapshot'] })(
    'Is the snapshot for another account?',
    ['Share the snapshot', { fills: 'snapshotShare' }],
    ['Let the target use the KMS key for the snapshot', { fills: 'keyAccess' }],
    ['Copy the snapshot', { fills: 'snapshotCopy' }],
    'Is the snapshot copy available?',
    'Wait for the snapshot copy',
    ['Check the snapshot copy', { fills: 'snapshotCopy' }],
  ),
  ...failing('initialLoad', ['snapshot'])('Snapshot copy not available in time'),
  ...group('initial-load', 'initialLoad', { paths: ['snapshot'] })(['Restore the snapshot', { fills: 'clone' }], 'Is the restored cluster available?', 'Wait for the restored cluster', ['Check the restored cluster', { fills: 'clone' }]),
  ...failing('initialLoad', ['snapshot'])('Restored cluster not available in time'),
  ...group('initial-load', 'initialLoad', { paths: ['clone'] })(
    'Is it a same-account migration?',
    ['Share the cluster', { fills: 'share' }],
    ['Accept the share', { fills: 'shareAcceptance' }],
    ['Let the target use the KMS key', { fills: 'keyAccess' }],
    ['Clone the cluster', { fills: 'clone' }],
    'Is the clone available?',
    'Wait for the clone',
    ['Check the clone', { fills: 'clone' }],
  ),
  ...failing('initialLoad', ['clone'])('Clone not available in time'),
  // The writer, the master password and the binlog position serve both the clone and the restored snapshot.
  ...group('initial-load', 'initialLoad', CLUSTER)(['Create the writer', { fills: 'writer' }], 'Is the writer available?', 'Wait for the writer', ['Check the writer', { fills: 'writer' }]),
  ...failing('initialLoad', CLUSTER.paths)('Writer not available in time'),
  ...group('initial-load', 'initialLoad', CLUSTER)(['Reset the master password', { fills: 'targetAdmin' }], 'Wait for the master password', ['Check the master password', { fills: 'targetAdmin' }], 'Is the new master password in effect?'),
  ...failing('initialLoad', CLUSTER.paths)('Master password not reset in time'),
  ...group('initial-load', 'initialLoad', CLUSTER)(["Read the clone's binlog position", { fills: 'binlogPosition' }], 'Is the binlog position known?', 'Wait for the binlog position event'),
  ...failing('initialLoad', CLUSTER.paths)('Binlog position not found in time'),
  // The logical copy: a frozen source, then key-range windows fanned out by statemachine/copy.asl.yaml.
  ...group('initial-load', 'initialLoad', LOGICAL)(['Prepare the frozen source', { fills: 'frozenSource' }], 'Is the frozen source ready?', 'Wait for the frozen source', ['Check the frozen source', { fills: 'frozenSource' }]),
  ...failing('initialLoad', LOGICAL.paths)('Frozen source not ready in time'),
  ...group('initial-load', 'initialLoad', LOGICAL)(
    ['Plan the copy', { fills: 'copyPlan' }],
    'Start the copy',
    'Count the copy window',
    'Copy the data for one window',
    ['Keep the copy progress', { fills: 'copy', words: 'Copy the data for one window' }],
    'Is the copy done?',
  ),
  ...failing('initialLoad', LOGICAL.paths)('Copy not finished in time'),
  ...group('initial-load', 'initialLoad', LOGICAL)(['Finish the copy', { fills: 'logicalCopy' }], 'Are the secondary keys built?', 'Wait for the secondary keys'),
  ...failing('initialLoad', LOGICAL.paths)('Secondary keys not built in time'),
  ...group('initial-load', 'initialLoad', LOGICAL)(["Use the copy's binlog position", { fills: 'binlogPosition' }]),
  ...group('replicating', 'catchUp')(
    ['Create the replication user', { fills: 'replicationUser' }],
    ['Start replication on the target', { fills: 'replication' }],
    'Start watching replication',
    'Count the monitoring window',
    'Watch replication for one window',
    ['Keep the last lag check', { fills: 'lag', words: 'Check replication' }],
    'Is it caught up?',
  ),
  ...failing('catchUp')('Replication is broken', 'Replication did not catch up in time'),
  // The chunked data comparison (statemachine/verify.asl.yaml windows), once per execution, before the gate.
  ...group('comparing', 'verify')(
    'Has the data been compared?',
    ['Plan the comparison', { fills: 'diffPlan' }],
    'Start comparing',
    'Count the comparison window',
    'Compare source and target for one window',
    ["Keep the comparison's verdict", { fills: 'diff', words: 'Compare source and target for one window' }],
    'Is the comparison done?',
  ),
  ...failing('verify')('Comparison did not finish in time'),
  ...group('comparing', 'verify')('Did the comparison find differences?'),
  ...group('awaiting-approval', 'approval')('Is the approval manual?', ['Approve automatically', { fills: 'approval', words: 'Ask for cutover approval' }], ['Ask for cutover approval', { fills: 'approval' }]),
  ...failing('finish')('Report that approval was not given', 'Approval not given', 'Approval not given (unreported)'),
  ...group('cutting-over', 'cutover')(['Cut over', { fills: 'cutover' }], 'Check how far the cutover got', 'Did the cutover pass its point of no return?'),
  ...group('finishing', 'cutover')(['Keep the recorded cutover', { fills: 'cutover', refill: true }]),
  // A refused cutover (not ready: nothing changed) goes back to catching up.
  ...group('replicating', 'catchUp')('Count the cutover refusal', 'Has the cutover refused too often?', 'Wait before watching replication again'),
  ...failing('finish')('Cutover never ready'),
  ...group('finishing', 'cutover')(['Switch DNS', { fills: 'dns' }], ['Start reverse replication', { fills: 'reverse' }]),
  ...group('finishing', 'finish')('Report success'),
  ...group('succeeded', 'finish')('Migration complete'),
  ...group('finishing', 'finish')('Report the unfinished migration'),
  ...group('migrated-unfinished', 'finish')('Migrated, with unfinished steps', 'Migrated, with unfinished steps (unreported)'),
  ...failing('finish')('Report the failure', 'Fail', 'Fail with the original error'),
];

const BY_NAME = new Map(PIPELINE.map((s) => [s.name, s]));

/** The table's entry for a state name; undefined for a name it does not know (a newer definition). */
export function pipelineState(name: string): PipelineState | undefined {
  return BY_NAME.get(name);
}

/**
 * The last step whose result is in the state, in pipeline order, on the initial-load path the input
 * chose (the clone and the snapshot restore both fill `clone`). Only the first state filling a key on
 * that path names it: later ones (Check the clone) refine what it made.
 */
export function lastCompletedStep(state: Partial<MigrationState>): string | null {
  const method = (state.input as { initialLoad?: { method?: string } } | undefined)?.initialLoad?.method;
  const seen = new Set<string>();
  let last: string | null = null;
  for (const s of PIPELINE) {
    if (!s.fills || s.refill || (s.paths && method && !s.paths.includes(method as LoadPath)) || seen.has(s.fills)) continue;
    seen.add(s.fills);
    if (state[s.fills] !== undefined) last = s.words ?? s.name;
  }
  return last;
}
