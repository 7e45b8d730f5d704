// "Copy chunks until the time budget": a frozen source must stay frozen while it is read. Read-only:
// its fingerprint is the source position its SQL thread executed (a replica) and its own binlog
// position (anything written to it moves that). Both are read before each claim and before each
// sub-chunk commits, so rows read from a source that moved are never committed.
import { FrozenSourceMovedError } from '../../errors.js';
import { binlogStatus, type Dialect } from '../../mysql/dialect.js';
import { readReplicaStatus } from '../../mysql/status.js';
import type { Conn } from '../../mysql/connection.js';
import type { FrozenFingerprint } from '../../state.js';

export async function readFingerprint(conn: Conn, dialect: Pick<Dialect, 'statusSql'>): Promise<FrozenFingerprint> {
  const status = await readReplicaStatus(conn, dialect as Dialect);
  const own = await binlogStatus(conn);
  return {
    executed: status?.execFile ? `${status.execFile}:${status.execPosition}` : null,
    own: own ? `${own.file}:${own.position}` : null,
  };
}

function describeFingerprint(f: FrozenFingerprint): string {
  return `executed ${f.executed ?? '(not a replica)'}, own binlog ${f.own ?? '(off)'}`;
}

/** Throws FrozenSourceMovedError when the frozen source is not where the copy found it. */
export async function assertStillFrozen(conn: Conn, dialect: Pick<Dialect, 'statusSql'>, expected: FrozenFingerprint, where: string): Promise<void> {
  const now = await readFingerprint(conn, dialect);
  if (now.executed === expected.executed && now.own === expected.own) return;
  throw new FrozenSourceMovedError(
    `The frozen source ${where} changed while it was copied (was ${describeFingerprint(expected)}, now ${describeFingerprint(now)}): its replication was started again or something wrote to it, so the rows copied so far are not one consistent point. ` +
      'Keep it stopped and read-only until the copy finishes; start the migration again to copy from a new frozen point (the ranges of this one are discarded).',
  );
}
