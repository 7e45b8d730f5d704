// The local runner's Map support, executed: Tasks inside a Map's ItemProcessor are bound to handlers,
// get the ItemSelector's input, keep their own Retry (with the retry override), the minimum-timeout
// override and the Wait overrides, and run at most MaxConcurrencyPath at once; a failing iteration
// fails the Map into its Catch. Also: a state name used inside and outside a Map is refused.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allStates, loadDefinition, runStateMachineLocally, taskBindings, type LocalHandler, type RunEvent } from '../../local/run-state-machine.js';

const FAN_OUT = fileURLToPath(new URL('./fixtures/fan-out.asl.yaml', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const named = (name: string, message: string) => Object.assign(new Error(message), { name });

function worker(behaviour: (event: { worker: number; job: string }, attempt: number) => Promise<unknown>) {
  const attempts = new Map<number, number>();
  let running = 0;
  let peak = 0;
  const seen: unknown[] = [];
  const handler: LocalHandler = async (event) => {
    seen.push(event);
    const n = (attempts.get(event.worker) ?? 0) + 1;
    attempts.set(event.worker, n);
    running++;
    peak = Math.max(peak, running);
    try {
      return await behaviour(event, n);
    } finally {
      running--;
    }
  };
  return { handler, attempts, seen, peak: () => peak };
}

const run = (h: LocalHandler, input: unknown, extra: Record<string, unknown> = {}) => {
  const events: RunEvent[] = [];
  return runStateMachineLocally({
    definitionPath: FAN_OUT,
    input,
    handlers: { fanOutWorker: h } as never,
    waitMs: 0,
    retryMs: 0,
    minTaskTimeoutSeconds: 5,
    onEvent: (e) => events.push(e),
    ...extra,
  }).then((result) => ({ result, events }));
};

describe('Map states in the local runner', () => {
  it('binds the Task inside the ItemProcessor and finds it by name', () => {
    const def = loadDefinition(FAN_OUT);
    expect(allStates(def).map(([n]) => n)).toEqual([
      'Make the worker slots', 'Work in parallel', 'Pause before working', 'Work on one slot', 'Slot failed', 'Done', 'The fan-out failed',
    ]);
    expect(taskBindings(def, FAN_OUT).get('Work on one slot')).toEqual({ kind: 'lambda', functionKey: 'fanOutWorker' });
  });

  it('runs one iteration per worker slot with the ItemSelector input, at most MaxConcurrencyPath at once; a transient failure is retried inside the iteration', async () => {
    const w = worker(async (event, attempt) => {
      await sleep(30);
      if (event.worker === 3 && attempt === 1) throw named('TransientError', 'connection dropped');
      return { worker: event.worker };
    });
    const { result, events } = await run(w.handler, { n: 5, parallelism: 2, job: 'diff-1' });
    expect(result.status, result.cause).toBe('SUCCEEDED');
    expect((result.output as { results: unknown[] }).results).toEqual([1, 2, 3, 4, 5].map((worker) => ({ worker })));
    expect([...w.attempts.entries()].sort()).toEqual([[1, 1], [2, 1], [3, 2], [4, 1], [5, 1]]);
    expect(w.seen[0]).toEqual({ worker: 1, job: 'diff-1' });
    expect(w.peak()).toBe(2);
    // The iterations' states are reported with their index; the Wait inside took no real hour.
    expect(events.filter((e) => e.type === 'StateRetried').map((e) => [e.state, e.mapIndex])).toEqual([['Work on one slot', 2]]);
    expect(events.filter((e) => e.type === 'MapIterationStarted')).toHaveLength(5);
  });

  it('applies the minimum Task timeout inside the Map (a 1 s TimeoutSeconds would end this 1.5 s worker)', async () => {
    const slow = worker(async () => (await sleep(1500), 'done'));
    const { result } = await run(slow.handler, { n: 1, parallelism: 1, job: 'j' });
    expect(result.status, result.cause).toBe('SUCCEEDED');
    const timedOut = await run(slow.handler, { n: 1, parallelism: 1, job: 'j' }, { minTaskTimeoutSeconds: undefined });
    expect(timedOut.result).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
  });

  it('an iteration that keeps failing fails the Map into its Catch, with the worker error', async () => {
    const w = worker(async (event) => {
      if (event.worker === 2) throw named('DiffWorkerError', 'the target snapshot could not be opened');
      return 'ok';
    });
    const { result } = await run(w.handler, { n: 3, parallelism: 3, job: 'j' });
    expect(result).toMatchObject({ status: 'FAILED', error: 'DiffWorkerError', cause: 'the target snapshot could not be opened' });
  });

  it('MaxConcurrencyPath 0 runs every iteration at once (up to 40, as AWS does for inline Maps)', async () => {
    const w = worker(async () => (await sleep(40), 1));
    const { result } = await run(w.handler, { n: 6, parallelism: 0, job: 'j' });
    expect(result.status).toBe('SUCCEEDED');
    expect(w.peak()).toBe(6);
  });

  it('refuses a definition that names a state inside a Map like one outside (overrides are keyed by name)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crossmove-map-'));
    const path = join(dir, 'dup.asl.yaml');
    writeFileSync(path, readFileSync(FAN_OUT, 'utf8').replace('Next: Done\n  Done:', 'Next: Slot failed\n  Slot failed:'));
    await expect(run(worker(async () => 1).handler, { n: 1, parallelism: 1, job: 'j' }, { definitionPath: path })).rejects.toThrow('state name "Slot failed" is used twice');
  });
});
