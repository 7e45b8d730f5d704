// The switch's operator messages from typed reasons, with the sides named for each direction. Every
// expected text below is what the switch said before its reasons were typed (produced then by
// rewriting the cutover's English with .replace()): tests and runbooks search for them word for word.
import { describe, expect, it } from 'vitest';
import { budgetRanOut, switchWords, type RollbackReason } from '../../shared/mysql/switch-words.js';
import { grantDiffLines } from '../../shared/mysql/grants.js';
import { sidesOf } from '../../shared/mysql/switch-sides.js';
import { registerSecretValue } from '../../shared/redact.js';

const reasons: RollbackReason[] = [
  { kind: 'budget', seconds: 30, when: 'before verification' },
  { kind: 'sessions-still-open', seconds: 30, sessions: [{ id: 12, user: 'app' }, { id: 13, user: 'app' }] },
  { kind: 'no-final-position' },
  { kind: 'timeout', executed: { file: 'mysql-bin.000001', position: 400 }, wanted: { file: 'mysql-bin.000001', position: 900 } },
  { kind: 'applier-error', errorName: 'ReplicationBrokenError', message: 'Duplicate entry' },
  { kind: 'no-external-source' },
  { kind: 'binlog-moved', from: { file: 'mysql-bin.000001', position: 900 }, to: { file: 'mysql-bin.000001', position: 950 } },
  { kind: 'failed', errorName: 'VerificationFailedError', message: '2 row(s) differ' },
];

describe('rollback messages', () => {
  it('say the cutover\'s reasons with the source as the old primary', () => {
    expect(reasons.map((r) => switchWords('cutover').rolledBack(r))).toEqual([
      "Cutover rolled back: the 30 s budget (cutover.catchUpTimeoutSeconds) ran out before verification. The source is writable again and replication is running; nothing was switched. Wait until the lag is lower, or raise cutover.catchUpTimeoutSeconds, then start the cutover again.",
      "Cutover rolled back: killed sessions 12 (app), 13 (app) were still open on the source when the 30 s budget (cutover.catchUpTimeoutSeconds) ran out. The source is writable again and replication is running; nothing was switched. Wait until the lag is lower, or raise cutover.catchUpTimeoutSeconds, then start the cutover again.",
      "Cutover rolled back: SHOW MASTER STATUS returned nothing on the source (binary logging off?). The source is writable again and replication is running; nothing was switched. Fix the cause, then start the cutover again.",
      "Cutover rolled back: the target had executed mysql-bin.000001:400 but not the source's final position mysql-bin.000001:900 within cutover.catchUpTimeoutSeconds. The source is writable again and replication is running; nothing was switched. Wait until the lag is lower, or raise cutover.catchUpTimeoutSeconds, then start the cutover again.",
      "Cutover rolled back: ReplicationBrokenError: Duplicate entry. The source is writable again and replication is running; nothing was switched. Fix the cause, then start the cutover again.",
      "Cutover rolled back: the target has no external source configured. The source is writable again and replication is running; nothing was switched. Fix the cause, then start the cutover again.",
      "Cutover rolled back: the source binlog moved from mysql-bin.000001:900 to mysql-bin.000001:950 after writes were blocked: a session still writes (check cutover.writeBlock.keepUsers and the write block). The source is writable again and replication is running; nothing was switched. Fix the cause, then start the cutover again.",
      "Cutover rolled back: VerificationFailedError: 2 row(s) differ. The source is writable again and replication is running; nothing was switched. Fix the cause, then start the cutover again.",
    ]);
  });

  it('say the fallback\'s reasons with the target as the old primary', () => {
    expect(reasons.map((r) => switchWords('fallback').rolledBack(r))).toEqual([
      "Fallback rolled back: the 30 s budget (cutover.catchUpTimeoutSeconds) ran out before verification. The target is writable again and reverse replication is running; the application stays on the target. Wait until the reverse lag is lower, or raise cutover.catchUpTimeoutSeconds, then fall back again.",
      "Fallback rolled back: killed sessions 12 (app), 13 (app) were still open on the target when the 30 s budget (cutover.catchUpTimeoutSeconds) ran out. The target is writable again and reverse replication is running; the application stays on the target. Wait until the reverse lag is lower, or raise cutover.catchUpTimeoutSeconds, then fall back again.",
      "Fallback rolled back: SHOW MASTER STATUS returned nothing on the target (binary logging off?). The target is writable again and reverse replication is running; the application stays on the target. Fix the cause, then fall back again.",
      "Fallback rolled back: the source had executed mysql-bin.000001:400 but not the target's final position mysql-bin.000001:900 within cutover.catchUpTimeoutSeconds. The target is writable again and reverse replication is running; the application stays on the target. Wait until the reverse lag is lower, or raise cutover.catchUpTimeoutSeconds, then fall back again.",
      "Fallback rolled back: ReplicationBrokenError: Duplicate entry. The target is writable again and reverse replication is running; the application stays on the target. Fix the cause, then fall back again.",
      "Fallback rolled back: the source has no external source configured. The target is writable again and reverse replication is running; the application stays on the target. Fix the cause, then fall back again.",
      "Fallback rolled back: the target binlog moved from mysql-bin.000001:900 to mysql-bin.000001:950 after writes were blocked: a session still writes (check fallbackOptions.writeBlock.keepUsers and the write block). The target is writable again and reverse replication is running; the application stays on the target. Fix the cause, then fall back again.",
      "Fallback rolled back: VerificationFailedError: 2 row(s) differ. The target is writable again and reverse replication is running; the application stays on the target. Fix the cause, then fall back again.",
    ]);
  });

  it('say what the cutover needs when the target has no binlog for reverse replication', () => {
    expect(switchWords('cutover').rolledBack({ kind: 'no-new-position' })).toEqual("Cutover rolled back: SHOW MASTER STATUS returned nothing on the target: enable binary logging on the target for reverse replication (or set cutover.reverseReplication to false). The source is writable again and replication is running; nothing was switched. Fix the cause, then start the cutover again.");
  });

  it('advise waiting or a larger budget exactly when the budget ran out', () => {
    expect(reasons.filter(budgetRanOut).map((r) => r.kind)).toEqual(['budget', 'sessions-still-open', 'timeout']);
  });

  it('keep the error class apart from its message, and mask a secret the message quotes', () => {
    registerSecretValue('hunter2-secret');
    const why = switchWords('cutover').why({ kind: 'failed', errorName: 'QueryError', message: "Access denied for user 'app' (password 'hunter2-secret')" });
    expect(why).toBe("QueryError: Access denied for user 'app' (password '********')");
  });
});

describe('grant difference lines', () => {
  const users = ["'a'@'%'"];
  const grants = [{ account: "'a'@'%'", grant: "GRANT SELECT ON *.* TO 'a'@'%'" }];
  it('name what the target lacks at cutover', () => {
    expect(grantDiffLines(users, grants, sidesOf('cutover'))).toEqual([
      "user 'a'@'%' exists on the source but not on the target",
      "'a'@'%' lacks on the target: GRANT SELECT ON *.* TO 'a'@'%'",
    ]);
  });
  it('name what the source lacks at fallback', () => {
    expect(grantDiffLines(users, grants, sidesOf('fallback'))).toEqual([
      "user 'a'@'%' exists on the target but not on the source",
      "'a'@'%' lacks on the source: GRANT SELECT ON *.* TO 'a'@'%'",
    ]);
  });
});
