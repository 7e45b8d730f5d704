// Preflight: binary logs on the source (on, format, retention long enough for the initial load) and,
// when reverse replication is asked for, on the target. Read-only: SELECT @@global... and, on Aurora,
// CALL mysql.rds_show_configuration.
import type { MigrationInput } from '../input/validate.js';
import { errnoOf, q, type Conn } from '../mysql/connection.js';
import type { Dialect } from '../mysql/dialect.js';
import { versionAtLeast } from '../mysql/detect.js';
import { fail, pass, warn, type CheckOutcome } from './checks.js';

export interface BinlogFacts {
  logBin: boolean;
  format: string;
}

export async function readBinlogFacts(conn: Conn): Promise<BinlogFacts> {
  const [row] = await q<{ logBin: unknown; format: unknown }>(conn, 'SELECT @@global.log_bin AS logBin, @@global.binlog_format AS format');
  const v = String(row?.logBin ?? '').toUpperCase();
  return { logBin: v === '1' || v === 'ON', format: String(row?.format ?? '').toUpperCase() };
}

/** Hours binlogs are kept: Infinity = never purged, null = not retained (Aurora NULL). */
export async function readRetention(conn: Conn, dialect: Dialect): Promise<number | null> {
  if (dialect.managed) {
    const rows = await q<{ name: string; value: unknown }>(conn, 'CALL mysql.rds_show_configuration');
    const value = rows.find((r) => r.name === 'binlog retention hours')?.value;
    return value === null || value === undefined || value === '' || String(value).toUpperCase() === 'NULL' ? null : Number(value);
  }
  try {
    const [row] = await q<{ s: unknown }>(conn, 'SELECT @@global.binlog_expire_logs_seconds AS s');
    const s = Number(row?.s ?? 0);
    if (s > 0) return s / 3600;
  } catch (err) {
    // MySQL 5.7 has only expire_logs_days.
    if (errnoOf((err as Error).cause) !== 1193) throw err;
  }
  const [row] = await q<{ d: unknown }>(conn, 'SELECT @@global.expire_logs_days AS d');
  const days = Number(row?.d ?? 0);
  return days > 0 ? days * 24 : Infinity;
}

export function sourceBinlogChecks(b: BinlogFacts): CheckOutcome[] {
  if (!b.logBin) {
    return [
      fail(
        'db-source-log-bin',
        'Binary logging is off on the source (log_bin = OFF): replication cannot start.',
        'Aurora: set binlog_format = ROW in a custom cluster parameter group attached to the source and reboot the writer (static). MySQL/MariaDB: start mysqld with log_bin and binlog_format=ROW.',
        'BinlogDisabledError',
      ),
    ];
  }
  const out = [pass('db-source-log-bin', 'Binary logging is on on the source.')];
  if (b.format === 'ROW') out.push(pass('db-source-binlog-format', 'binlog_format is ROW on the source.'));
  else if (b.format === 'MIXED' || b.format === 'STATEMENT') {
    out.push(
      warn(
        'db-source-binlog-format',
        `binlog_format is ${b.format} on the source: statements that are not deterministic (NOW(), UUID(), LIMIT without ORDER BY) can apply differently on the target.`,
        'Set binlog_format = ROW (cluster parameter group on Aurora, my.cnf or SET PERSIST elsewhere) before the initial load.',
      ),
    );
  } else out.push(fail('db-source-binlog-format', `binlog_format is '${b.format}' on the source.`, 'Set binlog_format = ROW.', 'BinlogDisabledError'));
  return out;
}

const GB = 1024 ** 3;

/**
 * Rough upper bound (with a 2x margin) of the time between the initial load's binlog position and the
 * moment replication reads from it: a clone plus its writer instance take tens of minutes whatever the
 * size; a snapshot and its cross-account copy grow with the data; a logical copy streams every row.
 */
export function expectedInitialLoadHours(method: MigrationInput['initialLoad']['method'], dataBytes: number): number {
  const hours = method === 'clone' ? 1 : method === 'snapshot' ? 1.5 + dataBytes / (100 * GB) : 1 + dataBytes / (20 * 1024 ** 2) / 3600;
  return Math.ceil(Math.round(hours * 200) / 100);
}

function describeRetention(h: number | null): string {
  if (h === null) return 'NULL (binlogs are purged as soon as possible)';
  if (h === Infinity) return 'unlimited (never purged)';
  return `${Math.round(h * 100) / 100} h`;
}

export function retentionChecks(input: MigrationInput, dialect: Dialect, current: number | null): CheckOutcome[] {
  const wanted = input.replication.binlogRetentionHours;
  const out: CheckOutcome[] = [];
  if (current === Infinity || (current !== null && current >= wanted)) {
    out.push(pass('db-source-binlog-retention', `Binlog retention on the source is ${describeRetention(current)}, at least replication.binlogRetentionHours (${wanted} h).`));
  } else {
    out.push(
      warn(
        'db-source-binlog-retention',
        `Binlog retention on the source is ${describeRetention(current)}, shorter than replication.binlogRetentionHours (${wanted} h). "Keep binlogs long enough" will raise it to ${wanted} h (and cleanup puts ${describeRetention(current)} back).`,
        dialect.managed
          ? `Nothing to do, or set it yourself: CALL mysql.rds_set_configuration('binlog retention hours', ${wanted}).`
          : `Nothing to do for this run; crossmove uses SET GLOBAL${dialect.engine === 'mysql-8' ? '/SET PERSIST' : ''}, so also set binlog_expire_logs_seconds = ${wanted * 3600} in the server's configuration if it may restart during the migration.`,
      ),
    );
  }
  return out;
}

/** Whether the retention asked for covers the initial load (from the input and the data size only: no server read). */
export function retentionBudgetChecks(input: MigrationInput, dialect: Dialect, dataBytes: number): CheckOutcome[] {
  const wanted = input.replication.binlogRetentionHours;
  const out: CheckOutcome[] = [];
  const method = input.initialLoad.method;
  const expected = expectedInitialLoadHours(method, dataBytes);
  if (wanted < expected) {
    out.push(
      fail(
        'db-binlog-retention-budget',
        `replication.binlogRetentionHours (${wanted} h) is shorter than the expected ${method} initial load with margin (about ${expected} h for ${(dataBytes / GB).toFixed(1)} GiB): binlogs could be purged before replication starts (IO error 1236).`,
        `Set replication.binlogRetentionHours to at least ${expected}.`,
      ),
    );
  } else {
    out.push(pass('db-binlog-retention-budget', `replication.binlogRetentionHours (${wanted} h) covers the expected ${method} initial load (about ${expected} h with margin).`));
  }
  out.push(...retentionMaxChecks(dialect, wanted));
  return out;
}

/** The most binlog retention the source accepts: RDS for MySQL 168 h, Aurora MySQL 2 before 2.11 168 h, else 2160 h. */
function retentionMaxChecks(dialect: Dialect, wanted: number): CheckOutcome[] {
  const id = 'db-binlog-retention-max';
  if (wanted <= 168) return [];
  if (dialect.engine === 'rds-mysql-8') {
    return [
      fail(
        id,
        `RDS for MySQL keeps binlogs at most 168 h (binlog retention hours); replication.binlogRetentionHours is ${wanted} h, which "Keep binlogs long enough" could not set.`,
        'Set replication.binlogRetentionHours to 168 or less (and make sure the initial load and catch-up fit in it).',
      ),
    ];
  }
  if (dialect.engine !== 'aurora-mysql-2') return [];
  const version = dialect.server?.auroraVersion;
  if (version && !versionAtLeast(version, '2.11')) {
    return [fail(id, `Aurora MySQL ${version} caps binlog retention at 168 h (2160 h only from 2.11); replication.binlogRetentionHours is ${wanted} h.`, 'Upgrade the source to Aurora MySQL 2.11+ or set replication.binlogRetentionHours to 168 or less.')];
  }
  if (version) return [];
  return [warn(id, `Aurora MySQL 2 before 2.11 caps binlog retention at 168 h; ${wanted} h is only accepted from 2.11 (the version was not read: source.engine is given).`, 'Upgrade to 2.11+ or set replication.binlogRetentionHours to 168 or less.')];
}

/** Reverse replication (fallback) reads the TARGET's binlogs after cutover. */
export function targetBinlogChecks(input: MigrationInput, target: BinlogFacts | null): CheckOutcome[] {
  const id = 'db-target-binlogs';
  if (!input.cutover.reverseReplication) return [pass(id, 'Reverse replication is not requested (cutover.reverseReplication false): the target needs no binary logs.')];
  if (target) {
    if (target.logBin && ['ROW', 'MIXED', 'STATEMENT'].includes(target.format)) {
      return [pass(id, `Binary logging is on on the target (binlog_format ${target.format}): reverse replication can run after cutover.`)];
    }
    return [
      fail(
        id,
        `cutover.reverseReplication is true but binary logging is off on the target (log_bin ${target.logBin ? 'ON' : 'OFF'}, binlog_format ${target.format || 'none'}): the fallback could not be set up after cutover.`,
        'Aurora: attach a cluster parameter group with binlog_format = ROW to the target (target.dbClusterParameterGroupName) and reboot its writer. MySQL/MariaDB: start it with log_bin and binlog_format=ROW. Or set cutover.reverseReplication to false.',
      ),
    ];
  }
  // The clone or restored cluster's group has binlogs on either way: the preflight's target-parameter-group
  // check refuses a given one without, and without one crossmove creates a copy of the source's.
  if (!input.target.dbClusterParameterGroupName) {
    return [pass(id, `The new cluster gets cluster parameter group ${input.names.targetClusterParameterGroupName}, a copy of the source's with binlogs on: reverse replication can run after cutover.`)];
  }
  return [pass(id, `The target cluster will use parameter group ${input.target.dbClusterParameterGroupName}, whose binlog_format the target-parameter-group check requires on: reverse replication can run after cutover.`)];
}
