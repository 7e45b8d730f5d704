// Pure parts of the MySQL layer, no server: status rows under old and new column names, the mapping of
// replication errors to typed errors, grant lines without password hashes, the byte distance.
import { describe, expect, it } from 'vitest';
import { parseReplicaStatus } from '../../shared/mysql/status.js';
import { isReconnecting, replicationError } from '../../shared/mysql/replication-errors.js';
import { normaliseGrant } from '../../shared/mysql/grants.js';
import { byteDistance } from '../../shared/mysql/lag.js';
import { dialectFor } from '../../shared/mysql/dialect.js';
import { ENGINES } from '../../shared/input/schema.js';
import type { Conn } from '../../shared/mysql/connection.js';

const NEW_NAMES = {
  Replica_IO_Running: 'Yes',
  Replica_SQL_Running: 'Yes',
  Source_Host: 'src.cluster-abc.eu-west-1.rds.amazonaws.com',
  Source_Port: 3306,
  Source_User: 'crossmove_repl',
  Source_Log_File: 'mysql-bin-changelog.000014',
  Read_Source_Log_Pos: 5000,
  Relay_Source_Log_File: 'mysql-bin-changelog.000014',
  Exec_Source_Log_Pos: 4000,
  Seconds_Behind_Source: 0,
  Last_IO_Errno: 0,
  Last_IO_Error: '',
  Last_SQL_Errno: 0,
  Last_SQL_Error: '',
  SQL_Delay: 0,
};
const OLD_NAMES = Object.fromEntries(
  Object.entries(NEW_NAMES).map(([k, v]) => [k.replace('Replica_', 'Slave_').replace(/Source/g, 'Master'), v]),
);

describe('replica status', () => {
  it('reads the new (Aurora 3 / MySQL 8) and the old (MariaDB / Aurora 2) column names alike', () => {
    const a = parseReplicaStatus(NEW_NAMES);
    const b = parseReplicaStatus(OLD_NAMES);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ ioRunning: true, sqlRunning: true, execFile: 'mysql-bin-changelog.000014', execPosition: 4000, secondsBehind: 0, sourceUser: 'crossmove_repl' });
  });

  it('keeps NULL Seconds_Behind as null (broken replica), not 0', () => {
    expect(parseReplicaStatus({ ...NEW_NAMES, Seconds_Behind_Source: null }).secondsBehind).toBeNull();
  });

  it('byte lag is the distance within one file, null across files', () => {
    const s = parseReplicaStatus(NEW_NAMES);
    expect(byteDistance({ file: 'mysql-bin-changelog.000014', position: 4500 }, s)).toBe(500);
    expect(byteDistance({ file: 'mysql-bin-changelog.000015', position: 10 }, s)).toBeNull();
  });

  it('uses the status statement of each dialect', () => {
    expect(dialectFor('aurora-mysql-3').statusSql).toBe('SHOW REPLICA STATUS');
    expect(dialectFor('aurora-mysql-2').statusSql).toBe('SHOW SLAVE STATUS');
    expect(dialectFor('mysql-8').statusSql).toBe('SHOW REPLICA STATUS');
    expect(dialectFor('mariadb').statusSql).toBe('SHOW SLAVE STATUS');
    expect(dialectFor('aurora-mysql-3').canSetReadOnly).toBe(false);
  });
});

describe('replication errors', () => {
  const ctx = { binlogRetentionHours: 24 };
  it('1236 -> BinlogPurgedError with the missing file and the retention to raise', () => {
    const s = parseReplicaStatus({
      ...NEW_NAMES,
      Replica_IO_Running: 'No',
      Last_IO_Errno: 13114,
      Last_IO_Error:
        "Got fatal error 1236 from source when reading data from binary log: 'Could not find first log file name in binary log index file'",
    });
    const err = replicationError(s, ctx)!;
    expect(err.name).toBe('BinlogPurgedError');
    expect(err.message).toContain('mysql-bin-changelog.000014');
    expect(err.message).toContain('binlogRetentionHours');
    expect(err.message).toContain('24 h');
  });

  it('1032 -> ReplicationConflictError naming the table and the event', () => {
    const s = parseReplicaStatus({
      ...NEW_NAMES,
      Replica_SQL_Running: 'No',
      Last_SQL_Errno: 1032,
      Last_SQL_Error:
        "Could not execute Update_rows event on table shop.orders; Can't find record in 'orders', Error_code: 1032; handler error HA_ERR_KEY_NOT_FOUND; the event's source log mysql-bin-changelog.000014, end_log_pos 4321",
    });
    const err = replicationError(s, ctx)!;
    expect(err.name).toBe('ReplicationConflictError');
    expect(err.message).toMatch(/Update_rows on table shop\.orders/);
    expect(err.message).toContain('does not exist on the target');
    expect(err.message).toContain('end_log_pos 4321');
  });

  it('1045 -> ReplicationAuthError naming the user; a password in the text is masked', () => {
    const s = parseReplicaStatus({
      ...NEW_NAMES,
      Replica_IO_Running: 'Connecting',
      Last_IO_Errno: 1045,
      Last_IO_Error: "Access denied for user 'crossmove_repl'@'10.0.0.5' (using password: YES) IDENTIFIED BY 'leaked-secret'",
    });
    const err = replicationError(s, ctx)!;
    expect(err.name).toBe('ReplicationAuthError');
    expect(err.message).toContain("'crossmove_repl'");
    expect(err.message).not.toContain('leaked-secret');
  });

  it('a source restart (IO Connecting, 2003) is reconnecting, not an error', () => {
    const s = parseReplicaStatus({ ...NEW_NAMES, Replica_IO_Running: 'Connecting', Last_IO_Errno: 2003, Last_IO_Error: "error reconnecting to source 'x' - retry-time: 1" });
    expect(replicationError(s, ctx)).toBeNull();
    expect(isReconnecting(s)).toBe(true);
  });
});

describe('grants', () => {
  it('drops password hashes from grant lines', () => {
    expect(normaliseGrant("GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*6C8989366EAF75BB670AD8EA7A7FC1176A95CEF4'")).toBe('GRANT USAGE ON *.* TO `app`@`%`');
    expect(normaliseGrant("GRANT SELECT ON `app`.* TO 'r'@'%'")).toBe("GRANT SELECT ON `app`.* TO 'r'@'%'");
  });
});

describe('dialects configure the external source with the password as a bound value', () => {
  const source = { host: 'src.example', port: 3306, user: 'crossmove_repl', password: "p'w-secret", file: 'mysql-bin.000007', position: 154, ssl: true };
  const expected: Record<string, RegExp> = {
    'aurora-mysql-3': /^CALL mysql\.rds_set_external_source\(\?, \?, \?, \?, \?, \?, \?\)$/,
    'aurora-mysql-2': /^CALL mysql\.rds_set_external_master\(\?, \?, \?, \?, \?, \?, \?\)$/,
    'mysql-8': /^CHANGE REPLICATION SOURCE TO SOURCE_HOST=\?.*SOURCE_PASSWORD=\?.*SOURCE_SSL=\?/,
    'rds-mysql-8': /^CALL mysql\.rds_set_external_source\(\?, \?, \?, \?, \?, \?, \?\)$/,
    mariadb: /^CHANGE MASTER TO MASTER_HOST=\?.*MASTER_PASSWORD=\?.*MASTER_SSL=\?/,
  };
  // The RDS procedures that configure or forget a source refuse to run with autocommit off.
  const AUTOCOMMIT = 'SET SESSION autocommit = 1';
  // Aurora MySQL 3 without imported material encrypts with rds_set_binlog_source_ssl(1), not ssl_encryption=1.
  const sslArgument: Record<string, number> = { 'aurora-mysql-3': 0 };
  const control: Record<string, string[]> = {
    'aurora-mysql-3': ['CALL mysql.rds_set_binlog_source_ssl(1)', 'CALL mysql.rds_start_replication', 'CALL mysql.rds_stop_replication', AUTOCOMMIT, 'CALL mysql.rds_reset_external_source'],
    'aurora-mysql-2': ['CALL mysql.rds_start_replication', 'CALL mysql.rds_stop_replication', AUTOCOMMIT, 'CALL mysql.rds_reset_external_master'],
    'rds-mysql-8': ['CALL mysql.rds_start_replication', 'CALL mysql.rds_stop_replication', AUTOCOMMIT, 'CALL mysql.rds_reset_external_source()'],
    'mysql-8': ['START REPLICA', 'STOP REPLICA', 'RESET REPLICA ALL'],
    mariadb: ['START SLAVE', 'STOP SLAVE', 'RESET SLAVE ALL'],
  };
  const recorder = () => {
    const calls: { sql: string; values: unknown[] }[] = [];
    const conn = { query: async (o: { sql: string; values: unknown[] }) => (calls.push(o), [[], []]) } as unknown as Conn;
    return { calls, conn };
  };
  for (const engine of ENGINES) {
    it(engine, async () => {
      const { calls, conn } = recorder();
      const d = dialectFor(engine);
      await d.configureSource(conn, source);
      await d.start(conn);
      await d.stop(conn);
      await d.reset(conn);
      if (d.managed) expect(calls.shift()!.sql).toBe(AUTOCOMMIT);
      expect(calls[0]!.sql).toMatch(expected[engine]!);
      expect(calls[0]!.sql).not.toContain('secret');
      expect(calls[0]!.values).toEqual(['src.example', 3306, 'crossmove_repl', "p'w-secret", 'mysql-bin.000007', 154, sslArgument[engine] ?? 1]);
      expect(calls.slice(1).map((c) => c.sql)).toEqual(control[engine]);
    });
  }

  it('aurora-mysql-3 with imported material passes ssl_encryption=1 and nothing else', async () => {
    const { calls, conn } = recorder();
    await dialectFor('aurora-mysql-3').configureSource(conn, { ...source, sslMaterialImported: true });
    expect(calls.map((c) => c.sql)).toEqual(['SET SESSION autocommit = 1', 'CALL mysql.rds_set_external_source(?, ?, ?, ?, ?, ?, ?)']);
    expect(calls[1]!.values.at(-1)).toBe(1);
  });
});
