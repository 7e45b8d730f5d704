// How source writes are blocked at cutover. read_only works where the engine lets us set it
// (MySQL, MariaDB); Aurora's writer ignores read_only, so there the network is closed instead
// (shared/aws/write-block-sg.ts). Either way application sessions are killed afterwards (sessions.ts).
import { logger } from '../logger.js';
import { redact } from '../redact.js';
import type { Conn } from './connection.js';
import { closeQuietly, q } from './connection.js';

/**
 * Ends, through a second connection, the application sessions that hold up a block waiting for their
 * statements (`blockerId`: the connection that is blocking, never to be killed).
 */
export type ClearTheWay = (other: Conn, blockerId: number) => Promise<void>;

export interface WriteBlocker {
  readonly method: 'read-only' | 'security-group' | string;
  /**
   * What undoing the block will need, read BEFORE blocking and stored on the target, so that an
   * invocation after a crash can undo a block it did not make itself (JSON-serialisable, no secrets).
   */
  plan(): Promise<unknown>;
  /**
   * Blocks writes; gives up by `deadline` (epoch ms) when given. A block that has to wait for running
   * statements calls `clearTheWay` (when given) until it is in place.
   */
  block(deadline?: number, clearTheWay?: ClearTheWay): Promise<void>;
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
/** A read_only that is not in place after this long waits for statements: clear the way. */
const CLEAR_AFTER_MS = 20;
const CLEAR_EVERY_MS = 20;

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
  async block(deadline = Date.now() + DEFAULT_BLOCK_MS, clearTheWay?: ClearTheWay): Promise<void> {
    const budgetMs = Math.max(1000, deadline - Date.now());
    // The server gives up the wait for running statements itself, within the budget.
    await q(this.conn, 'SET SESSION lock_wait_timeout = ?', [Math.max(1, Math.floor(budgetMs / 1000))]);
    const [{ id }] = await q<{ id: number }>(this.conn, 'SELECT CONNECTION_ID() AS id');
    const setting = q(this.conn, 'SET GLOBAL read_only = ON', [], budgetMs + 1000);
    const clearing = clearTheWay && this.openAnother ? this.clearWhileWaiting(setting, clearTheWay, Number(id), deadline) : Promise.resolve();
    try {
      await setting;
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
    } finally {
      // Stops by itself once the block is in place (a round of kills may still be finishing).
      await clearing;
    }
  }

  /**
   * read_only waits for every running write statement, and every new one queues behind it. Under an
   * OLTP load that is a deadlock the server does not see: a statement waiting for a row lock holds up
   * read_only, and the transaction holding that row waits behind read_only for its next statement (or
   * sits idle); a long UPDATE or INSERT ... SELECT holds it up for its whole run. Every application
   * session is killed right after the block anyway, so kill them now, until the block is in place.
   */
  private async clearWhileWaiting(setting: Promise<unknown>, clearTheWay: ClearTheWay, blockerId: number, deadline: number): Promise<void> {
    let done = false;
    const settled = setting.then(
      () => (done = true),
      () => (done = true),
    );
    // Wakes as soon as the block is in place (an uncontended block waits for nothing here).
    const pause = (ms: number) => Promise.race([settled, new Promise((r) => setTimeout(r, ms))]);
    let other: Conn | undefined;
    try {
      await pause(CLEAR_AFTER_MS);
      if (done) return;
      other = await this.openAnother!();
      while (!done && Date.now() < deadline) {
        await clearTheWay(other, blockerId);
        await pause(CLEAR_EVERY_MS);
      }
    } catch (err) {
      // The block itself still ends by its deadline; the kill step after it tries again.
      logger.warn('could not end the sessions holding up the write block', { error: redact((err as Error).message) });
    } finally {
      await closeQuietly(other);
    }
  }

  async unblock(): Promise<void> {
    await q(this.conn, 'SET GLOBAL read_only = OFF', [], DEFAULT_BLOCK_MS);
  }
  async undo(): Promise<void> {
    await this.unblock();
  }
}
