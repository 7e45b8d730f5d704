// The pipeline table (shared/pipeline.ts) against statemachine/migration.asl.yaml, the way bindings.test.ts
// checks the handlers: every state is in the table in the definition's order, nothing else is, and each
// state's `fills` is the key its ResultPath writes. The CLI tracker, `status` and the failure notification
// read the table, so a state added to the definition without an entry fails here, not in front of a user
// whose snapshot migration shows the wrong phase.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { lastCompletedStep, PIPELINE, pipelineState } from '../../shared/pipeline.js';
import { phaseOfState } from '../../shared/operations/history-digest.js';
import { RunTracker } from '../../cli/tracker.js';
import { planSteps } from '../../shared/plan/steps.js';
import { validateMigrationInput } from '../../shared/input/validate.js';
import type { MigrationState } from '../../shared/state.js';

interface AslState {
  Type: string;
  ResultPath?: string | null;
  Branches?: { States: Record<string, AslState> }[];
  ItemProcessor?: { States: Record<string, AslState> };
  Iterator?: { States: Record<string, AslState> };
}

const definition = parse(readFileSync(new URL('../../statemachine/migration.asl.yaml', import.meta.url), 'utf8'), { merge: true, maxAliasCount: -1 }) as {
  States: Record<string, AslState>;
};

/** Every state of the definition, nested Parallel branches and Map processors included, in listed order. */
function allStates(states: Record<string, AslState>, out: [string, AslState][] = []): [string, AslState][] {
  for (const [name, s] of Object.entries(states)) {
    out.push([name, s]);
    for (const b of s.Branches ?? []) allStates(b.States, out);
    const inner = s.ItemProcessor ?? s.Iterator;
    if (inner) allStates(inner.States, out);
  }
  return out;
}

// ResultPaths that are bookkeeping of the state machine itself, not a step's output.
const BOOKKEEPING = new Set(['failure', 'failureReport', 'monitor', 'lagWindow', 'priorCutover', 'cutoverRecord', 'report', 'copyMonitor', 'copyWindow', 'diffWindows', 'diffWindow']);

describe('pipeline table', () => {
  const states = allStates(definition.States);

  it('lists every state of migration.asl.yaml, in the order the definition lists them, and nothing else', () => {
    expect(PIPELINE.map((s) => s.name)).toEqual(states.map(([name]) => name));
  });

  it("each state's fills is the key its ResultPath writes; every step output has one", () => {
    for (const [name, s] of states) {
      const entry = pipelineState(name)!;
      const key = typeof s.ResultPath === 'string' && /^\$\.[A-Za-z]+$/.test(s.ResultPath) ? s.ResultPath.slice(2) : null;
      if (entry.fills) expect(s.ResultPath, name).toBe(`$.${entry.fills}`);
      else if (key) expect(BOOKKEEPING.has(key), `${name} writes $.${key}: give it fills: '${key}' in shared/pipeline.ts`).toBe(true);
    }
  });

  it('status and the local progress read their phases from it (snapshot states included)', () => {
    expect(phaseOfState('Check the databases')).toBe('validating');
    expect(phaseOfState('Copy the snapshot')).toBe('initial-load');
    expect(phaseOfState('Snapshot copy not available in time')).toBe('failed');
    expect(phaseOfState('Switch DNS')).toBe('finishing');
    const tracker = new RunTracker();
    for (const state of ['Validate the input', 'Restore the snapshot', 'Switch DNS', 'Report success']) {
      tracker.handle({ execution: 'migration', type: 'StateEntered', state, timestamp: Date.now() } as never);
      expect(tracker.phase, state).toBe(pipelineState(state)!.stage);
    }
    expect(tracker.phase).toBe('finish');
  });

  it('the last completed step follows the initial-load path and never names a resumed state', () => {
    const base = { preflight: {}, databaseChecks: {}, binlogs: {} } as Partial<MigrationState>;
    const snapshot = { ...base, input: { initialLoad: { method: 'snapshot' } }, sourceSnapshot: {}, snapshotCopy: {}, clone: {} } as unknown as Partial<MigrationState>;
    expect(lastCompletedStep(snapshot)).toBe('Restore the snapshot');
    const clone = { ...base, input: { initialLoad: { method: 'clone' } }, share: {}, clone: {} } as unknown as Partial<MigrationState>;
    expect(lastCompletedStep(clone)).toBe('Clone the cluster');
    const copying = { ...base, input: { initialLoad: { method: 'logical' } }, frozenSource: {}, copyPlan: {}, copy: {} } as unknown as Partial<MigrationState>;
    expect(lastCompletedStep(copying)).toBe('Copy the data for one window');
    const logical = { ...copying, logicalCopy: {}, binlogPosition: {} } as unknown as Partial<MigrationState>;
    expect(lastCompletedStep(logical)).toBe("Use the copy's binlog position");
    // Cut over, then DNS failed: the cutover (filled by 'Cut over', listed after the resume states) is the last step.
    const cutOver = { ...logical, replicationUser: {}, replication: {}, lag: {}, approval: {}, cutover: {}, targetAdmin: {} } as unknown as Partial<MigrationState>;
    expect(lastCompletedStep(cutOver)).toBe('Cut over');
    expect(lastCompletedStep({ ...cutOver, dns: {} } as Partial<MigrationState>)).toBe('Switch DNS');
  });

  it("every state the plan lists is one of the definition's", async () => {
    const input = validateMigrationInput({
      migrationId: 'pipeline-plan',
      source: { endpoint: { host: '127.0.0.1', port: 3306 }, adminSecret: 'env:CROSSMOVE_SOURCE_ADMIN' },
      target: { endpoint: { host: '127.0.0.1', port: 3307 }, adminSecret: 'env:CROSSMOVE_TARGET_ADMIN' },
      initialLoad: { method: 'logical' },
      cutover: { reverseReplication: true },
    });
    const accounts = { source: null, target: null, sameAccount: true, sourceRegion: null, targetRegion: null } as never;
    const steps = await planSteps({ input, accounts, sourceEngine: 'mariadb', targetEngine: 'mariadb' });
    expect(steps.length).toBeGreaterThan(5);
    for (const s of steps) expect(pipelineState(s.state), s.state).toBeDefined();
  });
});
