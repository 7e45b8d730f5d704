// The connections of one comparison worker: on each side a control connection and a snapshot
// connection (a consistent read must never share a session with LOCK TABLES or START/STOP SLAVE,
// which commit implicitly). Every session reads in UTC with utf8mb4 and a plain sql_mode, so both
// servers render TIMESTAMPs and CHARs the same way (no PAD_CHAR_TO_FULL_LENGTH).
import type { MigrationState } from '../state.js';
import { sourceEndpoint, targetEndpoint, type Endpoint } from '../endpoints.js';
import { sourceAdminCredentials, targetAdminCredentials } from '../db-credentials.js';
import { closeQuietly, openConnection, q, type Conn } from '../mysql/connection.js';
import { resolveDialect, type Dialect } from '../mysql/dialect.js';
import { skipBinlog } from '../mysql/skip-binlog.js';

export interface DiffSessions {
  sourceControl: Conn;
  sourceSnapshot: Conn;
  targetControl: Conn;
  targetSnapshot: Conn;
  sourceDialect: Dialect;
  targetDialect: Dialect;
  /** The target's bookkeeping writes stay out of its binlog. */
  binlogSkipped: boolean;
  /** Both servers are MariaDB, or both MySQL (JSON is compared as text only then). */
  sameFamily: boolean;
}

export async function prepareSession(conn: Conn): Promise<void> {
  await q(conn, "SET SESSION time_zone = '+00:00', sql_mode = 'NO_ENGINE_SUBSTITUTION', group_concat_max_len = 1048576");
}

/** Where the two servers are (resolved once by the planner, so Map workers need no more of the state). */
export interface DiffEndpoints {
  source: Endpoint;
  target: Endpoint;
}

export function diffEndpoints(state: Pick<MigrationState, 'input' | 'preflight' | 'clone'>): DiffEndpoints {
  return { source: sourceEndpoint(state), target: targetEndpoint(state) };
}

export async function openDiffSessions(state: Pick<MigrationState, 'input' | 'accounts'>, endpoints: DiffEndpoints): Promise<DiffSessions> {
  const opened: Conn[] = [];
  try {
    const [sc, tc] = await Promise.all([sourceAdminCredentials(state), targetAdminCredentials(state)]);
    const [se, te] = [endpoints.source, endpoints.target];
    for (let i = 0; i < 2; i++) opened.push(await openConnection(se, sc));
    for (let i = 0; i < 2; i++) opened.push(await openConnection(te, tc));
    for (const c of opened) await prepareSession(c);
    const [sourceControl, sourceSnapshot, targetControl, targetSnapshot] = opened as [Conn, Conn, Conn, Conn];
    const sourceDialect = await resolveDialect(sourceControl, state.input.source.engine);
    const targetDialect = await resolveDialect(targetControl, state.input.target.engine);
    const binlogSkipped = await skipBinlog(targetControl, targetDialect);
    const family = (d: Dialect) => (d.engine === 'mariadb' ? 'mariadb' : 'mysql');
    return { sourceControl, sourceSnapshot, targetControl, targetSnapshot, sourceDialect, targetDialect, binlogSkipped, sameFamily: family(sourceDialect) === family(targetDialect) };
  } catch (err) {
    await Promise.all(opened.map((c) => closeQuietly(c)));
    throw err;
  }
}

export async function closeDiffSessions(s: DiffSessions | null): Promise<void> {
  if (!s) return;
  await Promise.all([s.sourceControl, s.sourceSnapshot, s.targetControl, s.targetSnapshot].map((c) => closeQuietly(c)));
}
