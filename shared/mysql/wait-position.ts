// Waits until the target has executed the source's binlog up to an exact position (polling the
// replica status works the same on every dialect; MASTER_POS_WAIT/SOURCE_POS_WAIT differ by version).
import type { BinlogPosition } from '../state.js';
import type { Conn } from './connection.js';
import type { Dialect } from './dialect.js';
import { replicationError } from './replication-errors.js';
import { readReplicaStatus } from './status.js';

export type WaitOutcome = { reached: true } | { reached: false; why: string };

export async function waitForExecuted(target: Conn, dialect: Dialect, pos: BinlogPosition, deadline: number, retentionHours: number, pollMs = 2): Promise<WaitOutcome> {
  for (;;) {
    const status = await readReplicaStatus(target, dialect);
    if (!status) return { reached: false, why: 'the target has no external source configured' };
    if (status.execFile === pos.file && (status.execPosition ?? 0) >= pos.position) return { reached: true };
    if (status.execFile && status.execFile > pos.file) return { reached: true };
    const broken = replicationError(status, { binlogRetentionHours: retentionHours });
    if (broken) return { reached: false, why: `${broken.name}: ${broken.message}` };
    if (Date.now() >= deadline) {
      return {
        reached: false,
        why: `the target had executed ${status.execFile}:${status.execPosition} but not the source's final position ${pos.file}:${pos.position} within cutover.catchUpTimeoutSeconds`,
      };
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
