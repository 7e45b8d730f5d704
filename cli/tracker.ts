// Follows a local run from the runner's events: the current state, time spent per phase, the copy's
// progress, every lag check, and the last state payload. The display draws from it and the report is
// built from it. Pure bookkeeping: no I/O.
import type { RunEvent } from '../local/run-state-machine.js';
import type { CopyProgress } from '../shared/initial-load/index.js';
import type { MigrationState, ReplicationCheck } from '../shared/state.js';
import type { DiffSummary } from '../shared/verify/diff-report.js';
import { pipelineState, STAGES, type Stage } from '../shared/pipeline.js';

/** The local run's time buckets (shared/pipeline.ts). */
export type Phase = Stage;
export const PHASES = STAGES;

export interface LagSample {
  at: number;
  heartbeatLagMs: number | null;
  byteLag: number | null;
  secondsBehind: number | null;
  healthy: boolean;
  caughtUp: boolean;
}

export class RunTracker {
  readonly startedAt = Date.now();
  phase: Phase | null = null;
  currentState: string | null = null;
  readonly phaseStart = new Map<Phase, number>();
  readonly phaseEnd = new Map<Phase, number>();
  readonly stateMs: { state: string; ms: number }[] = [];
  private readonly entered = new Map<string, number>();
  readonly lag: LagSample[] = [];
  copy: CopyProgress | null = null;
  /** The comparison's last check (rounds), and rows compared since it (live, from the workers). */
  diff: DiffSummary | null = null;
  diffRowsSinceCheck = 0;
  lastState: Partial<MigrationState> | null = null;
  finishedAt: number | null = null;
  /** Listeners for named moments (the demo repoints its application when "Switch DNS" completes). */
  onStateExited?: (state: string, payload: unknown) => void;

  handle(ev: RunEvent): void {
    if (ev.execution !== 'migration') {
      if (ev.type === 'StateExited' && ev.state === 'Check replication') {
        const lag = (ev.payload as { lag?: ReplicationCheck } | undefined)?.lag;
        if (lag) this.addLag(lag, ev.timestamp);
      }
      if (ev.type === 'StateExited' && ev.state === 'Check the comparison') {
        const diff = (ev.payload as { diff?: DiffSummary } | undefined)?.diff;
        if (diff) {
          this.diff = diff;
          this.diffRowsSinceCheck = 0;
        }
      }
      return;
    }
    if (ev.type === 'StateEntered' && ev.state) {
      this.currentState = ev.state;
      this.entered.set(ev.state, ev.timestamp);
      const phase = phaseOf(ev.state) ?? this.phase;
      if (phase && phase !== this.phase) {
        if (this.phase) this.phaseEnd.set(this.phase, ev.timestamp);
        this.phase = phase;
        if (!this.phaseStart.has(phase)) this.phaseStart.set(phase, ev.timestamp);
        this.phaseEnd.delete(phase);
      }
    } else if (ev.type === 'StateExited' && ev.state) {
      const since = this.entered.get(ev.state);
      if (since !== undefined && ev.stateType === 'Task') this.stateMs.push({ state: ev.state, ms: ev.timestamp - since });
      if (ev.payload && typeof ev.payload === 'object') this.lastState = ev.payload as Partial<MigrationState>;
      if (ev.state === 'Keep the last lag check' && this.lastState?.lag) this.addLag(this.lastState.lag, ev.timestamp, true);
      this.onStateExited?.(ev.state, ev.payload);
    } else if (ev.type === 'ExecutionSucceeded' || ev.type === 'ExecutionFailed' || ev.type === 'ExecutionTerminated') {
      this.finish(ev.timestamp);
    }
  }

  finish(at = Date.now()): void {
    if (this.finishedAt) return;
    this.finishedAt = at;
    if (this.phase) this.phaseEnd.set(this.phase, at);
    this.currentState = null;
  }

  phaseMs(phase: Phase): number | null {
    const start = this.phaseStart.get(phase);
    if (start === undefined) return null;
    return (this.phaseEnd.get(phase) ?? Date.now()) - start;
  }

  stateDuration(state: string): number | null {
    return this.stateMs.find((s) => s.state === state)?.ms ?? null;
  }

  private addLag(lag: ReplicationCheck, at: number, dedupe = false): void {
    const last = this.lag.at(-1);
    if (dedupe && last && last.heartbeatLagMs === lag.heartbeatLagMs && last.byteLag === lag.byteLag && last.caughtUp === lag.caughtUp) return;
    this.lag.push({
      at,
      heartbeatLagMs: lag.heartbeatLagMs,
      byteLag: lag.byteLag,
      secondsBehind: lag.secondsBehind,
      healthy: lag.healthy,
      caughtUp: lag.caughtUp,
    });
  }

  lagSummary(): { method: 'heartbeat' | 'seconds-behind' | 'none'; samples: number; p50Ms: number | null; maxMs: number | null } {
    const hb = this.lag.map((s) => s.heartbeatLagMs).filter((v): v is number => v !== null);
    const values = hb.length ? hb : this.lag.map((s) => s.secondsBehind).filter((v): v is number => v !== null).map((s) => s * 1000);
    if (!values.length) return { method: 'none', samples: 0, p50Ms: null, maxMs: null };
    const sorted = [...values].sort((a, b) => a - b);
    return {
      method: hb.length ? 'heartbeat' : 'seconds-behind',
      samples: values.length,
      p50Ms: sorted[Math.floor((sorted.length - 1) / 2)]!,
      maxMs: sorted.at(-1)!,
    };
  }
}

/** Unknown names (a child execution's states) keep the stage they follow. */
function phaseOf(state: string): Phase | undefined {
  return pipelineState(state)?.stage;
}
