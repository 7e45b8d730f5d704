// The copy's fan-out executed (statemachine/migration.asl.yaml and its copy windows, copy.asl.yaml) with
// worker slots that share an in-memory stand-in of the cursor store: ranges claimed one at a time,
// transient failures and dead invocations retried inside their slot, a round that moved nothing waits,
// full windows hand over to the next, a slot's permanent error fails the round through "Explain the
// failed copy round" with the slot's own error, and the windows' bound ends the copy with
// CopyNotFinishedInTimeError. What the state machine must get right whatever the store holds.
import { describe, expect, it } from 'vitest';
import { runStateMachineLocally, type RunEvent } from '../../local/run-state-machine.js';
import { validateMigrationInput } from '../../shared/input/validate.js';
import type { CopyProgressState, MigrationState } from '../../shared/state.js';
import { LOCAL_LOGICAL_INPUT, stubHandlers } from './stubs.js';

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

/** A store of `ranges` ranges; each slot invocation copies `perCall` of them (or fails as told). */
function fakeStore(ranges: number, perCall = 1) {
  const done = new Set<number>();
  let claimed = 0;
  const calls: { worker: number; took: number[] }[] = [];
  const failures: { worker: number; error: string; message: string }[] = [];
  return {
    done,
    calls,
    failures,
    work(worker: number): number[] {
      const took: number[] = [];
      for (let i = 0; i < perCall && claimed < ranges; i++) took.push(++claimed);
      took.forEach((r) => done.add(r));
      calls.push({ worker, took });
      return took;
    },
    progress(previous?: CopyProgressState): CopyProgressState {
      const rows = done.size * 100;
      const finished = done.size === ranges;
      return {
        job: 'copy', rangesTotal: ranges, rangesDone: done.size, rows, bytes: rows * 10, estimatedRows: ranges * 100, rowsPerSec: 100,
        etaSeconds: finished ? 0 : 1, chunksCopiedTwice: 0, done: finished, idle: !finished && !!previous && previous.rangesDone === done.size, checkedAt: new Date().toISOString(),
      };
    },
  };
}

function harness(store: ReturnType<typeof fakeStore>, opts: { parallelism?: number; roundsPerWindow?: number; maxWindows?: number; worker?: (event: { worker: number }, attempt: number) => unknown } = {}) {
  const stubs = stubHandlers({ caughtUpAt: 1 });
  const attempts = new Map<string, number>();
  let round = 0;
  stubs.handlers.validateInput = async (raw) => {
    const input = validateMigrationInput(raw);
    input.derived = { ...input.derived, copyRoundsPerWindow: opts.roundsPerWindow ?? input.derived.copyRoundsPerWindow, maxCopyWindows: opts.maxWindows ?? input.derived.maxCopyWindows };
    return { input, accounts: { source: null, target: null, sameAccount: true, sourceRegion: null, targetRegion: null } };
  };
  stubs.handlers.copyChunks = async (event: { worker: number }) => {
    const key = `${round}/${event.worker}`;
    const n = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, n);
    const custom = opts.worker?.(event, n);
    if (custom instanceof Error) {
      if (!['TransientError', 'Sandbox.Timedout'].includes(custom.name)) store.failures.push({ worker: event.worker, error: custom.name, message: custom.message });
      throw custom;
    }
    const took = store.work(event.worker);
    return { worker: event.worker, ranges: took.length, subChunks: took.length, rows: took.length * 100, bytes: took.length * 1000, stoppedBy: took.length ? 'budget' : 'nothing-to-claim' };
  };
  stubs.handlers.checkCopy = async (state: MigrationState) => {
    round++;
    return store.progress(state.copy);
  };
  // The real step reads the slot's error from the target; here from what the slots recorded.
  stubs.handlers.explainCopyFailure = async (event: { failure: { Error: string; Cause: string } }) => {
    const last = store.failures.at(-1);
    throw named(last?.error ?? event.failure.Error, last ? `worker ${last.worker}: ${last.message}` : event.failure.Cause);
  };
  const input = { ...LOCAL_LOGICAL_INPUT, initialLoad: { method: 'logical', parallelism: opts.parallelism ?? 3 } };
  const events: RunEvent[] = [];
  const run = () => runStateMachineLocally({ input, handlers: stubs.handlers, waitMs: 0, retryMs: 0, onEvent: (e) => events.push(e) });
  return { run, events, stubs, attempts };
}

describe('the copy fan-out, executed', () => {
  it('runs rounds of every slot until the store is done, the windows handing over, then finishes the copy', async () => {
    const store = fakeStore(20, 2);
    const h = harness(store, { parallelism: 3, roundsPerWindow: 2 });
    const result = await h.run();
    expect(result.status, result.cause).toBe('SUCCEEDED');
    expect(store.done.size).toBe(20);
    // 3 slots x 2 ranges a call: 4 rounds (the last one finds 2 ranges left) in windows of 2 rounds.
    expect(new Set(h.events.map((e) => e.execution)).has('copy#2')).toBe(true);
    expect(new Set(h.events.map((e) => e.execution)).has('copy#3')).toBe(false);
    expect(h.events.filter((e) => e.type === 'StateEntered' && e.state === 'Check the copy')).toHaveLength(4);
    const exits = h.events.filter((e) => e.execution === 'migration' && e.type === 'StateExited' && e.state === 'Keep the copy progress');
    expect(exits.map((e) => (e.payload as MigrationState).copy!.rangesDone)).toEqual([12, 20]);
    expect((h.events.find((e) => e.state === 'Finish the copy' && e.type === 'StateEntered')!.payload as MigrationState).copy!.done).toBe(true);
  });

  it('retries a slot that failed transiently or whose invocation died inside its round; no range is lost or doubled', async () => {
    const store = fakeStore(9);
    const h = harness(store, {
      parallelism: 3,
      worker: (e, attempt) => {
        if (e.worker === 2 && attempt === 1) return named('TransientError', 'copying shop.orders failed: Connection lost (the slot is retried)');
        if (e.worker === 3 && attempt <= 2) return named('Sandbox.Timedout', 'Task timed out after 900.00 seconds');
        return undefined;
      },
    });
    const result = await h.run();
    expect(result.status, result.cause).toBe('SUCCEEDED');
    const retried = h.events.filter((e) => e.type === 'StateRetried' && e.state === 'Copy chunks until the time budget');
    // Per round: slot 2 once (transient), slot 3 twice (its invocation died twice; the retry budget for that is 2).
    const rounds = store.calls.length / 3;
    expect(rounds).toBeGreaterThanOrEqual(3);
    expect(retried.length).toBe(3 * rounds);
    expect(store.done.size).toBe(9);
    expect(store.calls.flatMap((c) => c.took).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('waits before the next round when a round moved nothing (ranges held by the leases of slots that died)', async () => {
    const store = fakeStore(4);
    const h = harness(store, { parallelism: 2 });
    // The first three rounds find every range under a live lease: nothing to claim, nothing moves.
    let calls = 0;
    h.stubs.handlers.copyChunks = async (event: { worker: number }) => {
      const took = ++calls <= 6 ? [] : store.work(event.worker);
      return { worker: event.worker, ranges: took.length, subChunks: took.length, rows: took.length * 100, bytes: took.length * 1000, stoppedBy: 'nothing-to-claim' };
    };
    const result = await h.run();
    expect(result.status, result.cause).toBe('SUCCEEDED');
    const copyStates = h.events.filter((e) => e.execution === 'copy#1' && e.type === 'StateEntered').map((e) => e.state);
    // Round 1 has no earlier check to compare with; rounds 2 and 3 moved nothing: each waits 30 s (0 here).
    expect(copyStates.filter((n) => n === 'Wait before the next copy round')).toHaveLength(2);
    expect(store.done.size).toBe(4);
  });

  it('fails the round when a slot keeps failing: "Explain the failed copy round" names the slot and its error, nothing later runs', async () => {
    const store = fakeStore(6);
    const h = harness(store, {
      parallelism: 3,
      worker: (e) => (e.worker === 2 ? named('LogicalCopyError', 'copying shop.orders (range 3, from id=2001 up to id=3001) failed: the target warned while loading shop.orders') : undefined),
    });
    const result = await h.run();
    expect(result).toMatchObject({ status: 'FAILED', error: 'LogicalCopyError' });
    expect(result.cause).toContain('worker 2: copying shop.orders (range 3');
    expect(h.events.some((e) => e.execution === 'copy#1' && e.state === 'Explain the failed copy round')).toBe(true);
    expect(h.stubs.calls.finishCopy).toBeUndefined();
    expect(h.stubs.calls.startReplication).toBeUndefined();
    // A permanent error is not retried inside the slot.
    expect(h.events.filter((e) => e.type === 'StateRetried' && e.state === 'Copy chunks until the time budget')).toHaveLength(0);
  });

  it('ends in CopyNotFinishedInTimeError after input.derived.maxCopyWindows windows, saying a re-run resumes', async () => {
    const store = fakeStore(1000);
    const h = harness(store, { parallelism: 2, roundsPerWindow: 2, maxWindows: 3 });
    const result = await h.run();
    expect(result).toMatchObject({ status: 'FAILED', error: 'CopyNotFinishedInTimeError' });
    expect(result.cause).toContain('after 3 windows');
    expect(result.cause).toContain('resumes at the ranges left');
    expect(store.calls).toHaveLength(3 * 2 * 2);
  });
});
