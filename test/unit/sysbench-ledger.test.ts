// The sysbench ledger analysis: what the clients logged held against what a server has. These are the
// checks every sysbench cutover test relies on, so each must see what it is there to see.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ackedSince, checkLedger, clientWindows, errorsByKind, ledgerKey, parseThreadLog, ThreadLogReader, tpsBetween } from '../../local/sysbench-ledger.js';

// Thread 3 of run 1: seq 1 and 2 acknowledged, seq 3's COMMIT sent without a reply, seq 4 failed in
// its body (read-only), seq 5 acknowledged after the switch; the last line is still being written.
const LOG = ['A 1 1000.5', 'C 2', 'A 2 1010.0', 'C 3', 'E 3 2013 commit 1020.0', 'E 4 1290 body 1030.0', 'C 5', 'A 5 1400.0', 'C 6', 'A 6 14'].join('\n');

describe('sysbench ledger', () => {
  const log = parseThreadLog(3, 1, LOG);

  it('parses acknowledgements, COMMITs sent and errors, ignoring a half-written last line', () => {
    expect(log.acked).toEqual([
      { seq: 1, at: 1000.5 },
      { seq: 2, at: 1010 },
      { seq: 5, at: 1400 },
    ]);
    expect(log.commitSent).toEqual([2, 3, 5, 6]);
    expect(log.errors).toEqual([
      { seq: 3, errno: 2013, stage: 'commit', at: 1020 },
      { seq: 4, errno: 1290, stage: 'body', at: 1030 },
    ]);
  });

  it('counts an acknowledged transaction missing on the server as lost', () => {
    const server = new Set([ledgerKey(1, 3, 1), ledgerKey(1, 3, 5)]);
    expect(checkLedger([log], server).lost).toEqual([ledgerKey(1, 3, 2)]);
  });

  it('counts a transaction on the server whose COMMIT no client sent as half-committed, not one whose reply was lost', () => {
    const server = new Set([1, 2, 3, 4, 5].map((s) => ledgerKey(1, 3, s)));
    const check = checkLedger([log], server);
    expect(check.lost).toEqual([]);
    expect(check.halfCommitted).toEqual([ledgerKey(1, 3, 4)]);
    // seq 3 committed without a reply; seq 6 (COMMIT sent, not yet answered) did not.
    expect(check.unknownOutcome).toEqual({ committed: 1, notCommitted: 1 });
    expect(check.acknowledged).toBe(3);
  });

  it('ignores other runs on the server', () => {
    const server = new Set([ledgerKey(1, 3, 1), ledgerKey(1, 3, 2), ledgerKey(1, 3, 5), ledgerKey(2, 3, 99)]);
    expect(checkLedger([log], server)).toMatchObject({ lost: [], halfCommitted: [] });
  });

  it("measures each client's window across a moment, and the clients that never came back", () => {
    const stuck = parseThreadLog(4, 1, 'A 1 1005.0\n');
    expect(clientWindows([log, stuck], 1200)).toEqual({ windows: [1400 - 1010], gaps: [1400 - 1010], neverBack: 1 });
  });

  it("counts a client's wait from the attempt it began after its last commit, not its idle time before it", () => {
    // Thread 5 idles (a rate-limited load) from 1000 to 1100, is kept waiting across the switch at 1200
    // (a failed try, then a retry) and commits at 1300: 200 ms unavailable, 300 ms between commits.
    const waited = parseThreadLog(5, 1, ['B 1 990.0', 'A 1 1000.0', 'B 2 1100.0', 'E 2 1290 body 1150.0', 'B 3 1151.0', 'A 3 1300.0', ''].join('\n'));
    // Thread 6 idles across the switch and begins after it: it waited only for its own transaction.
    const idle = parseThreadLog(6, 1, ['B 1 990.0', 'A 1 1000.0', 'B 2 1250.0', 'A 2 1260.0', ''].join('\n'));
    expect(waited.begun.map((b) => b.seq)).toEqual([1, 2, 3]);
    expect(clientWindows([waited, idle], 1200)).toEqual({ windows: [200, 10], gaps: [300, 260], neverBack: 0 });
  });

  it('gives the rate over an interval and the errors by kind', () => {
    expect(tpsBetween([log], 1000, 1500)).toBe(6);
    expect(errorsByKind([log])).toEqual({ '2013 connection lost': 1, '1290 read-only': 1 });
    expect(errorsByKind([log], 1025)).toEqual({ '1290 read-only': 1 });
  });

  it('reads a growing log incrementally, completing a line whose end arrives later, as a whole read would', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crossmove-ledger-test-'));
    try {
      const path = join(dir, 'thread-3.log');
      const reader = new ThreadLogReader(path, 3, 1);
      writeFileSync(path, LOG.slice(0, 25));
      expect(reader.read().acked).toEqual([{ seq: 1, at: 1000.5 }]);
      appendFileSync(path, LOG.slice(25));
      appendFileSync(path, '.5\n');
      expect(reader.read()).toEqual(parseThreadLog(3, 1, `${LOG}.5\n`));
      expect(reader.read().acked.at(-1)).toEqual({ seq: 6, at: 14.5 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts the acknowledgements after a moment', () => {
    expect(ackedSince([log], 1005)).toBe(2);
    expect(ackedSince([log], 0)).toBe(3);
    expect(ackedSince([log], 1400)).toBe(0);
  });
});
