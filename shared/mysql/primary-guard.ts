// Never two writable primaries. Called right before any step makes a server writable: the switch's new
// primary (cutover: the target; fallback: the source), a rollback's or a crash undo's old primary, the
// network restored before a crashed cutover is undone. The OTHER side must not take application writes:
// read_only on, or (in a rollback) a replica of the server being reopened, or behind a write block that is
// checked now (a security group whose MySQL rules are gone). Otherwise the step is refused, naming both
// servers: staying blocked costs availability, two writable primaries split the data for good.
import { TwoWritablePrimariesError } from '../errors.js';
import { logger } from '../logger.js';
import { redact } from '../redact.js';
import { q, type Conn } from './connection.js';
import type { Dialect } from './dialect.js';
import { readReplicaStatus } from './status.js';
import type { SideName } from './switch-words.js';

export interface ServerRef {
  name: SideName;
  /** host:port as crossmove reaches it (null: read from the server). */
  address: string | null;
}

export interface OtherServer extends ServerRef {
  /** An admin connection, or null when the server cannot be reached. */
  conn: Conn | null;
  dialect: Dialect | null;
  /**
   * It is expected to replicate from the server made writable (a rollback: the new primary still
   * follows the old one). Only then does being a replica count as not taking writes: a source that is
   * itself a replica of some upstream may still take writes with read_only off.
   */
  replicaOfBecoming?: boolean;
  /** A network write block keeping applications off it (its read_only may be off): checked now. */
  networkBlock?: { method: string; inPlace: () => Promise<boolean> };
  /**
   * Why a server crossmove cannot read is known not to take writes, e.g. "the cutover
   * blocked it and verified its binlog stood still before its point of no return". Without it an
   * unreachable other side is refused.
   */
  knownBlocked?: string;
}

interface Verdict {
  takesWrites: boolean;
  why: string;
  address: string;
}

/** Does the other side take application writes right now? */
async function writesVerdict(other: OtherServer): Promise<Verdict> {
  let address = other.address ?? `the ${other.name}`;
  let readable: { readOnly: boolean; replicaOf: string | null } | null = null;
  let unreachable = '';
  if (other.conn && other.dialect) {
    try {
      const [row] = await q<{ ro: number | string; h: string; p: number }>(other.conn, 'SELECT @@global.read_only AS ro, @@hostname AS h, @@port AS p');
      if (!other.address && row) address = `${row.h}:${row.p}`;
      const status = await readReplicaStatus(other.conn, other.dialect);
      readable = { readOnly: Number(row?.ro) === 1, replicaOf: status ? `${status.sourceHost}:${status.sourcePort}` : null };
    } catch (err) {
      unreachable = `${(err as Error).name}: ${redact((err as Error).message)}`;
    }
  } else unreachable = 'no connection';
  if (readable?.readOnly) return { takesWrites: false, why: 'read_only is ON', address };
  if (readable?.replicaOf && other.replicaOfBecoming) return { takesWrites: false, why: `it is a replica of ${readable.replicaOf}`, address };
  if (other.networkBlock && (await other.networkBlock.inPlace())) return { takesWrites: false, why: `its ${other.networkBlock.method} write block is in place`, address };
  if (!readable) {
    if (other.knownBlocked) return { takesWrites: false, why: `it cannot be checked (${unreachable}), but ${other.knownBlocked}`, address };
    return { takesWrites: true, why: `it cannot be checked (${unreachable}), so it may take writes`, address };
  }
  return {
    takesWrites: true,
    why: `read_only is OFF${readable.replicaOf ? ` (it replicates from ${readable.replicaOf}, not from the server made writable)` : ', it replicates from nowhere'}${other.networkBlock ? ` and its ${other.networkBlock.method} write block is not in place` : ''}`,
    address,
  };
}

/**
 * Refuses (TwoWritablePrimariesError, naming both servers) when `becoming` would be made writable while
 * `other` takes writes too. `doing` says what was about to happen, for the message.
 */
export async function assertNoOtherWritablePrimary(becoming: ServerRef, other: OtherServer, doing: string): Promise<void> {
  const v = await writesVerdict(other);
  const here = becoming.address ?? `the ${becoming.name}`;
  if (!v.takesWrites) {
    logger.info(`two-primaries guard: ${doing}: the ${other.name} (${v.address}) takes no writes (${v.why})`);
    return;
  }
  throw new TwoWritablePrimariesError(
    `Refused to ${doing}: the ${becoming.name} (${here}) would take writes while the ${other.name} (${v.address}) takes writes too (${v.why}). ` +
      `Two writable primaries would split the data. Nothing was made writable. Block writes on the ${other.name} (${v.address}) first ` +
      `(SET GLOBAL read_only = ON, or its security-group write block), or decide by hand which server is the primary, then run the step again.`,
  );
}
