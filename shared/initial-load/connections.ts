// Connections the logical copy uses. Both sides run in UTC with utf8mb4 and a fixed sql_mode, so a
// TIMESTAMP read on the source is written back as the same instant and every string as the same bytes.
// Rows are read with typeCast false: each value arrives as the exact bytes the server sent (text
// protocol), and shared/initial-load/values.ts turns those bytes into SQL literals without parsing them
// into JS numbers or dates (where DECIMAL, BIGINT, DATETIME(6) or zero dates would lose information).
import type mysql from 'mysql2/promise';
import { tlsError, tlsFor } from '../mysql/connection.js';
import type { Endpoint } from '../endpoints.js';
import type { DbCredentials } from '../secrets.js';

export type Conn = mysql.Connection;

/**
 * The target session's sql_mode while loading. As mysqldump does: a 0 in an AUTO_INCREMENT column
 * stays 0. ALLOW_INVALID_DATES: a source that allowed '2020-02-31' keeps it (without it the target
 * stores 0000-00-00). Not strict: the target stores what the source holds, and any warning stops the
 * copy instead (rows.ts).
 */
export const TARGET_SQL_MODE = 'NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES';

export async function openConnection(endpoint: Endpoint, creds: DbCredentials, side: 'source' | 'target'): Promise<Conn> {
  // mysql2 is loaded at the first connection, as in shared/mysql/connection.ts: not at a handler's import.
  const { createConnection } = await import('mysql2/promise');
  const conn = await createConnection({
    // The copy carries every row: the same TLS (RDS CA bundle, CROSSMOVE_DB_CA) as the admin sessions.
    ssl: tlsFor(endpoint.host),
    host: endpoint.host,
    port: endpoint.port,
    user: creds.username,
    password: creds.password,
    charset: 'UTF8MB4_GENERAL_CI',
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    connectTimeout: 15_000,
  }).catch((err: unknown) => {
    throw tlsError(err, endpoint) ?? err;
  });
  await conn.query("SET SESSION time_zone = '+00:00'");
  if (side === 'source') {
    // A worker's stream is paused while the target absorbs a batch: the server must not give up on it.
    await conn.query('SET SESSION net_write_timeout = 3600, net_read_timeout = 3600');
  } else {
    await conn.query(`SET SESSION sql_mode = '${TARGET_SQL_MODE}'`);
    // Every warning of a load is read back (rows.ts): the server must list them all, not the first 64.
    await conn.query('SET SESSION max_error_count = 65535');
    // Rows arrive in any table order, so foreign keys are not checked while loading. unique_checks
    // stays on: with it off InnoDB may buffer a unique secondary key's inserts unchecked, and a row
    // loaded twice into a table keyed by one would go unnoticed; measured, turning it off saved no time.
    await conn.query('SET SESSION foreign_key_checks = 0');
  }
  return conn;
}

export async function closeQuietly(conns: (Conn | undefined)[]): Promise<void> {
  await Promise.all(conns.map((c) => c?.end().catch(() => c.destroy())));
}

export const q = (name: string) => '`' + name.replaceAll('`', '``') + '`';
