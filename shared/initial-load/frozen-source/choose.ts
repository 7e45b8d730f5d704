// Which frozen source a copy reads (read-only; used by "Prepare the frozen source", the preflight and
// plan): the input's kind, or for `auto` the cheapest one that keeps the copy consistent for as long as
// it takes. A live copy holds one snapshot in one process: locally that process runs the whole copy,
// on AWS one Lambda invocation must (about 10 minutes, so `auto` picks it only below that). Above it
// an Aurora source gets a clone in its own account (copy-on-write: no copy of the data, one instance
// while the copy runs), an RDS MySQL/MariaDB source named by sourceInstanceArn a read replica; a
// self-managed source needs a replica the user names.
import type { MigrationInput } from '../../input/validate.js';
import type { FrozenSourceKind } from '../../state.js';

/** What one chunk worker copies per second (bench:load on 2 shared cores gives more; a cautious figure for estimates). */
export const ESTIMATED_BYTES_PER_SECOND_PER_WORKER = 8 * 1024 * 1024;
/** A live copy on AWS must finish within one Lambda invocation: 15 minutes less the worker's margin and slack. */
export const LIVE_COPY_LIMIT_SECONDS = 600;

function estimatedCopySeconds(dataBytes: number, parallelism: number): number {
  return Math.ceil(dataBytes / (Math.max(1, parallelism) * ESTIMATED_BYTES_PER_SECOND_PER_WORKER));
}

export interface FrozenChoice {
  kind: FrozenSourceKind | null;
  /** Why this kind, or (kind null) why none applies and what to set. */
  reason: string;
  estimatedSeconds: number;
}

export function chooseFrozenSource(input: Pick<MigrationInput, 'source' | 'initialLoad'>, dataBytes: number, onAws: boolean): FrozenChoice {
  const load = input.initialLoad;
  const estimatedSeconds = estimatedCopySeconds(dataBytes, load.parallelism);
  const about = `the copy of ${(dataBytes / 1024 ** 3).toFixed(1)} GiB is estimated at ${formatSeconds(estimatedSeconds)} with ${load.parallelism} worker(s)`;
  const kind = load.frozenSource.kind;
  if (kind !== 'auto') {
    if (kind === 'live' && onAws && estimatedSeconds > LIVE_COPY_LIMIT_SECONDS) {
      return { kind: null, estimatedSeconds, reason: `${about}: too long for a live copy on AWS (one Lambda invocation, about ${LIVE_COPY_LIMIT_SECONDS / 60} minutes). Set initialLoad.frozenSource.kind to ${frozenAlternatives(input)}` };
    }
    return { kind, estimatedSeconds, reason: `initialLoad.frozenSource.kind ${kind}; ${about}` };
  }
  if (!onAws) return { kind: 'live', estimatedSeconds, reason: `a local run holds one snapshot for the whole copy; ${about}` };
  if (estimatedSeconds <= LIVE_COPY_LIMIT_SECONDS) return { kind: 'live', estimatedSeconds, reason: `${about}, within one invocation` };
  if (load.frozenSource.sourceInstanceArn) return { kind: 'rds-replica', estimatedSeconds, reason: `${about}: a read replica of ${load.frozenSource.sourceInstanceArn} stays frozen for as long as it takes` };
  if (input.source.clusterArn) return { kind: 'source-clone', estimatedSeconds, reason: `${about}: an Aurora clone in the source account stays frozen for as long as it takes` };
  return {
    kind: null,
    estimatedSeconds,
    reason: `${about}: too long for a live copy on AWS and nothing to freeze is known. Set initialLoad.frozenSource to ${frozenAlternatives(input)}`,
  };
}

function frozenAlternatives(input: Pick<MigrationInput, 'source'>): string {
  return input.source.clusterArn
    ? 'source-clone (an Aurora clone in the source account), or named-replica with the endpoint of a replica of the source'
    : 'rds-replica with sourceInstanceArn (an RDS MySQL/MariaDB source), or named-replica with the endpoint of a replica of the source';
}

export function formatSeconds(s: number): string {
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
