// Notifications of the scheduled lag check (SNS): replication broken, lag above the limit for too
// long. The pipeline's own notifications (approval needed, succeeded, failed) live in shared/notify;
// these go to the stack's topic AND the input's notify.topicArn. Every text passes redact().
import { PublishCommand } from '@aws-sdk/client-sns';
import { redact } from '../redact.js';
import { toSubject } from '../notify/publish.js';
import { snsClientFor } from '../notify/sns.js';

export interface Notification {
  kind: 'replication-broken' | 'lag-above-limit';
  migrationId: string;
  subject: string;
  message: string;
}

/** Publishes to every distinct topic given (the stack's topic and the input's notify.topicArn). */
export async function publishNotification(n: Notification, topics: (string | null | undefined)[]): Promise<number> {
  const targets = [...new Set(topics.filter((t): t is string => !!t))];
  for (const TopicArn of targets) {
    await snsClientFor(TopicArn).send(
      new PublishCommand({
        TopicArn,
        Subject: toSubject(redact(n.subject)),
        Message: redact(n.message),
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: n.kind },
          migrationId: { DataType: 'String', StringValue: n.migrationId },
        },
      }),
    );
  }
  return targets.length;
}

const fmt = (v: number | null | undefined, unit: string) => (v === null || v === undefined ? 'not measurable' : `${v} ${unit}`);

export function replicationBrokenNotification(migrationId: string, d: { ioRunning: boolean; sqlRunning: boolean; since: string; lastError?: string | null }): Notification {
  return {
    kind: 'replication-broken',
    migrationId,
    subject: `crossmove ${migrationId}: replication is broken`,
    message: [
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
    message: [
      `The replication lag of migration ${migrationId} has been above the limit (${d.maxLagSeconds} s) since ${d.since}.`,
      `Heartbeat lag: ${fmt(d.heartbeatLagMs, 'ms')}; byte lag: ${fmt(d.byteLag, 'bytes')}.`,
      `The cutover waits until the lag is under the limit. Look for a write burst or a slow target; see: crossmove status ${migrationId}`,
    ].join('\n'),
  };
}
