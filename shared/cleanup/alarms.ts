// Cleanup: the two per-migration CloudWatch alarms the scheduled lag check created when it first saw
// the migration replicating (shared/metrics/alarms.ts). Left behind they stay quiet (missing data is
// not breaching) but clutter the console and count against the account's alarms.
// Only on AWS: the lag check, and so CROSSMOVE_ALARM_PREFIX, exist only in the deployed stack.
import { alarmNames, deleteAlarms, existingAlarms } from '../metrics/alarms.js';
import { logStep } from '../logger.js';
import type { CleanupItem } from '../state.js';
import { item, type CleanupState } from './types.js';

export async function removeMigrationAlarms(state: CleanupState): Promise<CleanupItem[]> {
  const prefix = process.env.CROSSMOVE_ALARM_PREFIX;
  if (!prefix) return [];
  const names = Object.values(alarmNames(prefix, state.input.migrationId));
  const existing = await existingAlarms(names);
  if (existing.length) {
    logStep('delete the per-migration alarms', { alarms: existing });
    await deleteAlarms(existing);
  }
  return names.map((n) => item('cloudwatch-alarm', n, state.accounts.target, existing.includes(n) ? 'removed' : 'gone'));
}
