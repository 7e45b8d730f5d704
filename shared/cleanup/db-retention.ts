// Cleanup, database half: binlog retention back to what it was, only when crossmove raised it
// ($.binlogs.changed) and nobody changed it since (then it is left alone and the report says so).
import { logStep } from '../logger.js';
import type { BinlogSettings, CleanupItem } from '../state.js';
import { q, type Conn } from '../mysql/connection.js';
import { readRetentionHours } from '../mysql/binlog-settings.js';
import type { Dialect } from '../mysql/dialect.js';
import { item } from './types.js';

const show = (h: number | null) => (h === null ? 'NULL' : h === Infinity ? 'unlimited' : `${Math.round(h * 1000) / 1000} h`);
const same = (a: number | null, b: number | null) => (a === null || b === null ? a === b : Math.abs(a - b) < 1e-6);

export async function resetRetention(source: Conn, dialect: Dialect, binlogs: BinlogSettings | undefined): Promise<CleanupItem> {
  const id = 'binlog retention on the source';
  if (!binlogs) return item('binlog-retention', id, null, 'skipped', 'the state has no $.binlogs: nothing known about what crossmove changed');
  if (!binlogs.changed) return item('binlog-retention', id, null, 'skipped', `crossmove did not change it (it was ${binlogs.retentionUnlimited ? 'unlimited' : show(binlogs.retentionHours)})`);
  const raw = await readRetentionHours(source, dialect);
  const current = raw === Infinity ? null : raw;
  const previous = binlogs.previousRetentionHours;
  if (same(current, previous)) return item('binlog-retention', id, null, 'gone', `already ${show(previous)}`);
  if (!same(current, binlogs.retentionHours)) {
    return item('binlog-retention', id, null, 'kept', `changed since crossmove set ${show(binlogs.retentionHours)} (now ${show(raw)}): left alone`);
  }
  logStep('put binlog retention back', { from: show(current), to: show(previous), engine: dialect.engine });
  if (dialect.managed) await q(source, "CALL mysql.rds_set_configuration('binlog retention hours', ?)", [previous]);
  else {
    const seconds = previous === null ? 0 : Math.round(previous * 3600);
    await q(source, `SET ${dialect.engine === 'mysql-8' ? 'PERSIST' : 'GLOBAL'} binlog_expire_logs_seconds = ${seconds}`);
  }
  return item('binlog-retention', id, null, 'removed', `back to ${show(previous)} (crossmove had set ${show(binlogs.retentionHours)})`);
}
