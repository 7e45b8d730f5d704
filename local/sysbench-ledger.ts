// What the sysbench clients saw (their per-thread logs, local/sysbench/crossmove_oltp.lua) held against
// what a server has (its sbtest_ledger rows): acknowledged transactions missing (lost), transactions
// present that no client ever sent a COMMIT for (half-committed work that should not exist), the
// write-unavailability window each client saw, the rate, and the errors by kind.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type mysql from 'mysql2/promise';

export interface Ack {
  seq: number;
  /** Epoch ms when COMMIT returned. */
  at: number;
}

export interface ClientError {
  seq: number;
  errno: number;
  /** body: before COMMIT was sent; commit: the COMMIT itself failed (outcome unknown); idle: between transactions. */
  stage: string;
  at: number;
}

export interface ThreadLog {
  run: number;
  thread: number;
  /** When each transaction (or retry: a new seq) began, in time order. */
  begun: Ack[];
  acked: Ack[];
  /** Transactions whose COMMIT was sent (acknowledged or not). */
  commitSent: number[];
  errors: ClientError[];
}

export function parseThreadLog(thread: number, run: number, text: string): ThreadLog {
  const log: ThreadLog = { run, thread, begun: [], acked: [], commitSent: [], errors: [] };
  // The last line may still be being written.
  appendLines(log, text);
  return log;
}

/** Adds the complete lines of `text` to `log`; returns the incomplete last line. */
function appendLines(log: ThreadLog, text: string): string {
  const lines = text.split('\n');
  const rest = lines.pop() ?? '';
  for (const line of lines) {
    const f = line.split(' ');
    if (f[0] === 'B') log.begun.push({ seq: Number(f[1]), at: Number(f[2]) });
    else if (f[0] === 'A') log.acked.push({ seq: Number(f[1]), at: Number(f[2]) });
    else if (f[0] === 'C') log.commitSent.push(Number(f[1]));
    else if (f[0] === 'E') log.errors.push({ seq: Number(f[1]), errno: Number(f[2]), stage: f[3] ?? '', at: Number(f[4]) });
  }
  return rest;
}

/**
 * A thread's log as the thread writes it: each read() parses only what was appended since the last one
 * (polled every few ms by the tests and benchmarks, re-reading whole files grew with the run).
 */
export class ThreadLogReader {
  readonly log: ThreadLog;
  private offset = 0;
  private partial = '';

  constructor(
    private readonly path: string,
    thread: number,
    run: number,
  ) {
    this.log = { run, thread, begun: [], acked: [], commitSent: [], errors: [] };
  }

  read(): ThreadLog {
    const fd = openSync(this.path, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size > this.offset) {
        const buf = Buffer.alloc(size - this.offset);
        const n = readSync(fd, buf, 0, buf.length, this.offset);
        this.offset += n;
        this.partial = appendLines(this.log, this.partial + buf.subarray(0, n).toString('utf8'));
      }
    } finally {
      closeSync(fd);
    }
    return this.log;
  }
}

/** Acknowledged transactions after `since` (epoch ms); a thread's acknowledgements are in time order. */
export function ackedSince(logs: ThreadLog[], since: number): number {
  let n = 0;
  for (const l of logs) for (let i = l.acked.length - 1; i >= 0 && l.acked[i]!.at > since; i--) n++;
  return n;
}

export const ledgerKey = (run: number, thread: number, seq: number) => `${run}:${thread}:${seq}`;

/** The ledger rows of these runs on a server. */
export async function ledgerKeys(conn: mysql.Connection, runs: number[], schema = 'sbtest'): Promise<Set<string>> {
  const [rows] = await conn.query(`SELECT run_id AS r, thread_id AS t, seq AS s FROM \`${schema}\`.sbtest_ledger WHERE run_id IN (?)`, [runs]);
  return new Set((rows as { r: number; t: number; s: number }[]).map((x) => ledgerKey(Number(x.r), Number(x.t), Number(x.s))));
}

export interface LedgerCheck {
  acknowledged: number;
  /** Acknowledged transactions the server does not have. */
  lost: string[];
  /** Transactions the server has although no client sent their COMMIT (a half transaction committed). */
  halfCommitted: string[];
  /** COMMIT sent, no reply (connection killed or lost during COMMIT): either outcome is correct. */
  unknownOutcome: { committed: number; notCommitted: number };
}

export function checkLedger(logs: ThreadLog[], onServer: Set<string>): LedgerCheck {
  const acked = new Set<string>();
  const sent = new Set<string>();
  for (const l of logs) {
    for (const a of l.acked) acked.add(ledgerKey(l.run, l.thread, a.seq));
    for (const s of l.commitSent) sent.add(ledgerKey(l.run, l.thread, s));
  }
  const runs = new Set(logs.map((l) => l.run));
  const unknownOutcome = { committed: 0, notCommitted: 0 };
  for (const k of sent) if (!acked.has(k)) onServer.has(k) ? unknownOutcome.committed++ : unknownOutcome.notCommitted++;
  return {
    acknowledged: acked.size,
    lost: [...acked].filter((k) => !onServer.has(k)),
    halfCommitted: [...onServer].filter((k) => runs.has(Number(k.split(':')[0])) && !sent.has(k) && !acked.has(k)),
    unknownOutcome,
  };
}

/** A thread's last acknowledgement at or before `at` and its first after (epoch ms). */
export function acksAround(l: ThreadLog, at: number): { before?: number; after?: number } {
  let before: number | undefined;
  let after: number | undefined;
  for (const a of l.acked) {
    if (a.at <= at && (before === undefined || a.at > before)) before = a.at;
    if (a.at > at && (after === undefined || a.at < after)) after = a.at;
  }
  return { before, after };
}

/**
 * The write-unavailability window as each client thread saw it, across `at` (a moment where no client
 * can commit: the switch or the rollback just finished): from the moment the thread began the attempt
 * that led to its first commit after `at` (the first transaction it began after its last commit before
 * `at`; its failed tries and reconnects included) to that commit. `gaps` is the plain distance between
 * those two commits: with a rate-limited load (sysbench --rate) it also holds the thread's idle time
 * between transactions (64 threads at 400 tx/s: about 160 ms per thread), which is no unavailability.
 * A log without begin lines (an older script) counts the gap. Threads that never committed again are
 * counted apart.
 */
export function clientWindows(logs: ThreadLog[], at: number): { windows: number[]; gaps: number[]; neverBack: number } {
  const windows: number[] = [];
  const gaps: number[] = [];
  let neverBack = 0;
  for (const l of logs) {
    const { before, after } = acksAround(l, at);
    if (before === undefined) continue;
    if (after === undefined) {
      neverBack++;
      continue;
    }
    const began = l.begun.find((b) => b.at >= before)?.at;
    gaps.push(after - before);
    windows.push(after - (began !== undefined && began <= after ? began : before));
  }
  return { windows, gaps, neverBack };
}

/** Acknowledged transactions per second over [from, to) epoch ms. */
export function tpsBetween(logs: ThreadLog[], from: number, to: number): number {
  if (to <= from) return 0;
  let n = 0;
  for (const l of logs) for (const a of l.acked) if (a.at >= from && a.at < to) n++;
  return n / ((to - from) / 1000);
}

const ERROR_NAMES: Record<number, string> = {
  1040: 'too many connections',
  1053: 'server shutdown',
  1205: 'lock wait timeout',
  1213: 'deadlock',
  1290: 'read-only',
  1317: 'query interrupted',
  1927: 'connection killed',
  2003: 'cannot connect',
  2006: 'server gone away',
  2013: 'connection lost',
};

/** The clients' errors by kind ("1290 read-only": n) over [from, to) epoch ms. */
export function errorsByKind(logs: ThreadLog[], from = -Infinity, to = Infinity): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of logs) {
    for (const e of l.errors) {
      if (e.at < from || e.at >= to) continue;
      const kind = `${e.errno} ${ERROR_NAMES[e.errno] ?? 'other'}`;
      out[kind] = (out[kind] ?? 0) + 1;
    }
  }
  return out;
}

/** The moments (epoch ms) of every acknowledged transaction, sorted. */
export function ackTimes(logs: ThreadLog[]): number[] {
  return logs.flatMap((l) => l.acked.map((a) => a.at)).sort((a, b) => a - b);
}
