// The switch's actions on the two servers (the Switcher of switcher.ts that the cutover and the
// fallback run): the connections, dialects, write blocker and marker store of one direction.
import { logger, logStep } from '../logger.js';
import { checkReplication } from './check.js';
import type { Conn } from './connection.js';
import { binlogStatus } from './dialect.js';
import { diffGrants } from './grants.js';
import { killAppSessions, killAppSessionsNow, killLongTransactions, killRunningStatements } from './sessions.js';
import { guardNewPrimaryWritable, sides, type SwitchPlan } from './switch-plan.js';
import { finishAfterCrash, rollBack, runAfterSwitch, undoAfterCrash } from './switch-recovery.js';
import type { Switcher } from './switcher.js';
import { checkInBlock } from '../verify/cutover-check.js';
import { waitForExecuted } from './wait-position.js';

/** A read_only block still waiting after this long, with the running statements killed, kills every application session. */
const CLEAR_ALL_AFTER_MS = 250;

export function liveSwitcher<R extends { grantDifferences: string[] }>(d: SwitchPlan<R>): Switcher<R> {
  const { input } = d;
  const { oldP, newP, w } = sides(d);
  // crossmove's own connections on the old primary: never killed.
  const spare = [...(d.spareIds ?? []), oldP.conn.threadId];
  return {
    blockMethod: d.blocker.method,
    announce: (step, details) => logStep(`${w.action}: ${step}`, details),
    readMarker: () => d.markers.read(),
    finishAfterCrash: (result) => finishAfterCrash(d, result),
    undoAfterCrash: (marker) => undoAfterCrash(d, marker),
    // The old primary writes the heartbeat, the new one (its replica) shows it.
    checkReplication: () =>
      checkReplication(oldP.conn, newP.conn, newP.dialect, input, {
        activeWaitMs: Math.max(1000, input.replication.maxLagSeconds * 2000),
        ...(d.replicationUser ? { replicationUser: d.replicationUser } : {}),
      }),
    endLongTransactions: (deadline) => killLongTransactions(oldP.conn, oldP.dialect, d.keepUsers, { spareIds: spare, deadline }),
    planBlock: () => d.blocker.plan(),
    writeMarker: (marker) => d.markers.write(marker),
    ...(d.beforeBlock ? { stopHeartbeatWriter: d.beforeBlock } : {}),
    blockWrites: (deadline) => {
      // A block that waits for running statements kills their sessions while it waits (they are killed
      // right after it anyway): under load, waiting for them is a deadlock (write-block.ts). Anything else
      // still holding it up after CLEAR_ALL_AFTER_MS (an explicit table lock): every application session.
      const clearingSince = Date.now();
      const clearTheWay = async (other: Conn, blockerId: number) => {
        const kill = Date.now() - clearingSince < CLEAR_ALL_AFTER_MS ? killRunningStatements : killAppSessionsNow;
        await kill(other, oldP.dialect, d.keepUsers, [...spare, blockerId]);
      };
      return d.blocker.block(deadline, clearTheWay);
    },
    killSessions: (deadline) => killAppSessions(oldP.conn, oldP.dialect, d.keepUsers, { spareIds: d.spareIds, deadline }),
    readOldPosition: () => binlogStatus(oldP.conn),
    ...(d.afterFinalPosition ? { afterFinalPosition: d.afterFinalPosition } : {}),
    waitForPosition: (pos, deadline) => waitForExecuted(newP.conn, newP.dialect, pos, deadline, input.replication.binlogRetentionHours, w),
    stopReplication: () => newP.dialect.stop(newP.conn),
    readNewPosition: () => binlogStatus(newP.conn),
    verifyData: async (timeoutMs) => {
      // O(changes), never O(data): the data was compared before the approval (shared/verify/cutover-check.ts).
      const r = await checkInBlock({ oldConn: oldP.conn, newConn: newP.conn, newDialect: newP.dialect, input, direction: d.direction, timeoutMs });
      return { tablesVerified: r.tablesVerified, checksumsMatch: r.checksumsMatch };
    },
    compareGrants: () => diffGrants(oldP.conn, newP.conn, d.crossmoveUsers, w),
    pointOfNoReturn: (what, details) => logger.warn(`${w.action}: POINT OF NO RETURN: ${what}`, details),
    resetReplication: () => newP.dialect.reset(newP.conn),
    makeWritable: async () => {
      await guardNewPrimaryWritable(d, oldP.conn, `this ${w.action} blocked it and verified its binlog stood still`);
      await d.makeWritable();
    },
    rollBack: (blockPlan, replicationStopped, why) => rollBack(d, blockPlan, replicationStopped, why),
    afterSwitch: (diff, steps) => runAfterSwitch(d, diff, steps),
  };
}
