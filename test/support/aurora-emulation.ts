// Aurora's mysql.rds_* procedures emulated on MariaDB, so the aurora-mysql-2/3 dialects run against a
// real replica in tests. Created with sql_log_bin=0 (and every writing procedure sets it too): the
// emulation's own statements must never replicate, or they would break the replica.
import type { Connection } from 'mysql2/promise';

const CHANGE_MASTER = `
  EXECUTE IMMEDIATE CONCAT('CHANGE MASTER TO MASTER_HOST=', QUOTE(host), ', MASTER_PORT=', port,
    ', MASTER_USER=', QUOTE(user_name), ', MASTER_PASSWORD=', QUOTE(pwd), ', MASTER_LOG_FILE=', QUOTE(log_file),
    ', MASTER_LOG_POS=', log_pos, ', MASTER_SSL=', IF(ssl_encryption = 1, 1, 0), ', MASTER_USE_GTID=no, MASTER_CONNECT_RETRY=1');`;

const PROCEDURES: Record<string, string> = {
  rds_set_external_source: `(IN host VARCHAR(255), IN port INT, IN user_name VARCHAR(255), IN pwd VARCHAR(255), IN log_file VARCHAR(255), IN log_pos BIGINT, IN ssl_encryption INT)
    BEGIN ${CHANGE_MASTER} END`,
  rds_set_external_master: `(IN host VARCHAR(255), IN port INT, IN user_name VARCHAR(255), IN pwd VARCHAR(255), IN log_file VARCHAR(255), IN log_pos BIGINT, IN ssl_encryption INT)
    BEGIN ${CHANGE_MASTER} END`,
  rds_start_replication: `() BEGIN START SLAVE; SELECT 'Slave running normally.' AS Message; END`,
  rds_stop_replication: `() BEGIN STOP SLAVE; SELECT 'Replica is down or disabled' AS Message; END`,
  rds_reset_external_source: `() BEGIN STOP SLAVE; RESET SLAVE ALL; END`,
  rds_reset_external_master: `() BEGIN STOP SLAVE; RESET SLAVE ALL; END`,
  // Also records the call, so tests can see that sessions were killed the Aurora way.
  rds_kill: `(IN thread BIGINT)
    BEGIN
      SET SESSION sql_log_bin = 0;
      INSERT INTO mysql.rds_kill_log (thread) VALUES (thread);
      SET SESSION sql_log_bin = 1;
      EXECUTE IMMEDIATE CONCAT('KILL CONNECTION ', thread);
    END`,
  rds_set_configuration: `(IN name VARCHAR(64), IN value INT)
    BEGIN
      SET SESSION sql_log_bin = 0;
      INSERT INTO mysql.rds_configuration (name, value) VALUES (name, value) ON DUPLICATE KEY UPDATE value = VALUES(value);
      IF name = 'binlog retention hours' THEN
        SET GLOBAL binlog_expire_logs_seconds = IFNULL(value, 0) * 3600;
      END IF;
      SET SESSION sql_log_bin = 1;
    END`,
  rds_show_configuration: `() BEGIN SELECT name, value, description FROM mysql.rds_configuration ORDER BY name; END`,
  // Aurora MySQL 3.04+ (v3 only, like the *_source names): the SQL thread stops at the given source position.
  rds_start_replication_until: `(IN replication_log_file TEXT, IN replication_stop_point BIGINT)
    BEGIN
      EXECUTE IMMEDIATE CONCAT('START SLAVE UNTIL MASTER_LOG_FILE=', QUOTE(replication_log_file), ', MASTER_LOG_POS=', replication_stop_point);
      SELECT 'Replica will stop at the requested position' AS Message;
    END`,
  // Aurora MySQL 2.12+: this session's writes leave the binlog.
  rds_disable_session_binlog: `() BEGIN SET SESSION sql_log_bin = 0; END`,
};

export type AuroraVersion = 2 | 3;

/** Installs the procedures an Aurora MySQL <version> writer has (v2 lacks the *_source names). */
export async function installAuroraEmulation(admin: Connection, version: AuroraVersion = 3): Promise<void> {
  await admin.query('SET SESSION sql_log_bin = 0');
  await admin.query(`CREATE TABLE IF NOT EXISTS mysql.rds_configuration (name VARCHAR(64) PRIMARY KEY, value INT NULL, description VARCHAR(255) NOT NULL DEFAULT '')`);
  await admin.query('CREATE TABLE IF NOT EXISTS mysql.rds_kill_log (n INT AUTO_INCREMENT PRIMARY KEY, thread BIGINT NOT NULL)');
  await admin.query(
    `INSERT IGNORE INTO mysql.rds_configuration (name, value, description) VALUES
      ('binlog retention hours', NULL, 'binlog retention hours specifies the duration in hours before binary logs are automatically deleted.')`,
  );
  for (const [name, body] of Object.entries(PROCEDURES)) {
    if (version === 2 && /_source$|_until$/.test(name)) continue;
    await admin.query(`DROP PROCEDURE IF EXISTS mysql.${name}`);
    await admin.query(`CREATE PROCEDURE mysql.${name}${body}`);
  }
  await admin.query('SET SESSION sql_log_bin = 1');
}
