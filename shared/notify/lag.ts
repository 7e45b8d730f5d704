// Notifications of the scheduled lag check: replication broken, lag above the limit for too long.
// Sent like the pipeline's own (messages.ts) by publish.ts, to the stack's topic and the input's
// notify.topicArn.
import type { Notification } from './types.js';

const fmt = (v: number | null | undefined, unit: string) => (v === null || v === undefined ? 'not measurable' : `${v} ${unit}`);

export function replicationBrokenNotification(migrationId: string, d: { ioRunning: boolean; sqlRunning: boolean; since: string; lastError?: string | null }): Notification {
  return {
    kind: 'replication-broken',
    migrationId,
    subject: `crossmove ${migrationId}: replication is broken`,
    text: [
      `Replication of migration ${migrationId} stopped (checked since ${d.since}).`,
      `IO thread running: ${d.ioRunning}; SQL thread running: ${d.sqlRunning}.`,
      d.lastError ? `Last error: ${d.lastError}` : '',
      `Nothing will be cut over while replication is broken. Fix the cause on the target, then see: crossmove status ${migrationId}`,
    ].filter(Boolean).join('\n'),
  };
}

export function lagAboveLimitNotification(
  migrationId: string,
  d: { heartbeatLagMs: number | null; byteLag: number | null; maxLagSeconds: number; since: string; minutes: number },
): Notification {
  return {
    kind: 'lag-above-limit',
    migrationId,
    subject: `crossmove ${migrationId}: lag above ${d.maxLagSeconds} s for ${d.minutes} min`,
    text: [
      `The replication lag of migration ${migrationId} has been above the limit (${d.maxLagSeconds} s) since ${d.since}.`,
      `Heartbeat lag: ${fmt(d.heartbeatLagMs, 'ms')}; byte lag: ${fmt(d.byteLag, 'bytes')}.`,
      `The cutover waits until the lag is under the limit. Look for a write burst or a slow target; see: crossmove status ${migrationId}`,
    ].join('\n'),
  };
}
