// Static rules for both definitions: valid ASL, every Task bounded in time, retried only on the
// retryable names, caught into the failure report; every loop bounded; the approval gate shaped right.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MIGRATED_WITH_UNFINISHED_STEPS, RETRYABLE_ERROR_NAMES } from '../../shared/errors.js';
import { allStates } from '../../local/run-state-machine.js';

const require = createRequire(import.meta.url);
const aslValidator = require('asl-validator') as (def: unknown, opts?: unknown) => { isValid: boolean; errors: unknown[] };

const load = (file: string) => parse(readFileSync(new URL(`../../statemachine/${file}`, import.meta.url), 'utf8'));
const MAIN = load('migration.asl.yaml');
const CHILD = load('lag-monitor.asl.yaml');
const VERIFY = load('verify.asl.yaml');
const COPY = load('copy.asl.yaml');
const DEFINITIONS = { 'migration.asl.yaml': MAIN, 'lag-monitor.asl.yaml': CHILD, 'verify.asl.yaml': VERIFY, 'copy.asl.yaml': COPY } as Record<string, any>;

/** Every Task of a definition, those inside Map iterations and Parallel branches included. */
const tasksOf = (def: any): [string, any][] => allStates(def).filter(([, s]) => s.Type === 'Task');

function nextStates(state: any): string[] {
  return [state.Next, state.Default, ...(state.Choices ?? []).map((c: any) => c.Next), ...(state.Catch ?? []).map((c: any) => c.Next)].filter(Boolean);
}

function reachable(def: any, from: string): Set<string> {
  const seen = new Set<string>();
  const todo = [from];
  while (todo.length) {
    const name = todo.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    todo.push(...nextStates(def.States[name]));
  }
  return seen;
}

/** Strongly connected components with more than one state (or a self-loop): the loops. */
function loops(def: any): string[][] {
  const names = Object.keys(def.States);
  const reach = new Map(names.map((n) => [n, reachable(def, n)]));
  const done = new Set<string>();
  const out: string[][] = [];
  for (const n of names) {
    if (done.has(n)) continue;
    const scc = names.filter((m) => reach.get(n)!.has(m) && reach.get(m)!.has(n));
    scc.forEach((m) => done.add(m));
    if (scc.length > 1 || nextStates(def.States[n]).includes(n)) out.push(scc);
  }
  return out;
}

const isBound = (c: any) => /attempts|windows|rounds|refusals/i.test(c.Variable) && Object.keys(c).some((k) => k.startsWith('NumericGreaterThanEquals'));

/**
 * The state graph with every edge a bound guards removed: in a Choice, the rules AFTER a bound rule and
 * the Default are only taken once the bound was checked, so they are dropped; rules BEFORE the bound
 * (checked first, e.g. "caught up?") are kept, because they can loop without the bound ever being read.
 */
function withoutGuardedEdges(def: any): any {
  const states: Record<string, any> = {};
  for (const [name, s] of Object.entries<any>(def.States)) {
    if (s.Type !== 'Choice') {
      states[name] = s;
      continue;
    }
    const first = s.Choices.findIndex(isBound);
    states[name] = first < 0 ? s : { ...s, Choices: s.Choices.slice(0, first + 1), Default: undefined };
  }
  return { ...def, States: states };
}

describe.each(Object.keys(DEFINITIONS))('%s', (file) => {
  const def = DEFINITIONS[file];
  const tasks = tasksOf(def);
  const taskState = new Map(tasks);

  it('passes asl-validator (as packaged: Fn::GetAtt resources, JSONPath)', () => {
    const result = aslValidator(structuredClone(def));
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('has no JSONata and only JSONPath features the local engine runs', () => {
    const text = JSON.stringify(def);
    expect(text).not.toContain('JSONata');
    expect(text).not.toContain('"Assign"');
    expect(text).not.toContain('HeartbeatSeconds');
  });

  it.each(tasks.map(([n]) => n))('Task "%s" has a timeout, retries only retryable names with backoff and jitter, and catches', (name) => {
    const state = taskState.get(name);
    expect(state.TimeoutSeconds ?? state.TimeoutSecondsPath).toBeDefined();
    const transient = { ErrorEquals: [...RETRYABLE_ERROR_NAMES], IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2, MaxDelaySeconds: 60, JitterStrategy: 'FULL' };
    // Only the cutover function's two states retry one typed error too: past its point of no return a retry finishes the switch.
    const finishing = { ErrorEquals: ['CutoverIncompleteError'], IntervalSeconds: 2, MaxAttempts: 10, BackoffRate: 1.5, MaxDelaySeconds: 30 };
    // And a chunk worker slot whose invocation died: run again, it resumes at its range's cursor.
    const died = { ErrorEquals: ['Sandbox.Timedout', 'States.Timeout', 'Lambda.Unknown'], IntervalSeconds: 5, MaxAttempts: 2, BackoffRate: 2 };
    expect(state.Retry).toEqual(['Cut over', 'Resume after the cutover'].includes(name) ? [finishing, transient] : name === 'Copy chunks until the time budget' ? [transient, died] : [transient]);
    const caught = (state.Catch ?? []).flatMap((c: any) => c.ErrorEquals);
    expect(caught).toContain('States.ALL');
  });

  it('every loop has an attempt bound that leaves it', () => {
    const found = loops(def);
    expect(found.length).toBeGreaterThan(0);
    for (const loop of found) {
      const exits = loop
        .map((n) => def.States[n])
        .filter((s) => s.Type === 'Choice')
        .flatMap((s) => s.Choices)
        .filter((c: any) => /attempts|windows|rounds/.test(c.Variable) && Object.keys(c).some((k) => k.startsWith('NumericGreaterThanEquals')) && !loop.includes(c.Next));
      expect(exits, `loop ${loop.join(' -> ')}`).not.toHaveLength(0);
    }
  });

  it('has no cycle once the edges its bounds guard are removed (every way round a loop reads a bound first)', () => {
    expect(loops(withoutGuardedEdges(def))).toEqual([]);
  });
});

describe('copy.asl.yaml', () => {
  it('fans out over worker slots with a Distributed Map on AWS: no tolerated failure, MaxConcurrency from the input, the store as the only result', () => {
    const map = COPY.States['Copy chunks in parallel'];
    expect(COPY.States['Start the copy window'].Parameters['workers.$']).toBe('States.ArrayRange(1, $.input.initialLoad.parallelism, 1)');
    expect(map).toMatchObject({ Type: 'Map', ItemsPath: '$.window.workers', MaxConcurrencyPath: '$.input.initialLoad.parallelism', ToleratedFailurePercentage: 0, ResultPath: null });
    expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
    // Each slot gets its number and the pieces of the state it needs, never the plan or the whole state.
    expect(Object.keys(map.ItemSelector).sort()).toEqual(['accounts.$', 'copyPlan.$', 'frozenSource.$', 'input.$', 'worker.$']);
    expect(map.ItemSelector['worker.$']).toBe('$$.Map.Item.Value');
    // A failed round goes through the state that names the slot's own error (a Distributed Map only says its threshold was exceeded).
    expect(map.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Explain the failed copy round' }]);
    expect(COPY.States['Explain the failed copy round'].Catch[0].Next).toBe('Copy round failed');
  });

  it('bounds a window by its rounds, checks done before the bound, and waits when a round moved nothing', () => {
    const choice = COPY.States['Is the copy done or the window full?'];
    expect(choice.Choices.map((c: any) => c.Variable)).toEqual(['$.copy.done', '$.window.rounds', '$.copy.idle']);
    expect(choice.Choices[1].NumericGreaterThanEqualsPath).toBe('$.input.derived.copyRoundsPerWindow');
    expect(choice.Choices[2].Next).toBe('Wait before the next copy round');
  });
});

describe('the Task rules reach into Map iterations', () => {
  it('a Task inside a Map ItemProcessor is one of the Tasks checked', () => {
    const fanOut = parse(readFileSync(new URL('./fixtures/fan-out.asl.yaml', import.meta.url), 'utf8'));
    expect(tasksOf(fanOut).map(([n]) => n)).toEqual(['Work on one slot']);
  });
});

describe('migration.asl.yaml', () => {
  it('has the loops the design names: clone, writer, master password, binlog position, monitoring windows, the copy', () => {
    const sets = loops(MAIN).map((l) => l.sort().join('|'));
    expect(sets).toHaveLength(11); // the cutover-refusal path joins the monitoring loop, and so the comparison windows
    expect(sets.some((s) => s.includes('Check the frozen source'))).toBe(true);
    expect(sets.some((s) => s.includes('Copy the data for one window'))).toBe(true);
    expect(sets.some((s) => s.includes('Wait for the secondary keys'))).toBe(true);
    expect(sets.some((s) => s.includes('Compare source and target for one window'))).toBe(true);
    expect(sets.some((s) => s.includes('Check the clone'))).toBe(true);
    expect(sets.some((s) => s.includes('Check the source snapshot'))).toBe(true);
    expect(sets.some((s) => s.includes('Check the snapshot copy'))).toBe(true);
    expect(sets.some((s) => s.includes('Check the restored cluster'))).toBe(true);
    expect(sets.find((s) => s.includes('Watch replication for one window'))).toContain('Has the cutover refused too often?');
    expect(sets.some((s) => s.includes('Check the writer'))).toBe(true);
    expect(sets.some((s) => s.includes('Check the master password'))).toBe(true);
    expect(sets.some((s) => s.includes("Read the clone's binlog position"))).toBe(true);
    expect(sets.some((s) => s.includes('Watch replication for one window'))).toBe(true);
    expect(sets.find((s) => s.includes('Compare source and target for one window'))).toContain('Is the comparison done?');
  });

  it('every Task catches into a state that reports the failure: before the cutover "Report the failure", after it "Report the unfinished migration"', () => {
    const afterCutover = new Set(['Switch DNS', 'Start reverse replication']);
    for (const [name, state] of Object.entries<any>(MAIN.States)) {
      if (state.Type !== 'Task') continue;
      const all = state.Catch.find((c: any) => c.ErrorEquals.includes('States.ALL'));
      if (name.startsWith('Report')) continue; // the reports end in Fail/Succeed themselves
      expect(state.Catch.at(-1), `${name}: States.ALL must be the last catcher`).toBe(all);
      const expected =
        name === 'Cut over' || name === 'Resume after the cutover'
          ? { ResultPath: '$.failure', Next: 'Check how far the cutover got' }
          : name === 'Check how far the cutover got'
            ? { ResultPath: '$.cutoverRecordError', Next: 'Report the failure' }
            : afterCutover.has(name)
              ? { ResultPath: '$.failure', Next: 'Report the unfinished migration' }
              : { ResultPath: '$.failure', Next: 'Report the failure' };
      expect(all, name).toMatchObject(expected);
      expect(MAIN.States[all.Next].Type).toBe('Task');
    }
    expect(MAIN.States['Report the failure'].Next).toBe('Fail');
    expect(MAIN.States.Fail).toMatchObject({ Type: 'Fail', ErrorPath: '$.failureReport.error', CausePath: '$.failureReport.message' });
    expect(MAIN.States['Report the unfinished migration'].Next).toBe('Migrated, with unfinished steps');
    for (const end of ['Migrated, with unfinished steps', 'Migrated, with unfinished steps (unreported)']) {
      expect(MAIN.States[end]).toMatchObject({ Type: 'Fail', Error: MIGRATED_WITH_UNFINISHED_STEPS });
    }
  });

  /** Tasks that change a server or an AWS resource before the cutover (everything the first run builds). */
  const BEFORE_CUTOVER_CHANGES = ['keepBinlogs', 'shareCluster', 'acceptShare', 'grantKeyAccess', 'cloneCluster', 'createWriter', 'snapshotSource', 'shareSnapshot', 'copySnapshot', 'restoreSnapshot', 'copyData', 'createReplicationUser', 'startReplication'];
  const changers = (names: Iterable<string>) => [...names].filter((n) => BEFORE_CUTOVER_CHANGES.includes(MAIN.States[n].Resource?.['Fn::GetAtt']?.[0]));

  it('reads the cutover record before anything can change either server', () => {
    const withoutRecord = structuredClone(MAIN);
    const reader = 'Read the cutover record on the target';
    expect(MAIN.States[reader].Resource).toEqual({ 'Fn::GetAtt': ['readCutoverRecord', 'Arn'] });
    withoutRecord.States[reader] = { Type: 'Succeed' };
    expect(changers(reachable(withoutRecord, MAIN.StartAt))).toEqual([]);
    expect(changers(reachable(MAIN, MAIN.StartAt)).length).toBeGreaterThan(5);
  });

  it('a target that took over is never replicated into again: from the resume, past the cutover and its failures, no pre-cutover step is reachable', () => {
    for (const from of ['Use the target admin found with the record', 'Resume after the cutover', 'Switch DNS', 'Check how far the cutover got', 'Report the unfinished migration']) {
      expect(changers(reachable(MAIN, from)), from).toEqual([]);
      expect(reachable(MAIN, from).has('Ask for cutover approval'), from).toBe(false);
    }
    expect(MAIN.States['Is the target already the primary?'].Choices).toEqual([{ Variable: '$.priorCutover.targetIsPrimary', BooleanEquals: true, Next: 'Use the target admin found with the record' }]);
    expect(MAIN.States['Use the target admin found with the record']).toEqual({ Type: 'Pass', InputPath: '$.priorCutover.targetAdmin', ResultPath: '$.targetAdmin', Next: 'Resume after the cutover' });
    expect(MAIN.States['Resume after the cutover']).toMatchObject({ Resource: { 'Fn::GetAtt': ['cutOver', 'Arn'] }, ResultPath: '$.cutover', Next: 'Switch DNS' });
  });

  it('the approval gate waits for a task token with a timeout and a Catch that cannot reach the cutover', () => {
    const gate = MAIN.States['Ask for cutover approval'];
    expect(gate.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(gate.Parameters).toEqual({ FunctionName: { 'Fn::GetAtt': ['requestApproval', 'Arn'] }, Payload: { 'taskToken.$': '$$.Task.Token', 'state.$': '$' } });
    expect(gate.TimeoutSecondsPath).toBe('$.input.derived.approvalTimeoutSeconds');
    const notGiven = gate.Catch.find((c: any) => c.ErrorEquals.includes('ApprovalRejected'));
    expect(notGiven.ErrorEquals).toContain('States.Timeout');
    const after = reachable(MAIN, notGiven.Next);
    expect(after.has('Cut over')).toBe(false);
    expect([...after].every((n) => !['startReplication', 'cutOver'].includes(MAIN.States[n].Resource?.['Fn::GetAtt']?.[0]))).toBe(true);
    expect(MAIN.States['Approval not given'].Type).toBe('Fail');
  });

  it('the comparison runs after the target caught up and before the gate; only a clean verdict reaches "Approve automatically"', () => {
    expect(MAIN.States['Is it caught up?'].Choices.find((c: any) => c.Variable === '$.lag.caughtUp').Next).toBe('Has the data been compared?');
    const verdict = MAIN.States['Did the comparison find differences?'];
    expect(verdict.Choices).toEqual([{ Variable: '$.diff.verdict', StringEquals: 'clean', Next: 'Is the approval manual?' }]);
    expect(verdict.Default).toBe('Ask for cutover approval');
    // Without going through the verdict, "Approve automatically" is reached only with cutover.verify none.
    const intoManual = Object.entries<any>(MAIN.States).filter(([, st]) => nextStates(st).includes('Is the approval manual?')).map(([n]) => n).sort();
    expect(intoManual).toEqual(['Did the comparison find differences?', 'Has the data been compared?']);
    expect(MAIN.States['Has the data been compared?'].Choices.find((c: any) => c.Next === 'Is the approval manual?')).toEqual({ Variable: '$.input.cutover.verify', StringEquals: 'none', Next: 'Is the approval manual?' });
  });

  it('every step of the design is a state, in the agreed order on the clone path', () => {
    const order = ['Validate the input', 'Run preflight checks', 'Keep binlogs long enough', 'Share the cluster', 'Accept the share',
      'Let the target use the KMS key', 'Clone the cluster', 'Create the writer', "Read the clone's binlog position",
      'Create the replication user', 'Start replication on the target', 'Compare source and target for one window', 'Ask for cutover approval', 'Cut over', 'Switch DNS',
      'Start reverse replication', 'Report success'];
    for (let i = 1; i < order.length; i++) expect(reachable(MAIN, order[i - 1]!).has(order[i]!), `${order[i - 1]} -> ${order[i]}`).toBe(true);
  });
});
