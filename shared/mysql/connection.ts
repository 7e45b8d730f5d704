// MySQL connections for the steps. Credentials come from secret references (never from the payload);
// connect and query timeouts are short because every step is a Lambda with a bounded duration and a
// hung socket must surface as a TransientError the state machine retries, not as a Lambda timeout.
import mysql from 'mysql2/promise';
import { CrossmoveError, TransientError } from '../errors.js';
import { redact } from '../redact.js';
import type { DbCredentials } from '../secrets.js';
import type { Endpoint } from '../endpoints.js';

export type Conn = mysql.Connection;

export const CONNECT_TIMEOUT_MS = 5_000;
export const QUERY_TIMEOUT_MS = 30_000;

/** MySQL/MariaDB error numbers that mean "try again" (network, server restarting, lock wait). */
const TRANSIENT_ERRNOS = new Set([1040, 1053, 1205, 1213, 2002, 2003, 2006, 2013, 1927]);
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'EHOSTUNREACH']);

/**
 * TLS for admin connections: on for anything but loopback (Lambda's Node runtimes trust the RDS CA),
 * overridable with CROSSMOVE_DB_TLS=off|on|skip-verify.
 */
export function tlsFor(host: string): mysql.SslOptions | undefined {
  const mode = process.env.CROSSMOVE_DB_TLS ?? (isLoopback(host) ? 'off' : 'on');
  if (mode === 'off') return undefined;
  return { rejectUnauthorized: mode !== 'skip-verify' };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '::1';
}

export async function openConnection(endpoint: Endpoint, creds: DbCredentials, options: { database?: string } = {}): Promise<Conn> {
  try {
    return await mysql.createConnection({
      host: endpoint.host,
      port: endpoint.port,
      user: creds.username,
      password: creds.password,
      database: options.database,
      connectTimeout: CONNECT_TIMEOUT_MS,
      ssl: tlsFor(endpoint.host),
      // Big integers and DATETIME(6) stay exact.
      supportBigNumbers: true,
      bigNumberStrings: false,
      dateStrings: true,
    });
  } catch (err) {
    throw asDbError(err, `connecting to ${endpoint.host}:${endpoint.port} as ${creds.username}`);
  }
}

/** Runs one statement with a timeout; returns rows (SELECT/SHOW/CALL result set) or the OK packet. */
export async function q<T = Record<string, unknown>>(conn: Conn, sql: string, params: unknown[] = [], timeoutMs = QUERY_TIMEOUT_MS): Promise<T[]> {
  try {
    const [rows] = await conn.query({ sql, values: params, timeout: timeoutMs });
    if (!Array.isArray(rows)) return [];
    // CALL returns [resultSet, ..., OkPacket]: take the first result set.
    if (rows.length && Array.isArray(rows[0])) return rows[0] as T[];
    return rows as T[];
  } catch (err) {
    throw asDbError(err, firstWords(sql));
  }
}

export async function closeQuietly(conn: Conn | undefined): Promise<void> {
  if (!conn) return;
  try {
    await conn.end();
  } catch {
    conn.destroy();
  }
}

export function errnoOf(err: unknown): number | undefined {
  return (err as { errno?: number })?.errno;
}

/** Network and restart errors become TransientError (retried); others keep their MySQL text, redacted. */
export function asDbError(err: unknown, doing: string): Error {
  if (err instanceof CrossmoveError) return err; // already typed
  const e = err as { errno?: number; code?: string; message?: string };
  const text = redact(`${doing}: ${e?.code ?? ''}${e?.errno ? ` (${e.errno})` : ''} ${e?.message ?? String(err)}`.trim());
  if ((e?.errno && TRANSIENT_ERRNOS.has(e.errno)) || (e?.code && TRANSIENT_CODES.has(e.code))) {
    return new TransientError(text, { cause: err });
  }
  const out = new Error(text, { cause: err }) as Error & { errno?: number; code?: string };
  out.errno = e?.errno;
  out.code = e?.code;
  return out;
}

function firstWords(sql: string): string {
  return redact(sql.replace(/\s+/g, ' ').trim().split(' ').slice(0, 6).join(' '));
}

/** Quotes an identifier (schema, table) for SQL built from catalog names. */
export function ident(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}
