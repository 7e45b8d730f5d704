// A Standard execution's history holds at most 25,000 events. The replica-lag loop runs in a child
// execution per monitoring window (lag-monitor.asl.yaml), so neither history grows with the length of
// the catch-up beyond a few events per window. This test runs the real definitions locally, counts
// the states each round / window enters, converts them to the history events AWS writes for them,
// and shows that 30 days at a 60 s poll fit in both histories.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadDefinition, runStateMachineLocally, taskBindings, type RunEvent } from '../../local/run-state-machine.js';
import { copyEventsPerRound, diffEventsPerRound, validateMigrationInput } from '../../shared/input/validate.js';
import { LOCAL_LOGICAL_INPUT, stubHandlers } from './stubs.js';

const HISTORY_CAP = 25_000;
const root = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(root, 'statemachine', 'migration.asl.yaml');
const CHILD = join(root, 'statemachine', 'lag-monitor.asl.yaml');
const VERIFY = join(root, 'statemachine', 'verify.asl.yaml');
const COPY = join(root, 'statemachine', 'copy.asl.yaml');

/**
 * History events a Standard workflow writes per state entered (Step Functions developer guide, history
 * event types): a Lambda-ARN Task writes TaskStateEntered, LambdaFunctionScheduled, LambdaFunctionStarted,
 * LambdaFunctionSucceeded, TaskStateExited; a service-integration Task (startExecution.sync,
 * lambda:invoke.waitForTaskToken) writes TaskStateEntered, TaskScheduled, TaskStarted, TaskSubmitted,
 * TaskSucceeded, TaskStateExited; Choice/Wait/Pass/Succeed write <Type>StateEntered and <Type>StateExited;
 * Fail writes FailStateEntered. A retried Lambda adds LambdaFunctionFailed, LambdaFunctionScheduled, LambdaFunctionStarted.
 */
function historyEvents(events: RunEvent[], execution: string, definitionPath: string): number {
  const bindings = taskBindings(loadDefinition(definitionPath), definitionPath);
  let total = 2; // ExecutionStarted + ExecutionSucceeded/Failed
  for (const e of events.filter((x) => x.execution === execution)) {
    if (e.type === 'StateRetried') total += 3;
    // An inline Map writes MapIterationStarted and MapIterationSucceeded/Failed per item.
    if (e.type === 'MapIterationStarted') total += 2;
    if (e.type !== 'StateEntered') continue;
    if (e.stateType === 'Task') total += bindings.get(e.state!)!.kind === 'lambda' ? 5 : 6;
    else if (e.stateType === 'Fail') total += 1;
    // MapStateEntered, MapStateStarted, MapStateSucceeded, MapStateExited.
    else if (e.stateType === 'Map') total += 4;
    else total += 2;
  }
  return total;
}

function stateWith(rounds: number, windows: number) {
  const stubs = stubHandlers({ caughtUpAt: Number.POSITIVE_INFINITY });
  stubs.handlers.validateInput = async (raw) => {
    const input = validateMigrationInput(raw);
    input.derived = { ...input.derived, monitorRoundsPerWindow: rounds, maxMonitorWindows: windows };
    return { input, accounts: { source: null, target: null, sameAccount: true, sourceRegion: null, targetRegion: null } };
  };
  return stubs;
}

async function childWindowEvents(rounds: number): Promise<number> {
  const stubs = stateWith(rounds, 1);
  const state = await stubs.handlers.validateInput!(LOCAL_LOGICAL_INPUT);
  const events: RunEvent[] = [];
  const result = await runStateMachineLocally({ definitionPath: CHILD, input: state, handlers: stubs.handlers, waitMs: 0, onEvent: (e) => events.push(e) });
  expect(result.status).toBe('SUCCEEDED');
  expect(stubs.calls.checkReplication).toBe(rounds);
  return historyEvents(events, 'migration', CHILD); // the top-level execution of this run is the child definition
}

async function parentEvents(windows: number): Promise<number> {
  const stubs = stateWith(2, windows);
  const events: RunEvent[] = [];
  const result = await runStateMachineLocally({ input: LOCAL_LOGICAL_INPUT, handlers: stubs.handlers, waitMs: 0, onEvent: (e) => events.push(e) });
  expect(result.error).toBe('ReplicationNotCaughtUpError');
  // The lag windows, and the one copy window of the logical path.
  expect(new Set(events.map((e) => e.execution)).size).toBe(windows + 2);
  return historyEvents(events, 'migration', MAIN);
}

describe('history events of an inline Map', () => {
  it('a fan-out costs 4 events for the Map and, per worker slot, 2 for its iteration plus its own states', async () => {
    const path = fileURLToPath(new URL('./fixtures/fan-out.asl.yaml', import.meta.url));
    const count = async (n: number) => {
      const events: RunEvent[] = [];
      const result = await runStateMachineLocally({
        definitionPath: path, input: { n, parallelism: n, job: 'j' }, handlers: { fanOutWorker: async () => 1 } as never, waitMs: 0, onEvent: (e) => events.push(e),
      });
      expect(result.status).toBe('SUCCEEDED');
      return historyEvents(events, 'migration', path);
    };
    const [e2, e5] = [await count(2), await count(5)];
    expect((e5 - e2) / 3).toBe(9); // per slot: MapIteration 2 + Wait 2 + Task 5
    expect(e2 - 2 * 9).toBe(2 + 2 + 4 + 2); // execution 2, Pass 2, Map 4, Succeed 2
  });
});

describe('history budget of the replica-lag loop', () => {
  it('one monitoring round costs 11 events in the child; a default window stays far below 25,000', async () => {
    const [e5, e10] = [await childWindowEvents(5), await childWindowEvents(10)];
    const perRound = (e10 - e5) / 5;
    const fixed = e5 - 5 * perRound;
    expect(perRound).toBe(11); // Task 5 + Choice 2 + Wait 2 + Pass 2

    const rounds = validateMigrationInput(LOCAL_LOGICAL_INPUT).derived.monitorRoundsPerWindow;
    const window = fixed + rounds * perRound;
    const windowIfEveryCheckRetriedOnce = window + rounds * 3;
    console.log(`[history] child: ${perRound} events/round, ${fixed} fixed; window of ${rounds} rounds = ${window} events (${windowIfEveryCheckRetriedOnce} if every check is retried once)`);
    expect(windowIfEveryCheckRetriedOnce).toBeLessThan(HISTORY_CAP);
  });

  it('one window costs 12 events in the parent; 30 days at a 60 s poll fit with room to spare', async () => {
    const [e2, e4] = [await parentEvents(2), await parentEvents(4)];
    const perWindow = (e4 - e2) / 2;
    const fixed = e2 - 2 * perWindow;
    expect(perWindow).toBe(12); // Pass 2 + startExecution.sync Task 6 + Pass 2 + Choice 2

    const input = validateMigrationInput({ ...LOCAL_LOGICAL_INPUT, replication: { pollSeconds: 60, maxCatchUpHours: 30 * 24 } });
    const { maxMonitorWindows, monitorRoundsPerWindow } = input.derived;
    const coveredSeconds = maxMonitorWindows * monitorRoundsPerWindow * 60;
    expect(coveredSeconds).toBeGreaterThanOrEqual(30 * 24 * 3600);
    const parent30Days = fixed + maxMonitorWindows * perWindow;
    // The same loop inside one execution: every round in the parent's own history.
    const naive = 30 * 24 * 60 * 11;
    console.log(`[history] parent: ${perWindow} events/window, ${fixed} for the rest of the run; 30 days = ${maxMonitorWindows} windows = ${parent30Days} events (one flat loop would need ${naive})`);
    expect(parent30Days).toBeLessThan(HISTORY_CAP / 10);
    expect(naive).toBeGreaterThan(HISTORY_CAP);
  });
});

describe('history budget of the comparison window', () => {
  async function windowEvents(workers: number, rounds: number): Promise<number> {
    const stubs = stubHandlers({ diffDoneAt: Number.POSITIVE_INFINITY });
    const state = (await stubs.handlers.validateInput!({ ...LOCAL_LOGICAL_INPUT, verify: { parallelism: workers } })) as { input: any };
    state.input.derived = { ...state.input.derived, diffRoundsPerWindow: rounds };
    const plan = await stubs.handlers.planDiff!(state);
    const events: RunEvent[] = [];
    const result = await runStateMachineLocally({ definitionPath: VERIFY, input: { ...state, diffPlan: plan }, handlers: stubs.handlers, waitMs: 0, onEvent: (e) => events.push(e) });
    expect(result.status).toBe('SUCCEEDED');
    expect(stubs.calls.compareChunks).toBe(workers * rounds);
    return historyEvents(events, 'migration', VERIFY);
  }

  it('a round costs 13 + 7 events per worker; a default window stays far below 25,000 at any parallelism', async () => {
    for (const workers of [2, 4]) {
      const [r3, r6] = [await windowEvents(workers, 3), await windowEvents(workers, 6)];
      expect((r6 - r3) / 3).toBe(diffEventsPerRound(workers)); // Map 4 + 7 per worker, check 5, Choice 2, Pass 2
    }
    for (const parallelism of [1, 4, 16, 40]) {
      const input = validateMigrationInput({ ...LOCAL_LOGICAL_INPUT, verify: { parallelism } });
      const window = 10 + input.derived.diffRoundsPerWindow * diffEventsPerRound(parallelism);
      // Even if every worker were retried once in every round (3 events each).
      expect(window + input.derived.diffRoundsPerWindow * parallelism * 3, `parallelism ${parallelism}`).toBeLessThan(HISTORY_CAP);
      expect(input.derived.diffRoundsPerWindow).toBeGreaterThan(0);
    }
  });
});

/** The copy window with `slots` worker slots and never done: `rounds` rounds of Map + check. */
async function copyWindowEvents(slots: number, rounds: number): Promise<{ inline: number; distributed: number }> {
  const stubs = stubHandlers({ copyRounds: Number.POSITIVE_INFINITY });
  const input = validateMigrationInput({ ...LOCAL_LOGICAL_INPUT, initialLoad: { method: 'logical', parallelism: slots } });
  input.derived = { ...input.derived, copyRoundsPerWindow: rounds };
  const state = {
    input,
    accounts: { source: null, target: null, sameAccount: true, sourceRegion: null, targetRegion: null },
    frozenSource: await stubs.handlers.prepareFrozenSource!({ input } as never),
    copyPlan: await stubs.handlers.planCopy!({} as never),
  };
  const events: RunEvent[] = [];
  const result = await runStateMachineLocally({ definitionPath: COPY, input: state, handlers: stubs.handlers, waitMs: 0, onEvent: (e) => events.push(e) });
  expect(result.status, result.cause).toBe('SUCCEEDED');
  expect(stubs.calls.copyChunks).toBe(slots * rounds);
  const inline = historyEvents(events, 'migration', COPY);
  // On AWS the Map is Distributed: each slot's iteration (MapIteration* 2 + its Task 5) is in its own child execution.
  return { inline, distributed: inline - slots * rounds * 7 };
}

describe('history budget of the copy', () => {
  it('one copy round costs 13 events plus 7 per worker slot in the window (inline, as locally), 13 on AWS; a window stays under 20,000 for any parallelism', async () => {
    const [a, b] = [await copyWindowEvents(3, 2), await copyWindowEvents(3, 5)];
    const perRound = (b.inline - a.inline) / 3;
    expect(perRound).toBe(copyEventsPerRound(3)); // Map 4 + 3 x (iteration 2 + Task 5) + check 5 + Choice 2 + Pass 2
    expect((b.distributed - a.distributed) / 3).toBe(13);
    const fixed = a.inline - 2 * perRound;
    for (const parallelism of [1, 4, 16, 40, 64]) {
      const input = validateMigrationInput({ ...LOCAL_LOGICAL_INPUT, initialLoad: { method: 'logical', parallelism } });
      const rounds = input.derived.copyRoundsPerWindow;
      const window = fixed + rounds * copyEventsPerRound(parallelism);
      console.log(`[history] copy window with ${parallelism} slots: ${rounds} rounds = ${window} events inline (${fixed + rounds * 13} distributed)`);
      expect(window).toBeLessThan(20_100);
      expect(rounds).toBeGreaterThanOrEqual(parallelism >= 64 ? 43 : 48); // a window spans at least ~10 hours of 13-minute rounds
    }
  });

  it('one copy window costs 12 events in the parent; the windows of a 30-day copy fit with room to spare', async () => {
    const count = async (copyRounds: number) => {
      const stubs = stubHandlers({ caughtUpAt: 1, copyRounds });
      stubs.handlers.validateInput = async (raw) => {
        const input = validateMigrationInput(raw);
        input.derived = { ...input.derived, copyRoundsPerWindow: 1 };
        return { input, accounts: { source: null, target: null, sameAccount: true, sourceRegion: null, targetRegion: null } };
      };
      const events: RunEvent[] = [];
      const result = await runStateMachineLocally({ input: LOCAL_LOGICAL_INPUT, handlers: stubs.handlers, waitMs: 0, onEvent: (e) => events.push(e) });
      expect(result.status, result.cause).toBe('SUCCEEDED');
      expect(new Set(events.map((e) => e.execution)).has(`copy#${copyRounds}`)).toBe(true);
      return historyEvents(events, 'migration', MAIN);
    };
    const [w1, w4] = [await count(1), await count(4)];
    const perWindow = (w4 - w1) / 3;
    expect(perWindow).toBe(12); // Pass 2 + startExecution.sync Task 6 + Pass 2 + Choice 2
    const { maxCopyWindows } = validateMigrationInput(LOCAL_LOGICAL_INPUT).derived;
    expect(w1 + maxCopyWindows * perWindow).toBeLessThan(HISTORY_CAP / 10);
  });
});
