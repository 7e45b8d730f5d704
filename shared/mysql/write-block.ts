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
  /** Blocks writes; gives up by `deadline` (epoch ms) when given. */
  block(deadline?: number): Promise<void>;
  /** Writes allowed again exactly as before block() (from what this instance did). */
  unblock(): Promise<void>;
  /** Rollback from a stored plan: works whatever happened to the block calls (the cutover's rollback uses it). */
  undo(plan: unknown): Promise<void>;
  /**
   * For a block that leaves read_only alone (a security group): is it in place right now? Read by the
   * two-primaries guard of primary-guard.ts before the other side is made writable.
   */
  inPlace?(): Promise<boolean>;
}

const DEFAULT_BLOCK_MS = 10_000;

export class ReadOnlyBlocker implements WriteBlocker {
  readonly method = 'read-only';
  /**
   * @param openAnother a second connection to the same server, to KILL QUERY a block that outlives the
   * client-side timeout (the server would otherwise keep waiting for the global lock, and every write
   * queues behind that wait).
   */
  constructor(private readonly conn: Conn, private readonly openAnother?: () => Promise<Conn>) {}
  async plan(): Promise<unknown> {
    return null;
  }
  async block(deadline = Date.now() + DEFAULT_BLOCK_MS): Promise<void> {
    const budgetMs = Math.max(1000, deadline - Date.now());
    // The server gives up the wait for running statements itself, within the budget.
    await q(this.conn, 'SET SESSION lock_wait_timeout = ?', [Math.max(1, Math.floor(budgetMs / 1000))]);
    const [{ id }] = await q<{ id: number }>(this.conn, 'SELECT CONNECTION_ID() AS id');
    try {
      await q(this.conn, 'SET GLOBAL read_only = ON', [], budgetMs + 1000);
    } catch (err) {
      if ((err as { cause?: { code?: string } }).cause?.code === 'PROTOCOL_SEQUENCE_TIMEOUT' && this.openAnother) {
        const other = await this.openAnother();
        try {
          await q(other, 'KILL QUERY ?', [Number(id)]);
        } finally {
          await other.end().catch(() => other.destroy());
        }
      }
      throw err;
    }
  }
  async unblock(): Promise<void> {
    await q(this.conn, 'SET GLOBAL read_only = OFF', [], DEFAULT_BLOCK_MS);
  }
  async undo(): Promise<void> {
    await this.unblock();
  }
}
