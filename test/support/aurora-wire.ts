// The part of the Aurora emulation a MariaDB server cannot play by itself, applied on the client side
// to connections to an emulated server's port (test processes only; production code is untouched):
// - aurora_version() / @@aurora_version are Aurora built-ins; MariaDB has no way to add a built-in, so
//   they are sent as mysql.aurora_version(), the stored function the emulation installs.
// - Replica status comes back with the columns MySQL documents for the emulated version: Aurora MySQL 3
//   (MySQL 8.0) names them Replica_* / *_Source_* for SHOW REPLICA STATUS and SHOW SLAVE STATUS alike
//   ("only the terminology used for the statement and its output has changed"); Aurora MySQL 2 (MySQL
//   5.7) keeps Slave_* / *_Master_*. MariaDB-only columns are dropped, MySQL-only ones are empty.
// - Aurora MySQL 2 (MySQL 5.7) rejects the 8.0 replica statements with a syntax error, as 5.7 does.
// - The master user may not SET GLOBAL / SET PERSIST anything (no SUPER, no SYSTEM_VARIABLES_ADMIN).
//   MariaDB ties some global variables to privileges the emulated master needs for other reasons
//   (READ_ONLY ADMIN lets it set read_only, CONNECTION ADMIN max_connections), so it is refused here.
import type { Connection } from 'mysql2/promise';

export type AuroraMajor = 2 | 3;

const emulated = new Map<number, { major: AuroraMajor; masterUser: string }>();
let patched = false;

/** MySQL 8.0.23+ SHOW REPLICA STATUS columns, in order. */
const MYSQL_80_COLUMNS = [
  'Replica_IO_State', 'Source_Host', 'Source_User', 'Source_Port', 'Connect_Retry', 'Source_Log_File', 'Read_Source_Log_Pos', 'Relay_Log_File',
  'Relay_Log_Pos', 'Relay_Source_Log_File', 'Replica_IO_Running', 'Replica_SQL_Running', 'Replicate_Do_DB', 'Replicate_Ignore_DB', 'Replicate_Do_Table',
  'Replicate_Ignore_Table', 'Replicate_Wild_Do_Table', 'Replicate_Wild_Ignore_Table', 'Last_Errno', 'Last_Error', 'Skip_Counter', 'Exec_Source_Log_Pos',
  'Relay_Log_Space', 'Until_Condition', 'Until_Log_File', 'Until_Log_Pos', 'Source_SSL_Allowed', 'Source_SSL_CA_File', 'Source_SSL_CA_Path', 'Source_SSL_Cert',
  'Source_SSL_Cipher', 'Source_SSL_Key', 'Seconds_Behind_Source', 'Source_SSL_Verify_Server_Cert', 'Last_IO_Errno', 'Last_IO_Error', 'Last_SQL_Errno',
  'Last_SQL_Error', 'Replicate_Ignore_Server_Ids', 'Source_Server_Id', 'Source_UUID', 'Source_Info_File', 'SQL_Delay', 'SQL_Remaining_Delay',
  'Replica_SQL_Running_State', 'Source_Retry_Count', 'Source_Bind', 'Last_IO_Error_Timestamp', 'Last_SQL_Error_Timestamp', 'Source_SSL_Crl',
  'Source_SSL_Crlpath', 'Retrieved_Gtid_Set', 'Executed_Gtid_Set', 'Auto_Position', 'Replicate_Rewrite_DB', 'Channel_Name', 'Source_TLS_Version',
  'Source_public_key_path', 'Get_Source_public_key', 'Network_Namespace',
];

/** MySQL 5.7 SHOW SLAVE STATUS columns: the same list under the old terminology, without the 8.0 additions. */
const MYSQL_57_COLUMNS = MYSQL_80_COLUMNS.filter((c) => !['Source_public_key_path', 'Get_Source_public_key', 'Network_Namespace'].includes(c)).map(oldName);

/** MySQL's rename, reversed: Source -> Master, Replica -> Slave (the names MariaDB 10.11 still uses). */
function oldName(column: string): string {
  return column.replace(/Source/g, 'Master').replace(/Replica(?=_)/g, 'Slave');
}

function renderStatus(rows: Record<string, unknown>[], major: AuroraMajor): Record<string, unknown>[] {
  const columns = major === 3 ? MYSQL_80_COLUMNS : MYSQL_57_COLUMNS;
  return rows.map((row) => Object.fromEntries(columns.map((c) => [c, oldName(c) in row ? row[oldName(c)] : /_(Pos|Port|Errno|Id|Counter|Delay|Space)$/.test(c) ? null : ''])));
}

const STATUS = /^\s*SHOW\s+(SLAVE|REPLICA)\s+STATUS\s*$/i;
const MYSQL_8_ONLY = /^\s*(SHOW\s+REPLICA\s+STATUS|START\s+REPLICA|STOP\s+REPLICA|RESET\s+REPLICA|CHANGE\s+REPLICATION\s+SOURCE)\b/i;

function rewrite(sql: string): string {
  return sql.replace(/(?<![.\w`])aurora_version\s*\(\s*\)/gi, 'mysql.aurora_version()').replace(/@@aurora_version\b/gi, 'mysql.aurora_version()');
}

const SET_GLOBAL = /^\s*SET\s+(GLOBAL|PERSIST|PERSIST_ONLY)\b|^\s*SET\s+@@(global|persist)\./i;

function accessDenied(): Error {
  return Object.assign(new Error('Access denied; you need (at least one of) the SUPER or SYSTEM_VARIABLES_ADMIN privilege(s) for this operation'), {
    errno: 1227,
    code: 'ER_SPECIFIC_ACCESS_DENIED_ERROR',
    sqlState: '42000',
  });
}

function syntaxError(sql: string): Error {
  return Object.assign(new Error(`You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '${sql.trim().split(/\s+/).slice(1, 3).join(' ')}' at line 1`), {
    errno: 1064,
    code: 'ER_PARSE_ERROR',
    sqlState: '42000',
  });
}

type Query = (this: Connection, sql: unknown, values?: unknown) => Promise<[unknown, unknown]>;

/** Connections to `port` see the server as it is again. */
export function stopEmulatingAuroraWire(port: number): void {
  emulated.delete(port);
}

/** Makes connections to `port` see an Aurora MySQL `major` (see the file comment). */
export function emulateAuroraWire(sample: Connection, port: number, major: AuroraMajor, masterUser: string): void {
  emulated.set(port, { major, masterUser });
  if (patched) return;
  patched = true;
  const proto = Object.getPrototypeOf(sample) as Record<'query' | 'execute', Query>;
  for (const method of ['query', 'execute'] as const) {
    const original = proto[method];
    proto[method] = async function (this: Connection, sql: unknown, values?: unknown) {
      const inner = (this as unknown as { connection: { config: { port: number; user: string } } }).connection;
      const server = emulated.get(inner.config.port);
      if (!server) return original.call(this, sql, values);
      const version = server.major;
      const text = typeof sql === 'string' ? sql : (sql as { sql: string }).sql;
      if (version === 2 && MYSQL_8_ONLY.test(text)) throw syntaxError(text);
      if (inner.config.user === server.masterUser && SET_GLOBAL.test(text)) throw accessDenied();
      const sent = typeof sql === 'string' ? rewrite(sql) : { ...(sql as object), sql: rewrite(text) };
      const result = await original.call(this, sent, values);
      if (!STATUS.test(text) || !Array.isArray(result[0])) return result;
      return [renderStatus(result[0] as Record<string, unknown>[], version), result[1]];
    };
  }
}
