// Source binlog settings: read (inspection) and keep long enough (action). Aurora and RDS for MySQL keep binlogs by
// `binlog retention hours` (mysql.rds_set_configuration; NULL = purged as soon as possible); MySQL and
// MariaDB by binlog_expire_logs_seconds (0 = never purged).
import { BinlogDisabledError } from '../errors.js';
import type { BinlogSettings } from '../state.js';
import { q, type Conn } from './connection.js';
import type { Dialect } from './dialect.js';

const FORMATS = new Set(['ROW', 'MIXED', 'STATEMENT']);

interface BinlogInspection {
  logBin: boolean;
  format: string;
  /** Hours binlogs are kept; null = not retained (Aurora) ; Infinity = never purged. */
  retentionHours: number | null;
}

async function inspectBinlogs(conn: Conn, dialect: Dialect): Promise<BinlogInspection> {
  const [row] = await q<{ logBin: unknown; format: string }>(conn, 'SELECT @@global.log_bin AS logBin, @@global.binlog_format AS format');
  const logBin = row?.logBin === 1 || row?.logBin === '1' || String(row?.logBin).toUpperCase() === 'ON';
  return { logBin, format: String(row?.format ?? ''), retentionHours: await readRetentionHours(conn, dialect) };
}

export async function readRetentionHours(conn: Conn, dialect: Dialect): Promise<number | null> {
  if (dialect.managed) {
    const rows = await q<{ name: string; value: string | null }>(conn, 'CALL mysql.rds_show_configuration');
    const value = rows.find((r) => r.name === 'binlog retention hours')?.value;
    return value === null || value === undefined || value === '' || String(value).toUpperCase() === 'NULL' ? null : Number(value);
  }
  const [row] = await q<{ s: number }>(conn, 'SELECT @@global.binlog_expire_logs_seconds AS s');
  const seconds = Number(row?.s ?? 0);
  return seconds === 0 ? Infinity : seconds / 3600;
}

function assertBinlogsUsable(b: BinlogInspection): void {
  if (!b.logBin) {
    throw new BinlogDisabledError(
      'Binary logging is off on the source (log_bin = OFF): set binlog_format = ROW in the source cluster parameter group (static: reboot the writer), or start mysqld with log_bin.',
    );
  }
  if (!FORMATS.has(b.format.toUpperCase())) {
    throw new BinlogDisabledError(`The source's binlog_format is '${b.format}': set it to ROW in the source cluster parameter group.`);
  }
}

/** Raises retention to `hours` when it is shorter; never shortens it. Records the previous value. */
export async function keepBinlogs(conn: Conn, dialect: Dialect, hours: number): Promise<BinlogSettings> {
  const before = await inspectBinlogs(conn, dialect);
  assertBinlogsUsable(before);
  const previous = before.retentionHours;
  const longEnough = previous === Infinity || (previous !== null && previous >= hours);
  if (!longEnough) {
    if (dialect.managed) await q(conn, "CALL mysql.rds_set_configuration('binlog retention hours', ?)", [hours]);
    else if (dialect.engine === 'mysql-8') await q(conn, `SET PERSIST binlog_expire_logs_seconds = ${Math.round(hours * 3600)}`);
    else await q(conn, `SET GLOBAL binlog_expire_logs_seconds = ${Math.round(hours * 3600)}`);
  }
  const after = longEnough ? previous : await readRetentionHours(conn, dialect);
  return {
    logBin: before.logBin,
    format: before.format,
    retentionHours: after === Infinity ? null : after,
    previousRetentionHours: previous === Infinity ? null : previous,
    changed: !longEnough,
    ...(previous === Infinity ? { retentionUnlimited: true } : {}),
  };
}
