// How source writes are blocked at cutover. read_only works where the engine lets us set it
// (MySQL, MariaDB); Aurora's writer ignores read_only, so there the network is closed instead
// (write-block-sg.ts). Either way application sessions are killed afterwards (sessions.ts).
import type { Conn } from './connection.js';
import { q } from './connection.js';

export interface WriteBlocker {
  readonly method: 'read-only' | 'security-group' | string;
  /**
   * What undoing the block will need, read BEFORE blocking and stored on the target, so that an
   * invocation after a crash can undo a block it did not make itself (JSON-serialisable, no secrets).
   */
  plan(): Promise<unknown>;
  block(): Promise<void>;
  /** Rollback: writes allowed again exactly as before block(). */
  unblock(): Promise<void>;
  /** Rollback from a stored plan (the invocation that blocked is gone). */
  undo(plan: unknown): Promise<void>;
}

export class ReadOnlyBlocker implements WriteBlocker {
  readonly method = 'read-only';
  constructor(private readonly conn: Conn, private readonly timeoutMs = 10_000) {}
  async plan(): Promise<unknown> {
    return null;
  }
  async block(): Promise<void> {
    // Waits for running commits; bounded so a long transaction cannot hold the cutover.
    await q(this.conn, 'SET GLOBAL read_only = ON', [], this.timeoutMs);
  }
  async unblock(): Promise<void> {
    await q(this.conn, 'SET GLOBAL read_only = OFF', [], this.timeoutMs);
  }
  async undo(): Promise<void> {
    await this.unblock();
  }
}
