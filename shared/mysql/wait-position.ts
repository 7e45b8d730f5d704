// Waits until the target has executed the source's binlog up to an exact position (polling the
// replica status works the same on every dialect; MASTER_POS_WAIT/SOURCE_POS_WAIT differ by version).
import type { BinlogPosition } from '../state.js';
import type { Conn } from './connection.js';
import type { Dialect } from './dialect.js';
import { replicationError } from './replication-errors.js';
import { readReplicaStatus } from './status.js';
import { CUTOVER_SIDES, type SidePair } from './switch-sides.js';

/** Why the replica did not reach the position: the switch picks its rollback advice from the kind. */
export type WaitFailure =
  | { kind: 'timeout'; executed: { file: string | null; position: number | null }; wanted: BinlogPosition }
  | { kind: 'applier-error'; errorName: string; message: string }
  | { kind: 'no-external-source' };

export type WaitOutcome = { reached: true } | { reached: false; reason: WaitFailure; why: string };

/** The failure in words, with the sides named as the caller calls them (the replica is `newSide`). */
export function waitFailureText(reason: WaitFailure, sides: SidePair = CUTOVER_SIDES): string {
  switch (reason.kind) {
    case 'no-external-source':
      return `the ${sides.newSide} has no external source configured`;
    case 'applier-error':
      return `${reason.errorName}: ${reason.message}`;
    case 'timeout':
      return `the ${sides.newSide} had executed ${reason.executed.file}:${reason.executed.position} but not the ${sides.oldSide}'s final position ${reason.wanted.file}:${reason.wanted.position} within cutover.catchUpTimeoutSeconds`;
  }
}

export async function waitForExecuted(
  target: Conn,
  dialect: Dialect,
  pos: BinlogPosition,
  deadline: number,
  retentionHours: number,
  sides: SidePair = CUTOVER_SIDES,
  pollMs = 2,
): Promise<WaitOutcome> {
  const failed = (reason: WaitFailure): WaitOutcome => ({ reached: false, reason, why: waitFailureText(reason, sides) });
  for (;;) {
    const status = await readReplicaStatus(target, dialect);
    if (!status) return failed({ kind: 'no-external-source' });
    if (status.execFile === pos.file && (status.execPosition ?? 0) >= pos.position) return { reached: true };
    if (status.execFile && status.execFile > pos.file) return { reached: true };
    const broken = replicationError(status, { binlogRetentionHours: retentionHours });
    if (broken) return failed({ kind: 'applier-error', errorName: broken.name, message: broken.message });
    if (Date.now() >= deadline) return failed({ kind: 'timeout', executed: { file: status.execFile, position: status.execPosition }, wanted: pos });
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
