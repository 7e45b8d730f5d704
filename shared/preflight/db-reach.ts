// Preflight: can we reach each database from where crossmove runs (a TCP connection to the MySQL
// port, then a login as the admin user)? A refused or timed-out port and a failed login get different
// fixes. Read-only: it opens connections and nothing else.
import { connect as tcpConnect } from 'node:net';
import { SecretError } from '../errors.js';
import type { Endpoint } from '../endpoints.js';
import { redact } from '../redact.js';
import type { DbCredentials } from '../secrets.js';
import { openConnection, type Conn } from '../mysql/connection.js';
import { fail, pass, warn, type CheckOutcome } from './checks.js';

export type SideName = 'source' | 'target';

const TCP_TIMEOUT_MS = 3_000;

/** Resolves null when the port accepts a TCP connection, else the error code (ECONNREFUSED, ETIMEDOUT, ...). */
function probePort(ep: Endpoint, timeoutMs = TCP_TIMEOUT_MS): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: ep.host, port: ep.port });
    const done = (why: string | null) => {
      socket.destroy();
      resolve(why);
    };
    socket.setTimeout(timeoutMs, () => done('ETIMEDOUT'));
    socket.once('connect', () => done(null));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

export interface Reached {
  check: CheckOutcome;
  conn: Conn | null;
  /** The admin user's name (crossmove's own sessions and grants are left out of the user checks). */
  username?: string;
}

export async function reach(side: SideName, ep: Endpoint, credentials: () => Promise<DbCredentials>, replicationNote = ''): Promise<Reached> {
  const id = `db-${side}-reachable`;
  const field = `${side}.adminSecret`;
  let creds: DbCredentials;
  try {
    creds = await credentials();
  } catch (err) {
    if (!(err instanceof SecretError)) throw err;
    return { conn: null, check: warn(id, `The ${side} database was not checked: ${field} does not resolve (see ${side}-admin-secret).`, `Fix ${field}, then run the preflight again.`) };
  }
  const tcp = await probePort(ep);
  if (tcp) {
    return {
      conn: null,
      check: fail(
        id,
        `Cannot open a TCP connection to the ${side} at ${ep.host}:${ep.port} from where crossmove runs (${tcp}).`,
        `Check ${side}.endpoint / the cluster endpoint, and allow inbound TCP ${ep.port} from crossmove's network (Lambda subnets or this machine) in the ${side}'s security group or firewall.`,
      ),
    };
  }
  try {
    const conn = await openConnection(ep, creds);
    return { conn, username: creds.username, check: pass(id, `The ${side} at ${ep.host}:${ep.port} accepts connections and the admin login.${replicationNote}`) };
  } catch (err) {
    return {
      conn: null,
      check: fail(id, `The ${side} port ${ep.host}:${ep.port} is open but logging in as ${creds.username} failed: ${redact((err as Error).message)}.`, `Check the credentials in ${field} and that the user may connect from crossmove's address.`),
    };
  }
}
