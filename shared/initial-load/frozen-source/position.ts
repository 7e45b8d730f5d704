// Read-only: a frozen point is only worth copying while the source still holds its binlog position,
// since replication into the target starts there (purged: IO error 1236 later).
import { FrozenSourceError } from '../../errors.js';
import { q, type Conn } from '../../mysql/connection.js';
import type { BinlogPosition } from '../../state.js';

/** The frozen position must still be in the source's binlogs: replication into the target starts there. */
export async function assertPositionOnSource(source: Conn, position: BinlogPosition, what: string): Promise<void> {
  const logs = await q<{ Log_name: string }>(source, 'SHOW BINARY LOGS');
  if (logs.some((l) => l.Log_name === position.file)) return;
  throw new FrozenSourceError(
    `${what} stands at ${position.file}:${position.position}, which the source no longer holds in its binlogs (purged): replication from it would fail. ` +
      'Raise replication.binlogRetentionHours, let the frozen source move on (start its replication again, or delete it with crossmove cleanup) and start the migration again.',
  );
}

