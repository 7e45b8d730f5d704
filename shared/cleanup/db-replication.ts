// Cleanup, database half: reverse replication on the old source (stopped and forgotten) and the two
// replication users (forward on the source, reverse on the target). Each only when it is crossmove's
// (the reverse link must use crossmove's reverse user; users are the '%' accounts crossmove made).
import { logStep } from '../logger.js';
import type { CleanupItem } from '../state.js';
import { q, type Conn } from '../mysql/connection.js';
import type { Dialect } from '../mysql/dialect.js';
import { readReplicaStatus } from '../mysql/status.js';
import { item } from './types.js';

export async function removeReverseReplication(source: Conn, dialect: Dialect, reverseUser: string): Promise<CleanupItem> {
  const status = await readReplicaStatus(source, dialect);
  if (!status) return item('reverse-replication', 'source <- target', null, 'gone');
  const link = `source <- ${status.sourceHost}:${status.sourcePort}`;
  if (status.sourceUser !== reverseUser) {
    return item('reverse-replication', link, null, 'kept', `the source replicates as ${status.sourceUser ?? 'an unknown user'}, not crossmove's reverse user ${reverseUser}: left alone`);
  }
  logStep('stop and forget reverse replication on the source', { link });
  if (status.sqlRunning || status.ioState !== 'No') await dialect.stop(source);
  await dialect.reset(source);
  return item('reverse-replication', link, null, 'removed', 'stopped and reset: the fallback is no longer possible');
}

export async function dropReplicationUser(conn: Conn, kind: 'replication-user' | 'reverse-replication-user', user: string, side: 'source' | 'target'): Promise<CleanupItem> {
  const id = `'${user}'@'%' on the ${side}`;
  const [row] = await q<{ n: number }>(conn, "SELECT COUNT(*) AS n FROM mysql.user WHERE User = ? AND Host = '%'", [user]);
  if (!Number(row?.n)) return item(kind, id, null, 'gone');
  logStep(`drop the ${kind === 'replication-user' ? 'replication' : 'reverse replication'} user`, { user, side });
  await q(conn, "DROP USER IF EXISTS ?@'%'", [user]);
  return item(kind, id, null, 'removed');
}
