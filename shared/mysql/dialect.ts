// The dialects of design.md, plus RDS for MySQL. Each knows how to configure, start, stop and forget an
// external source on a target, how to encrypt that replication, how to read its replica status, how to
// kill a session, keep binlogs and make the server read-only. Managed servers (Aurora, RDS for MySQL)
// give their admin user no SUPER: everything goes through the mysql.rds_* procedures (emulated on
// MariaDB in tests, test/support/aurora-emulation.ts).
import { ReplicationSslUnsupportedError } from '../errors.js';
import type { Engine } from '../input/schema.js';
import { errnoOf, q, type Conn } from './connection.js';
import { describeServer, detectServer, versionAtLeast, type ServerIdentity } from './detect.js';

export type { ServerIdentity } from './detect.js';

interface ExternalSource {
  host: string;
  port: number;
  user: string;
  password: string;
  file: string;
  position: number;
  ssl: boolean;
  /** Aurora MySQL 3: the source's CA and a client certificate were imported (mysql.rds_import_binlog_ssl_material). */
  sslMaterialImported?: boolean;
}

/** Whether, and how, this replica can encrypt its replication connection. */
interface ReplicationSslSupport {
  possible: boolean;
  /** How it is done (possible) or why it cannot be (not possible), for messages. */
  how: string;
  /** What the operator must do when it is not possible. */
  fix?: string;
}

export interface Dialect {
  engine: Engine;
  /** Aurora MySQL (aurora_version(), clusters, the Aurora-only procedures). */
  aurora: boolean;
  /** Managed by RDS (Aurora or RDS for MySQL): no SUPER; binlog retention, kill and replication through mysql.rds_* procedures. */
  managed: boolean;
  /** What detection found when the engine was not given in the input. */
  server?: ServerIdentity;
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
  /**
   * SET GLOBAL read_only blocks every application session (a source write block). Managed servers do
   * not let the admin user set it; Aurora 3.06+ has mysql.rds_set_read_only (setReadOnly below), but
   * its master user bypasses read_only (CONNECTION_ADMIN), so it is not a write block for the cutover.
   */
  canSetReadOnly: boolean;
  /** Turns read_only on or off; false when this server offers no way to (nothing changed). */
  setReadOnly(conn: Conn, on: boolean): Promise<boolean>;
  /** Encrypted replication into this server as a replica. */
  replicationSsl(opts: { materialImported: boolean }): ReplicationSslSupport;
  /** Largest binlog retention the server accepts, in hours (null: no limit crossmove knows of). */
  maxRetentionHours: number | null;
}

/** The replica does not verify the source's certificate: no CA file is configured for it. */
const UNVERIFIED = "encrypted; the source's certificate is not verified (no CA is configured on the replica)";

async function setGlobalReadOnly(conn: Conn, on: boolean): Promise<boolean> {
  await q(conn, `SET GLOBAL read_only = ${on ? 'ON' : 'OFF'}`);
  return true;
}

const mariadb: Dialect = {
  engine: 'mariadb',
  aurora: false,
  managed: false,
  statusSql: 'SHOW SLAVE STATUS',
  canSetReadOnly: true,
  maxRetentionHours: null,
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
  setReadOnly: setGlobalReadOnly,
  replicationSsl: () => ({ possible: true, how: `CHANGE MASTER TO MASTER_SSL=1: ${UNVERIFIED}` }),
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
  managed: false,
  statusSql: 'SHOW REPLICA STATUS',
  canSetReadOnly: true,
  maxRetentionHours: null,
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
  setReadOnly: setGlobalReadOnly,
  replicationSsl: () => ({ possible: true, how: `CHANGE REPLICATION SOURCE TO SOURCE_SSL=1: ${UNVERIFIED}` }),
};

/**
 * mysql.rds_set_external_* and mysql.rds_reset_external_* refuse to run with autocommit off, which a
 * cluster parameter group can make every session's default: the session turns it on first.
 */
async function autocommitOn(conn: Conn): Promise<void> {
  await q(conn, 'SET SESSION autocommit = 1');
}

/** CALLs the first of `procs` the server has (RDS for MySQL 8.4 renamed *_master to *_source). */
async function callFirstExisting(conn: Conn, procs: string[], args: unknown[] = []): Promise<void> {
  for (const [i, proc] of procs.entries()) {
    try {
      await q(conn, `CALL mysql.${proc}(${args.map(() => '?').join(', ')})`, args);
      return;
    } catch (err) {
      if (errnoOf(err) !== 1305 || i === procs.length - 1) throw err;
    }
  }
}

/**
 * RDS for MySQL 8.0/8.4 (an RDS instance, not a cluster): the RDS procedures for everything, binlog
 * retention capped at 168 h, read_only only through the DB parameter group.
 */
const rdsMysql8: Dialect = {
  engine: 'rds-mysql-8',
  aurora: false,
  managed: true,
  statusSql: 'SHOW REPLICA STATUS',
  canSetReadOnly: false,
  maxRetentionHours: 168,
  async configureSource(conn, s) {
    await autocommitOn(conn);
    await callFirstExisting(conn, ['rds_set_external_source', 'rds_set_external_master'], [s.host, s.port, s.user, s.password, s.file, s.position, s.ssl ? 1 : 0]);
  },
  start: async (conn) => void (await q(conn, 'CALL mysql.rds_start_replication')),
  stop: async (conn) => void (await q(conn, 'CALL mysql.rds_stop_replication')),
  reset: async (conn) => {
    await autocommitOn(conn);
    await callFirstExisting(conn, ['rds_reset_external_source', 'rds_reset_external_master']);
  },
  kill: async (conn, id) => void (await q(conn, 'CALL mysql.rds_kill(?)', [id])),
  setReadOnly: async () => false,
  replicationSsl: () => ({ possible: true, how: 'ssl_encryption=1 of mysql.rds_set_external_master/_source: encrypted; certificates are not verified (RDS procedures do not support SSL_VERIFY_SERVER_CERT)' }),
};

function aurora(engine: 'aurora-mysql-3' | 'aurora-mysql-2'): Dialect {
  const v3 = engine === 'aurora-mysql-3';
  const configure = v3 ? 'mysql.rds_set_external_source' : 'mysql.rds_set_external_master';
  const resetSql = v3 ? 'CALL mysql.rds_reset_external_source' : 'CALL mysql.rds_reset_external_master';
  const dialect: Dialect = {
    engine,
    aurora: true,
    managed: true,
    statusSql: v3 ? 'SHOW REPLICA STATUS' : 'SHOW SLAVE STATUS',
    canSetReadOnly: false,
    // 2160 h on Aurora MySQL 2.11+ and 3; older 2.x accept 168 h (db-binlog-retention-max checks the version).
    maxRetentionHours: 2160,
    async configureSource(conn, s) {
      // ssl_encryption=1 encrypts without verifying certificates (SOURCE_SSL_VERIFY_SERVER_CERT is
      // not supported). On v3 it needs imported client material; without it the documented way is
      // ssl_encryption=0 then mysql.rds_set_binlog_source_ssl(1) (3.06+), before replication starts.
      const viaProcedure = v3 && s.ssl && !s.sslMaterialImported;
      await autocommitOn(conn);
      await q(conn, `CALL ${configure}(?, ?, ?, ?, ?, ?, ?)`, [s.host, s.port, s.user, s.password, s.file, s.position, s.ssl && !viaProcedure ? 1 : 0]);
      if (!viaProcedure) return;
      try {
        await q(conn, 'CALL mysql.rds_set_binlog_source_ssl(1)');
      } catch (err) {
        if (errnoOf(err) !== 1305) throw err;
        // Never leave a configuration that would replicate in clear text when started.
        await q(conn, resetSql);
        throw new ReplicationSslUnsupportedError(
          `replication.ssl is true but this Aurora MySQL 3 has no mysql.rds_set_binlog_source_ssl (added in 3.06) and replication.sslMaterialImported is false; the external source was reset, nothing replicates. ${sslFix}`,
        );
      }
    },
    start: async (conn) => void (await q(conn, 'CALL mysql.rds_start_replication')),
    stop: async (conn) => void (await q(conn, 'CALL mysql.rds_stop_replication')),
    reset: async (conn) => {
      await autocommitOn(conn);
      await q(conn, resetSql);
    },
    kill: async (conn, id) => void (await q(conn, 'CALL mysql.rds_kill(?)', [id])),
    async setReadOnly(conn, on) {
      if (!v3) return false; // Aurora MySQL 2: read_only only through the parameter group.
      try {
        await q(conn, 'CALL mysql.rds_set_read_only(?)', [on ? 1 : 0]);
        return true;
      } catch (err) {
        if (errnoOf(err) === 1305) return false; // before 3.06
        throw err;
      }
    },
    replicationSsl({ materialImported }) {
      if (!v3) return { possible: true, how: 'ssl_encryption=1 of mysql.rds_set_external_master: encrypted; certificates are not verified (documented)' };
      if (materialImported) return { possible: true, how: 'ssl_encryption=1 of mysql.rds_set_external_source with the imported material: encrypted; the source certificate is not verified (documented)' };
      const server = dialect.server;
      if (server?.auroraVersion && !versionAtLeast(server.auroraVersion, '3.06')) {
        return { possible: false, how: `${describeServer(server)} has no mysql.rds_set_binlog_source_ssl (3.06+) and replication.sslMaterialImported is false`, fix: sslFix };
      }
      return {
        possible: true,
        how: `mysql.rds_set_binlog_source_ssl(1) after mysql.rds_set_external_source (Aurora MySQL 3.06+${server ? '' : '; an older 3.x is refused at "Start replication", before anything replicates'}): encrypted; certificates are not verified (documented)`,
      };
    },
  };
  return dialect;
}

const sslFix =
  "Upgrade the Aurora MySQL 3 cluster to 3.06 or newer; or import the source's CA and a client certificate with CALL mysql.rds_import_binlog_ssl_material('<json>') and set replication.sslMaterialImported to true; or set replication.ssl to false (binlogs then cross the network in plain text).";

const DIALECTS: Record<Engine, Dialect> = {
  mariadb,
  'mysql-8': mysql8,
  'rds-mysql-8': rdsMysql8,
  'aurora-mysql-3': aurora('aurora-mysql-3'),
  'aurora-mysql-2': aurora('aurora-mysql-2'),
};

export function dialectFor(engine: Engine): Dialect {
  return DIALECTS[engine];
}

/** The engine of the server, from aurora_version(), VERSION() and the RDS procedures (detect.ts). */
export async function detectEngine(conn: Conn): Promise<Engine> {
  return (await detectServer(conn)).engine;
}

/** The input's engine when given, else the detected one (with what detection found attached). */
export async function resolveDialect(conn: Conn, engine: Engine | undefined): Promise<Dialect> {
  if (engine) return dialectFor(engine);
  const server = await detectServer(conn);
  return withServer(server);
}

/** The dialect of a detected server, carrying its identity (versions decide some capabilities). */
export function withServer(server: ServerIdentity): Dialect {
  const base = dialectFor(server.engine);
  if (!base.aurora) return { ...base, server };
  // The Aurora dialect reads `server` through its own object: build one for this server.
  const fresh = aurora(server.engine as 'aurora-mysql-3' | 'aurora-mysql-2');
  fresh.server = server;
  return fresh;
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
