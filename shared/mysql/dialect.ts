// The four dialects of design.md. Each knows how to configure, start, stop and forget an external
// source on a target, how to read its replica status, how to kill a session and how to keep binlogs.
// Aurora has no SUPER: everything goes through the mysql.rds_* procedures (emulated on MariaDB in tests).
import type { Engine } from '../input/schema.js';
import { errnoOf, q, type Conn } from './connection.js';

export interface ExternalSource {
  host: string;
  port: number;
  user: string;
  password: string;
  file: string;
  position: number;
  ssl: boolean;
}

export interface Dialect {
  engine: Engine;
  aurora: boolean;
  /** SQL that returns the replica status row (old or new column names). */
  statusSql: string;
  configureSource(conn: Conn, source: ExternalSource): Promise<void>;
  start(conn: Conn): Promise<void>;
  stop(conn: Conn): Promise<void>;
  /** Forgets the external source (after stop). */
  reset(conn: Conn): Promise<void>;
  kill(conn: Conn, id: number): Promise<void>;
  /**
   * Kills many sessions in one round trip (sessions already gone are skipped), where the engine can:
   * at the cutover one KILL per round trip costs milliseconds per application connection, all while
   * writes are blocked. Without it, kill() per session.
   */
  killMany?(conn: Conn, ids: number[]): Promise<void>;
  /** Aurora's writer cannot be made read-only with read_only (parameter not settable). */
  canSetReadOnly: boolean;
}

const mariadb: Dialect = {
  engine: 'mariadb',
  aurora: false,
  statusSql: 'SHOW SLAVE STATUS',
  canSetReadOnly: true,
  async configureSource(conn, s) {
    // Values are escaped by the client (mysql2 `?` substitution); CHANGE MASTER takes no server-side parameters.
    await q(
      conn,
      'CHANGE MASTER TO MASTER_HOST=?, MASTER_PORT=?, MASTER_USER=?, MASTER_PASSWORD=?, MASTER_LOG_FILE=?, MASTER_LOG_POS=?, MASTER_SSL=?, MASTER_USE_GTID=no, MASTER_CONNECT_RETRY=1',
      [s.host, s.port, s.user, s.password, s.file, s.position, s.ssl ? 1 : 0],
    );
  },
  start: async (conn) => void (await q(conn, 'START SLAVE')),
  stop: async (conn) => void (await q(conn, 'STOP SLAVE')),
  reset: async (conn) => void (await q(conn, 'RESET SLAVE ALL')),
  kill: async (conn, id) => void (await q(conn, 'KILL CONNECTION ?', [id])),
  // One anonymous compound statement (MariaDB >= 10.1; MySQL has none outside stored programs), so no
  // multi-statement connection is needed; 1094 (unknown thread: ended meanwhile) is not an error.
  async killMany(conn, ids) {
    for (let i = 0; i < ids.length; i += KILLS_PER_STATEMENT) {
      const kills = ids.slice(i, i + KILLS_PER_STATEMENT).map((id) => `KILL CONNECTION ${threadId(id)};`);
      await q(conn, `BEGIN NOT ATOMIC DECLARE CONTINUE HANDLER FOR 1094 BEGIN END; ${kills.join(' ')} END`);
    }
  },
};

const KILLS_PER_STATEMENT = 500;

/** A connection id as SQL text: only ever a whole number (ids come from PROCESSLIST). */
function threadId(id: number): string {
  if (!Number.isSafeInteger(id) || id < 0) throw new Error(`not a connection id: ${id}`);
  return String(id);
}

const mysql8: Dialect = {
  engine: 'mysql-8',
  aurora: false,
  statusSql: 'SHOW REPLICA STATUS',
  canSetReadOnly: true,
  async configureSource(conn, s) {
    await q(
      conn,
      'CHANGE REPLICATION SOURCE TO SOURCE_HOST=?, SOURCE_PORT=?, SOURCE_USER=?, SOURCE_PASSWORD=?, SOURCE_LOG_FILE=?, SOURCE_LOG_POS=?, SOURCE_SSL=?, SOURCE_CONNECT_RETRY=1' +
        // caching_sha2_password over plain TCP needs the server's RSA key.
        (s.ssl ? '' : ', GET_SOURCE_PUBLIC_KEY=1'),
      [s.host, s.port, s.user, s.password, s.file, s.position, s.ssl ? 1 : 0],
    );
  },
  start: async (conn) => void (await q(conn, 'START REPLICA')),
  stop: async (conn) => void (await q(conn, 'STOP REPLICA')),
  reset: async (conn) => void (await q(conn, 'RESET REPLICA ALL')),
  kill: async (conn, id) => void (await q(conn, 'KILL CONNECTION ?', [id])),
};

function aurora(engine: 'aurora-mysql-3' | 'aurora-mysql-2'): Dialect {
  const v3 = engine === 'aurora-mysql-3';
  return {
    engine,
    aurora: true,
    statusSql: v3 ? 'SHOW REPLICA STATUS' : 'SHOW SLAVE STATUS',
    canSetReadOnly: false,
    async configureSource(conn, s) {
      const proc = v3 ? 'mysql.rds_set_external_source' : 'mysql.rds_set_external_master';
      await q(conn, `CALL ${proc}(?, ?, ?, ?, ?, ?, ?)`, [s.host, s.port, s.user, s.password, s.file, s.position, s.ssl ? 1 : 0]);
    },
    start: async (conn) => void (await q(conn, 'CALL mysql.rds_start_replication')),
    stop: async (conn) => void (await q(conn, 'CALL mysql.rds_stop_replication')),
    reset: async (conn) => void (await q(conn, v3 ? 'CALL mysql.rds_reset_external_source' : 'CALL mysql.rds_reset_external_master')),
    kill: async (conn, id) => void (await q(conn, 'CALL mysql.rds_kill(?)', [id])),
  };
}

const DIALECTS: Record<Engine, Dialect> = {
  mariadb,
  'mysql-8': mysql8,
  'aurora-mysql-3': aurora('aurora-mysql-3'),
  'aurora-mysql-2': aurora('aurora-mysql-2'),
};

export function dialectFor(engine: Engine): Dialect {
  return DIALECTS[engine];
}

/** Engine from VERSION() and the mysql.rds_* procedures present (Aurora) when the input does not say. */
export async function detectEngine(conn: Conn): Promise<Engine> {
  const [row] = await q<{ v: string }>(conn, 'SELECT VERSION() AS v');
  const version = String(row?.v ?? '');
  if (/mysql_aurora\.3\./i.test(version)) return 'aurora-mysql-3';
  if (/mysql_aurora\.2\.|^5\.7\.mysql_aurora/i.test(version)) return 'aurora-mysql-2';
  const procs = await q<{ n: string }>(
    conn,
    "SELECT ROUTINE_NAME AS n FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'mysql' AND ROUTINE_NAME IN ('rds_set_external_source', 'rds_set_external_master')",
  );
  const names = new Set(procs.map((p) => p.n));
  if (names.has('rds_set_external_source')) return 'aurora-mysql-3';
  if (names.has('rds_set_external_master')) return 'aurora-mysql-2';
  if (/mariadb/i.test(version)) return 'mariadb';
  return 'mysql-8';
}

/** The input's engine when given, else detected. */
export async function resolveDialect(conn: Conn, engine: Engine | undefined): Promise<Dialect> {
  return dialectFor(engine ?? (await detectEngine(conn)));
}

/** SHOW MASTER STATUS (MySQL 8.4 renamed it SHOW BINARY LOG STATUS). */
export async function binlogStatus(conn: Conn): Promise<{ file: string; position: number } | null> {
  let rows: Record<string, unknown>[];
  try {
    rows = await q(conn, 'SHOW MASTER STATUS');
  } catch (err) {
    if (errnoOf((err as Error).cause) !== 1064) throw err;
    rows = await q(conn, 'SHOW BINARY LOG STATUS');
  }
  const row = rows[0];
  if (!row || !row.File) return null;
  return { file: String(row.File), position: Number(row.Position) };
}
