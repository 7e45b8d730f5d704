// Keeps the comparison from hurting the application: before each sub-chunk it waits while the
// replica's heartbeat lag is above verify.maxLagSeconds (pt-table-checksum's --max-lag) and paces the
// rows read to verify.maxRowsPerSecond (0 = unlimited). Lag is judged from a heartbeat written on the
// source at most once a second and looked for on the target a second later (no waiting for it);
// while it waits the worker's lease is renewed so nobody takes its range over.
import { replicatedHeartbeat, writeHeartbeat } from '../mysql/heartbeat.js';
import type { Conn } from '../mysql/connection.js';
import type { Budget } from '../chunks/budget.js';

export interface ThrottleOptions {
  maxLagSeconds: number;
  maxRowsPerSecond: number;
  heartbeatSchema: string;
  /** Called every few seconds while waiting (lease renewal). */
  onWait?: () => Promise<void>;
}

export interface ThrottleFigures {
  waitedMs: number;
  lagChecks: number;
  lastLagMs: number | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Throttle {
  readonly figures: ThrottleFigures = { waitedMs: 0, lagChecks: 0, lastLagMs: null };
  private lastLagCheck = 0;
  private readonly started = Date.now();
  private rows = 0;
  private heartbeatBroken = false;
  private pending: { beat: number; at: number } | null = null;

  constructor(
    private readonly source: Conn,
    private readonly target: Conn,
    private readonly opts: ThrottleOptions,
  ) {}

  /** Waits until reading `rows` more rows keeps within the limits (or the budget runs out). */
  async beforeRows(rows: number, budget: Budget): Promise<void> {
    const t0 = Date.now();
    if (this.opts.maxRowsPerSecond > 0) {
      const earliest = this.started + ((this.rows + rows) / this.opts.maxRowsPerSecond) * 1000;
      while (Date.now() < earliest && !budget.expired()) await this.pause(Math.min(2000, earliest - Date.now()));
    }
    this.rows += rows;
    while (!budget.expired() && (await this.lagAbove())) await this.pause(1000);
    this.figures.waitedMs += Date.now() - t0;
  }

  private async pause(ms: number): Promise<void> {
    await sleep(Math.max(0, ms));
    await this.opts.onWait?.();
  }

  /**
   * Without waiting for it: a beat written on the source at most once a second, and on the next call
   * a look at whether the target shows it. Shown: the lag is below the time since it was written (a
   * new beat goes out). Not shown after maxLagSeconds: the lag is above the limit.
   */
  private async lagAbove(): Promise<boolean> {
    if (this.heartbeatBroken || this.opts.maxLagSeconds <= 0 || Date.now() - this.lastLagCheck < 1000) return false;
    this.lastLagCheck = Date.now();
    try {
      if (this.pending) {
        const seen = await replicatedHeartbeat(this.target, this.opts.heartbeatSchema);
        const age = Date.now() - this.pending.at;
        this.figures.lagChecks++;
        if (seen === null || seen < this.pending.beat) {
          this.figures.lastLagMs = age;
          return age >= this.opts.maxLagSeconds * 1000;
        }
        this.figures.lastLagMs = Math.min(age, this.figures.lastLagMs ?? age);
      }
      this.pending = { beat: await writeHeartbeat(this.source, this.opts.heartbeatSchema), at: Date.now() };
      return false;
    } catch {
      // No heartbeat table (a comparison outside a migration): compare without the lag limit.
      this.heartbeatBroken = true;
      return false;
    }
  }
}
