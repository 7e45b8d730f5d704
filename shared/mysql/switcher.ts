// The actions of the critical section (switch-primary.ts), one method each, in the order the switch
// calls them. Two implementations (Vitess's switcher / switcherDryRun): switcher-live.ts acts on the
// two servers, shared/plan/switch-recorder.ts writes down what each action would send, so that
// `crossmove plan` prints the switch by running the very procedure the cutover and the fallback run.
import type { BinlogPosition, ReplicationCheck } from '../state.js';
import type { GrantDiff } from './grants.js';
import type { KillOutcome } from './sessions.js';
import type { SwitchMarker, SwitchOutcome } from './switch-plan.js';
import type { WaitOutcome } from './wait-position.js';

export interface Switcher<R> {
  /** How the old primary's writes are blocked (read-only, security-group), for the log. */
  readonly blockMethod: string;
  /** Called before each step runs, with the step's name as CutoverResult.steps reports it. */
  announce(step: string, details: Record<string, unknown>): void;
  /** The direction's latest marker (kept on the new primary). */
  readMarker(): Promise<SwitchMarker<R> | null>;
  /** A previous invocation passed the point of no return: finish it. */
  finishAfterCrash(result: R): Promise<R>;
  /** A previous invocation died before the point of no return: undo its block, resume replication. */
  undoAfterCrash(marker: SwitchMarker<R>): Promise<void>;
  /** Replication old -> new healthy and its heartbeat lag, measured now. */
  checkReplication(): Promise<ReplicationCheck>;
  /** Kills the application's long transactions on the old primary and waits (until `deadline`) for their rollback. */
  endLongTransactions(deadline: number): Promise<KillOutcome>;
  /** What undoing the block will need, read before blocking. */
  planBlock(): Promise<unknown>;
  writeMarker(marker: SwitchMarker<R>): Promise<void>;
  /** Local and bench runs only: stops their heartbeat writer before the block (absent: no such step). */
  stopHeartbeatWriter?: () => Promise<void>;
  /** Blocks writes on the old primary, by `deadline` (epoch ms). */
  blockWrites(deadline: number): Promise<void>;
  /** Kills the application's sessions on the old primary; those still open at `deadline` are reported. */
  killSessions(deadline: number): Promise<KillOutcome>;
  /** SHOW MASTER STATUS on the old primary. */
  readOldPosition(): Promise<BinlogPosition | null>;
  /** Test and bench seam: runs right after the old primary's final position was read. */
  afterFinalPosition?: () => Promise<void>;
  /** Until the new primary executed `pos`, or `deadline`. */
  waitForPosition(pos: BinlogPosition, deadline: number): Promise<WaitOutcome>;
  /** Stops replication old -> new on the new primary. */
  stopReplication(): Promise<void>;
  /** SHOW MASTER STATUS on the new primary. */
  readNewPosition(): Promise<BinlogPosition | null>;
  /** The data check whose cost grows with the changes, never with the data (verify/cutover-check.ts). */
  verifyData(timeoutMs: number): Promise<{ tablesVerified: number; checksumsMatch: boolean | null }>;
  /** What the new primary lacks of the old one's users and grants, its lines naming the sides. */
  compareGrants(): Promise<GrantDiff>;
  /** Passing the point of no return (after its marker was written): from here nothing is rolled back. */
  pointOfNoReturn(what: string, details: Record<string, unknown>): void;
  /** Forgets replication old -> new on the new primary. */
  resetReplication(): Promise<void>;
  /** The two-primaries guard, then the new primary takes writes. */
  makeWritable(): Promise<void>;
  /** Before the point of no return: the old primary writable again, replication resumed. */
  rollBack(blockPlan: unknown, replicationStopped: boolean, why: string): Promise<void>;
  /** The direction's tasks after the switch, each a step; their failures come back as report lines. */
  afterSwitch(diff: GrantDiff | undefined, steps: SwitchOutcome['steps']): Promise<string[]>;
}
