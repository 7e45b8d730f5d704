// The scheduled lag check's rules, pure: given what it remembered and the new sample, what it
// remembers now and which notifications to send. One notification per episode (broken, or lag above
// the limit for longer than N minutes); an episode ends when the condition clears.
import type { WatchRecord } from '../approval/table.js';
import { lagAboveLimitNotification, replicationBrokenNotification } from '../notify/lag.js';
import type { Notification } from '../notify/types.js';

export interface ReplicationSample {
  heartbeatLagMs: number | null;
  byteLag: number | null;
  secondsBehind: number | null;
  ioRunning: boolean;
  sqlRunning: boolean;
  /** Last IO/SQL error text as the server reports it (no secrets: replication errors name hosts and files). */
  lastError?: string | null;
}

export interface RuleContext {
  migrationId: string;
  executionName: string;
  maxLagSeconds: number;
  lagAlertMinutes: number;
  now: Date;
}

/** Heartbeat lag when measurable; Seconds_Behind only as a fallback (it reads 0 while the IO thread is behind). */
export function isAboveLimit(s: ReplicationSample, maxLagSeconds: number): boolean {
  if (s.heartbeatLagMs !== null) return s.heartbeatLagMs > maxLagSeconds * 1000;
  return s.secondsBehind !== null && s.secondsBehind > maxLagSeconds;
}

function freshWatch(executionName: string, now: Date): WatchRecord {
  return {
    executionName,
    lastCheckedAt: now.toISOString(),
    lastLag: { heartbeatLagMs: null, byteLag: null, secondsBehind: null, ioRunning: false, sqlRunning: false },
    aboveSince: null,
    lagNotified: false,
    brokenSince: null,
    brokenNotified: false,
    alarmsCreated: false,
  };
}

export function evaluateWatch(
  previous: WatchRecord | null,
  s: ReplicationSample,
  ctx: RuleContext,
): { next: WatchRecord; notifications: Notification[] } {
  // A new run starts a new memory (its episodes are its own), but alarms stay created.
  const base =
    previous && previous.executionName === ctx.executionName
      ? previous
      : { ...freshWatch(ctx.executionName, ctx.now), alarmsCreated: previous?.alarmsCreated ?? false };
  const now = ctx.now.toISOString();
  const next: WatchRecord = {
    ...base,
    lastCheckedAt: now,
    lastLag: { heartbeatLagMs: s.heartbeatLagMs, byteLag: s.byteLag, secondsBehind: s.secondsBehind, ioRunning: s.ioRunning, sqlRunning: s.sqlRunning },
  };
  const notifications: Notification[] = [];

  if (!(s.ioRunning && s.sqlRunning)) {
    next.brokenSince ??= now;
    if (!next.brokenNotified) {
      notifications.push(
        replicationBrokenNotification(ctx.migrationId, { ioRunning: s.ioRunning, sqlRunning: s.sqlRunning, since: next.brokenSince, lastError: s.lastError }),
      );
      next.brokenNotified = true;
    }
  } else {
    next.brokenSince = null;
    next.brokenNotified = false;
  }

  if (isAboveLimit(s, ctx.maxLagSeconds)) {
    next.aboveSince ??= now;
    const minutesAbove = (ctx.now.getTime() - Date.parse(next.aboveSince)) / 60_000;
    if (!next.lagNotified && minutesAbove >= ctx.lagAlertMinutes) {
      notifications.push(
        lagAboveLimitNotification(ctx.migrationId, {
          heartbeatLagMs: s.heartbeatLagMs,
          byteLag: s.byteLag,
          maxLagSeconds: ctx.maxLagSeconds,
          since: next.aboveSince,
          minutes: Math.floor(minutesAbove),
        }),
      );
      next.lagNotified = true;
    }
  } else {
    next.aboveSince = null;
    next.lagNotified = false;
  }
  return { next, notifications };
}
