// Every Task state of both definitions has a handler in handlers/index.ts and a function in
// serverless.yml (same key, handler handlers/<file>.handler, its own role); the local runner refuses
// to start when a Task has no binding.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FUNCTION_KEYS, handlerRegistry } from '../../handlers/index.js';
import { loadDefinition, runStateMachineLocally, taskBindings } from '../../local/run-state-machine.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const serverless = parse(readFileSync(join(root, 'serverless.yml'), 'utf8'));
const definitions = ['migration.asl.yaml', 'lag-monitor.asl.yaml', 'cleanup.asl.yaml', 'fallback.asl.yaml', 'verify.asl.yaml', 'copy.asl.yaml'].map((f) => join(root, 'statemachine', f));

const boundKeys = () =>
  definitions.flatMap((path) =>
    [...taskBindings(loadDefinition(path), path).entries()].map(([state, b]) => ({ state, key: 'functionKey' in b ? b.functionKey : null, kind: b.kind })),
  );

describe('bindings', () => {
  it('every Task state binds to a registry handler and a serverless.yml function', () => {
    for (const { state, key, kind } of boundKeys()) {
      if (kind === 'child-execution') continue;
      expect(FUNCTION_KEYS, state).toContain(key);
      expect(serverless.functions[key!], state).toBeDefined();
    }
  });

  it('the lag window Task runs the lag-monitor definition', () => {
    const path = definitions[0]!;
    const b = taskBindings(loadDefinition(path), path).get('Watch replication for one window');
    expect(b).toEqual({ kind: 'child-execution', stateMachineName: 'lag-monitor', definitionPath: definitions[1] });
    expect(serverless.stepFunctions.stateMachines.lagMonitor.name).toBe('crossmove-lag-monitor-${sls:stage}');
  });

  it('the comparison window Task runs the verify definition, whose Map workers bind to compareChunks', () => {
    const path = definitions[0]!;
    const b = taskBindings(loadDefinition(path), path).get('Compare source and target for one window');
    expect(b).toEqual({ kind: 'child-execution', stateMachineName: 'verify', definitionPath: definitions[4] });
    expect(serverless.stepFunctions.stateMachines.verify.name).toBe('crossmove-verify-${sls:stage}');
    const child = taskBindings(loadDefinition(definitions[4]!), definitions[4]!);
    expect(child.get('Compare chunks until the time budget')).toEqual({ kind: 'lambda', functionKey: 'compareChunks' });
  });

  it('the copy window Task runs the copy definition, whose Map slots bind to the chunk worker', () => {
    const main = definitions[0]!;
    expect(taskBindings(loadDefinition(main), main).get('Copy the data for one window')).toEqual({ kind: 'child-execution', stateMachineName: 'copy', definitionPath: definitions[5] });
    expect(serverless.stepFunctions.stateMachines.copy.name).toBe('crossmove-copy-${sls:stage}');
    expect(taskBindings(loadDefinition(definitions[5]!), definitions[5]!).get('Copy chunks until the time budget')).toEqual({ kind: 'lambda', functionKey: 'copyChunks' });
  });

  it('every registry entry is used by a Task and matches its serverless.yml function and role', () => {
    const used = new Set(boundKeys().map((b) => b.key));
    for (const key of FUNCTION_KEYS) {
      expect(used.has(key), `${key} is not used by any Task`).toBe(true);
      const fn = serverless.functions[key];
      expect(fn.handler).toBe(`handlers/${handlerRegistry[key].file}.handler`);
      expect(serverless.resources.Resources[fn.role]?.Type, `${key} role ${fn.role}`).toBe('AWS::IAM::Role');
    }
    // Functions that are not steps (the operations API of issue 5) may exist, but none may be a Task's.
    expect(FUNCTION_KEYS.every((k) => k in serverless.functions)).toBe(true);
  });

  it('every handler file exists', () => {
    const missing = FUNCTION_KEYS.filter((k) => !existsSync(join(root, 'handlers', `${handlerRegistry[k].file}.ts`)));
    expect(missing).toEqual([]);
  });

  it('the local runner fails fast, naming the Task, when a Task has no handler', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crossmove-asl-'));
    const path = join(dir, 'broken.asl.yaml');
    writeFileSync(
      path,
      'StartAt: Do a thing\nStates:\n  Do a thing:\n    Type: Task\n    Resource: { Fn::GetAtt: [noSuchFunction, Arn] }\n    TimeoutSeconds: 5\n    End: true\n',
    );
    let called = false;
    await expect(
      runStateMachineLocally({ definitionPath: path, input: {}, handlers: { validateInput: () => (called = true) } }),
    ).rejects.toThrow('Task states without a handler in handlers/index.ts: "Do a thing" -> noSuchFunction');
    expect(called).toBe(false);

    writeFileSync(path, 'StartAt: Call\nStates:\n  Call:\n    Type: Task\n    Resource: arn:aws:states:::sqs:sendMessage\n    TimeoutSeconds: 5\n    End: true\n');
    await expect(runStateMachineLocally({ definitionPath: path, input: {} })).rejects.toThrow('"Call": no local binding for Resource arn:aws:states:::sqs:sendMessage');
  });
});
