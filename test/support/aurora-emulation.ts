// Aurora MySQL emulated on MariaDB, so the aurora-mysql-2/3 dialects run against a real replica in tests,
// under the limits of a real cluster:
//
// - The admin user crossmove logs in as holds only the privileges of Aurora's master user, never SUPER,
//   BINLOG ADMIN or REPLICATION SLAVE ADMIN: what Aurora does through procedures must go through the
//   procedures. Documented lists (Amazon Aurora User Guide, "Master user account privileges":
//   awsdocs/amazon-aurora-user-guide doc_source/UsingWithRDS.MasterAccounts.md, and the current page
//   docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.MasterAccounts.html, which splits
//   them by version; rds_superuser_role in doc_source/Aurora.AuroraMySQL.Compare-80-v3.md):
//     version 2: ALTER, ALTER ROUTINE, CREATE, CREATE ROUTINE, CREATE TEMPORARY TABLES, CREATE USER,
//       CREATE VIEW, DELETE, DROP, EVENT, EXECUTE, GRANT OPTION, INDEX, INSERT, LOAD FROM S3, LOCK TABLES,
//       PROCESS, REFERENCES, RELOAD, REPLICATION CLIENT, REPLICATION SLAVE, SELECT, SELECT INTO S3,
//       SHOW DATABASES, SHOW VIEW, TRIGGER, UPDATE
//     version 3 (rds_superuser_role, WITH GRANT OPTION): the same without the S3 privileges, plus
//       APPLICATION_PASSWORD_ADMIN, CONNECTION_ADMIN, CREATE ROLE, DROP ROLE, ROLE_ADMIN, SET_USER_ID,
//       XA_RECOVER_ADMIN (SHOW_ROUTINE from 3.04, FLUSH_* from 3.09)
//   In MariaDB 10.11 terms: MySQL's REPLICATION CLIENT is BINLOG MONITOR (SHOW MASTER STATUS, SHOW
//   BINARY LOGS) plus REPLICA MONITOR (SHOW SLAVE STATUS); CONNECTION_ADMIN is CONNECTION ADMIN (KILL
//   any session) plus READ_ONLY ADMIN, because in MySQL 8.0 CONNECTION_ADMIN is what lets a session
//   write while read_only is on: Aurora 3's master user is not stopped by read_only, Aurora 2's is;
//   SET_USER_ID is SET USER. The S3, role, XA and password privileges have no part here. The master
//   user's SET GLOBAL, which MariaDB would allow with READ_ONLY ADMIN / CONNECTION ADMIN, is refused on
//   the client side (aurora-wire.ts), as Aurora refuses it (no SYSTEM_VARIABLES_ADMIN). Not emulated:
//   Aurora 3 also forbids writing to the mysql schema directly (MariaDB cannot revoke that from a
//   global grant).
// - The procedures run as their definer (SQL SECURITY DEFINER, the MariaDB superuser playing rdsadmin)
//   and refuse what Aurora documents they refuse: autocommit off for rds_set_external_*/rds_reset_*,
//   ssl_encryption=1 on version 3 without material imported by rds_import_binlog_ssl_material.
//   Each procedure exists on the versions the User Guide ("Configuring, starting, and stopping binary
//   log (binlog) replication") gives it: rds_set_read_only and rds_set_binlog_source_ssl from 3.06
//   (release notes 3.06.0), rds_start_replication_until from 3.04, rds_disable_session_binlog on 2.12+
//   only (Aurora 3 has no such procedure: SET SESSION sql_log_bin needs SESSION_VARIABLES_ADMIN, which
//   its master user lacks).
//   ssl_encryption=1 sets MASTER_SSL=1 with MASTER_SSL_VERIFY_SERVER_CERT=0: encrypted, not verified.
// - aurora_version() answers the emulated version, and replica status comes back with the columns
//   the emulated MySQL version names (test/support/aurora-wire.ts).
// Created with sql_log_bin=0 (and every writing procedure sets it too): the emulation's own statements
// must never replicate, or they would break the replica.
import type { Connection } from 'mysql2/promise';
import { versionAtLeast } from '../../shared/mysql/detect.js';
import { emulateAuroraWire, stopEmulatingAuroraWire, type AuroraMajor } from './aurora-wire.js';

export type AuroraVersion = AuroraMajor;

/** Aurora's master user, as the tests' admin secret holds it (env:CROSSMOVE_TEST_AURORA_ADMIN). */
export const AURORA_ADMIN = { username: 'aurora_admin', password: 'aurora-master-pw-5c2e' } as const;
const AURORA_ADMIN_SECRET_ENV = 'CROSSMOVE_TEST_AURORA_ADMIN';

/** Points env:CROSSMOVE_TEST_AURORA_ADMIN at the master user; returns the reference for adminSecret. */
export function useAuroraAdminSecret(): string {
  process.env[AURORA_ADMIN_SECRET_ENV] = JSON.stringify(AURORA_ADMIN);
  return `env:${AURORA_ADMIN_SECRET_ENV}`;
}

const MASTER_PRIVILEGES_V2 = [
  'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'CREATE', 'DROP', 'RELOAD', 'PROCESS', 'REFERENCES', 'INDEX', 'ALTER', 'SHOW DATABASES',
  'CREATE TEMPORARY TABLES', 'LOCK TABLES', 'EXECUTE', 'REPLICATION SLAVE', 'BINLOG MONITOR', 'REPLICA MONITOR', 'CREATE VIEW', 'SHOW VIEW',
  'CREATE ROUTINE', 'ALTER ROUTINE', 'CREATE USER', 'EVENT', 'TRIGGER',
];
const MASTER_PRIVILEGES_V3 = [...MASTER_PRIVILEGES_V2, 'CONNECTION ADMIN', 'READ_ONLY ADMIN', 'SET USER'];

/** The MariaDB privileges the emulated master user holds (the mapping in the file comment). */
export function masterPrivileges(version: AuroraVersion): string[] {
  return version === 3 ? MASTER_PRIVILEGES_V3 : MASTER_PRIVILEGES_V2;
}

const REQUIRE_AUTOCOMMIT = (proc: string) => `
  IF @@session.autocommit = 0 THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'To run ${proc}, autocommit must be enabled (set the autocommit parameter to 1)';
  END IF;`;

const CHANGE_MASTER = `
  EXECUTE IMMEDIATE CONCAT('CHANGE MASTER TO MASTER_HOST=', QUOTE(host), ', MASTER_PORT=', port,
    ', MASTER_USER=', QUOTE(user_name), ', MASTER_PASSWORD=', QUOTE(pwd), ', MASTER_LOG_FILE=', QUOTE(log_file),
    ', MASTER_LOG_POS=', log_pos, ', MASTER_SSL=', IF(ssl_encryption = 1, 1, 0),
    ', MASTER_SSL_VERIFY_SERVER_CERT=0, MASTER_USE_GTID=no, MASTER_CONNECT_RETRY=1');`;

const EXTERNAL_ARGS = '(IN host VARCHAR(255), IN port INT, IN user_name VARCHAR(255), IN pwd VARCHAR(255), IN log_file VARCHAR(255), IN log_pos BIGINT, IN ssl_encryption INT)';

function setExternal(proc: string, needsMaterial: boolean): string {
  const material = needsMaterial
    ? `
  IF ssl_encryption = 1 AND NOT EXISTS (SELECT 1 FROM mysql.rds_binlog_ssl_material) THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'ssl_encryption=1 needs a custom SSL certificate imported with mysql.rds_import_binlog_ssl_material; set it to 0 and use mysql.rds_set_binlog_source_ssl';
  END IF;`
    : '';
  return `${EXTERNAL_ARGS} BEGIN ${REQUIRE_AUTOCOMMIT(proc)} ${material} ${CHANGE_MASTER} END`;
}

interface Procedure {
  body: string;
  /** Which emulated versions (aurora_version()) have it. */
  on: (auroraVersion: string) => boolean;
}

const always = () => true;
const v3 = (v: string) => versionAtLeast(v, '3');
/** From `first` on, within its major version. */
const from = (first: string) => (v: string) => versionAtLeast(v, first) && v.split('.')[0] === first.split('.')[0];

function procedures(major: AuroraVersion): Record<string, Procedure> {
  return {
    rds_set_external_source: { on: v3, body: setExternal('mysql.rds_set_external_source', true) },
    rds_set_external_master: { on: always, body: setExternal('mysql.rds_set_external_master', major === 3) },
    rds_start_replication: { on: always, body: `() BEGIN START SLAVE; SELECT 'Slave running normally.' AS Message; END` },
    rds_stop_replication: { on: always, body: `() BEGIN STOP SLAVE; SELECT 'Replica is down or disabled' AS Message; END` },
    rds_reset_external_source: { on: v3, body: `() BEGIN ${REQUIRE_AUTOCOMMIT('mysql.rds_reset_external_source')} STOP SLAVE; RESET SLAVE ALL; END` },
    rds_reset_external_master: { on: always, body: `() BEGIN ${REQUIRE_AUTOCOMMIT('mysql.rds_reset_external_master')} STOP SLAVE; RESET SLAVE ALL; END` },
    rds_set_binlog_source_ssl: {
      on: from('3.06'),
      body: `(IN mode INT) BEGIN EXECUTE IMMEDIATE CONCAT('CHANGE MASTER TO MASTER_SSL=', IF(mode = 1, 1, 0), ', MASTER_SSL_VERIFY_SERVER_CERT=0'); END`,
    },
    rds_set_read_only: { on: from('3.06'), body: `(IN mode INT) BEGIN SET GLOBAL read_only = IF(mode = 1, 1, 0); END` },
    rds_import_binlog_ssl_material: {
      on: always,
      body: `(IN ssl_material TEXT)
        BEGIN
          SET SESSION sql_log_bin = 0;
          REPLACE INTO mysql.rds_binlog_ssl_material (id, material) VALUES (1, ssl_material);
          SET SESSION sql_log_bin = 1;
        END`,
    },
    // Also records the call, so tests can see that sessions were killed the Aurora way.
    rds_kill: {
      on: always,
      body: `(IN thread BIGINT)
        BEGIN
          SET SESSION sql_log_bin = 0;
          INSERT INTO mysql.rds_kill_log (thread) VALUES (thread);
          SET SESSION sql_log_bin = 1;
          EXECUTE IMMEDIATE CONCAT('KILL CONNECTION ', thread);
        END`,
    },
    rds_set_configuration: {
      on: always,
      body: `(IN name VARCHAR(64), IN value INT)
        BEGIN
          SET SESSION sql_log_bin = 0;
          INSERT INTO mysql.rds_configuration (name, value) VALUES (name, value) ON DUPLICATE KEY UPDATE value = VALUES(value);
          IF name = 'binlog retention hours' THEN
            SET GLOBAL binlog_expire_logs_seconds = IFNULL(value, 0) * 3600;
          END IF;
          SET SESSION sql_log_bin = 1;
        END`,
    },
    rds_show_configuration: { on: always, body: `() BEGIN SELECT name, value, description FROM mysql.rds_configuration ORDER BY name; END` },
    // The SQL thread stops at the given source position.
    rds_start_replication_until: {
      on: from('3.04'),
      body: `(IN replication_log_file TEXT, IN replication_stop_point BIGINT)
        BEGIN
          EXECUTE IMMEDIATE CONCAT('START SLAVE UNTIL MASTER_LOG_FILE=', QUOTE(replication_log_file), ', MASTER_LOG_POS=', replication_stop_point);
          SELECT 'Replica will stop at the requested position' AS Message;
        END`,
    },
    // This session's writes leave the binlog (the definer may set sql_log_bin; the caller may not).
    rds_disable_session_binlog: { on: from('2.12'), body: `() BEGIN SET SESSION sql_log_bin = 0; END` },
    rds_enable_session_binlog: { on: from('2.12'), body: `() BEGIN SET SESSION sql_log_bin = 1; END` },
  };
}

export interface AuroraEmulationOptions {
  /** aurora_version() (default 3.06.0 for version 3, 2.12.4, the last Aurora MySQL 2 line, for version 2). */
  auroraVersion?: string;
}

/**
 * Turns the server `superuser` is connected to into an emulated Aurora MySQL writer of `version`:
 * procedures, aurora_version(), the wire rendering, and the master user AURORA_ADMIN. The superuser
 * connection stays the test's own (it plays RDS itself: rdsadmin, the console, the network).
 */
export async function installAuroraEmulation(superuser: Connection, version: AuroraVersion = 3, opts: AuroraEmulationOptions = {}): Promise<typeof AURORA_ADMIN> {
  const auroraVersion = opts.auroraVersion ?? (version === 3 ? '3.06.0' : '2.12.4');
  if (Number(auroraVersion.split('.')[0]) !== version) throw new Error(`auroraVersion ${auroraVersion} is not Aurora MySQL ${version}`);
  await superuser.query('SET SESSION sql_log_bin = 0');
  await superuser.query(`CREATE TABLE IF NOT EXISTS mysql.rds_configuration (name VARCHAR(64) PRIMARY KEY, value INT NULL, description VARCHAR(255) NOT NULL DEFAULT '')`);
  await superuser.query('CREATE TABLE IF NOT EXISTS mysql.rds_kill_log (n INT AUTO_INCREMENT PRIMARY KEY, thread BIGINT NOT NULL)');
  await superuser.query('CREATE TABLE IF NOT EXISTS mysql.rds_binlog_ssl_material (id INT PRIMARY KEY, material TEXT NOT NULL)');
  await superuser.query(
    `INSERT IGNORE INTO mysql.rds_configuration (name, value, description) VALUES
      ('binlog retention hours', NULL, 'binlog retention hours specifies the duration in hours before binary logs are automatically deleted.')`,
  );
  await superuser.query('DROP FUNCTION IF EXISTS mysql.aurora_version');
  await superuser.query(`CREATE FUNCTION mysql.aurora_version() RETURNS VARCHAR(32) DETERMINISTIC SQL SECURITY DEFINER RETURN ${superuser.escape(auroraVersion)}`);
  for (const [name, proc] of Object.entries(procedures(version))) {
    await superuser.query(`DROP PROCEDURE IF EXISTS mysql.${name}`);
    if (proc.on(auroraVersion)) await superuser.query(`CREATE PROCEDURE mysql.${name}${proc.body}`);
  }
  await superuser.query(`CREATE USER IF NOT EXISTS ?@'%' IDENTIFIED BY ?`, [AURORA_ADMIN.username, AURORA_ADMIN.password]);
  await superuser.query(`REVOKE ALL PRIVILEGES, GRANT OPTION FROM ?@'%'`, [AURORA_ADMIN.username]);
  await superuser.query(`GRANT ${masterPrivileges(version).join(', ')} ON *.* TO ?@'%' WITH GRANT OPTION`, [AURORA_ADMIN.username]);
  await superuser.query('SET SESSION sql_log_bin = 1');
  emulateAuroraWire(superuser, (superuser as unknown as { connection: { config: { port: number } } }).connection.config.port, version, AURORA_ADMIN.username);
  return AURORA_ADMIN;
}

/** Makes the server plain MariaDB again (procedures, function, master user and wire rendering gone). */
export async function removeAuroraEmulation(superuser: Connection): Promise<void> {
  stopEmulatingAuroraWire((superuser as unknown as { connection: { config: { port: number } } }).connection.config.port);
  await superuser.query('SET SESSION sql_log_bin = 0');
  for (const name of Object.keys(procedures(3))) await superuser.query(`DROP PROCEDURE IF EXISTS mysql.${name}`);
  await superuser.query('DROP FUNCTION IF EXISTS mysql.aurora_version');
  await superuser.query(`DROP USER IF EXISTS ?@'%'`, [AURORA_ADMIN.username]);
  await superuser.query('SET SESSION sql_log_bin = 1');
}
