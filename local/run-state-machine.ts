// Runs statemachine/migration.asl.yaml in this process with aws-local-stepfunctions, every Task bound
// to the real handler from handlers/index.ts (or a caller's override), the lag-monitor child run
// locally for the startExecution.sync task, task tokens supplied here and answered by the caller's
// `approve` callback. Only the pacing of Wait states (and optionally retry intervals) differs from AWS.
import './polyfills.js';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ExecutionAbortedError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { handlerRegistry, isFunctionKey, type FunctionKey } from '../handlers/index.js';
import { localLambdaContext } from '../shared/handler.js';
import { validateMigrationInput } from '../shared/input/validate.js';
import { APPROVAL_REJECTED } from '../shared/errors.js';
import { buildApprovalRequest, type ApprovalRequest, type ApprovalTaskEvent } from '../shared/approval/request.js';
import { setApprovalStore } from '../shared/approval/current.js';
import { MemoryApprovalStore } from '../shared/approval/store.js';
import type { ApprovalResult } from '../shared/state.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_DEFINITION_PATH = join(ROOT, 'statemachine', 'migration.asl.yaml');

/** What the local stand-ins for CloudFormation references resolve to. */
const LOCAL = { partition: 'aws', region: 'us-east-1', account: '000000000000', stage: 'local' };
const LAMBDA_ARN_PREFIX = `arn:aws:lambda:${LOCAL.region}:${LOCAL.account}:function:crossmove-local-`;

export type { FunctionKey } from '../handlers/index.js';
export type LocalHandler = (event: any) => Promise<unknown> | unknown;

export interface ApprovalDecision {
  approved: boolean;
  by?: string;
  reason?: string;
}

export interface RunEvent {
  type: string;
  /** 'migration' for the main execution, 'lag-monitor#N' / 'copy#N' for the Nth child window of each. */
  execution: string;
  state?: string;
  stateType?: string;
  timestamp: number;
  /** State input (StateEntered) or output (StateExited), execution input/output. */
  payload?: unknown;
  error?: string;
  cause?: string;
  /** Inside a Map state: the iteration's index (its MapIteration* events carry it too). */
  mapIndex?: number;
}

export interface RunOptions {
  input: unknown;
  definitionPath?: string;
  /** Answers the approval gate (SendTaskSuccess / SendTaskFailure with ApprovalRejected). */
  approve?: (request: ApprovalRequest, ctx: { signal: AbortSignal }) => Promise<ApprovalDecision>;
  onEvent?: (event: RunEvent) => void;
  /** Replace handlers by function key (tests). */
  handlers?: Partial<Record<FunctionKey, LocalHandler>>;
  /** Every Wait state pauses this long (ms), or a function of the state name and its real seconds. */
  waitMs?: number | ((stateName: string, seconds: number) => number);
  /** Without waitMs: real seconds (Seconds, or SecondsPath read from the validated input) times this. */
  waitScale?: number;
  /** Pause before every retry (ms) instead of the definition's backoff. */
  retryMs?: number;
  /** Raise every Lambda Task's TimeoutSeconds to at least this (no Lambda 15-minute limit locally). */
  minTaskTimeoutSeconds?: number;
  /** Where generated secrets go when CROSSMOVE_SECRET_STORE is unset (default .crossmove/secrets). */
  secretDir?: string;
  /** Aborting stops the execution after the running state (Ctrl-C in the CLI): status ABORTED. */
  signal?: AbortSignal;
}

export interface RunResult {
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  output?: unknown;
  error?: string;
  cause?: string;
}

type Definition = StateMachineDefinition & { States: Record<string, any> };

/** How a Task state is executed locally. */
export type TaskBinding =
  | { kind: 'lambda'; functionKey: string }
  | { kind: 'lambda-invoke'; functionKey: string }
  | { kind: 'task-token'; functionKey: string }
  | { kind: 'child-execution'; stateMachineName: string; definitionPath: string };

/** Loads an ASL YAML file and replaces CloudFormation references with local ARNs. */
export function loadDefinition(path: string): Definition {
  return localize(parseYaml(readFileSync(path, 'utf8'))) as Definition;
}

function localize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(localize);
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const getAtt = obj['Fn::GetAtt'];
    if (Array.isArray(getAtt) && getAtt[1] === 'Arn' && Object.keys(obj).length === 1) return `${LAMBDA_ARN_PREFIX}${getAtt[0]}`;
    if (typeof obj['Fn::Sub'] === 'string' && Object.keys(obj).length === 1) {
      return (obj['Fn::Sub'] as string)
        .replaceAll('${AWS::Partition}', LOCAL.partition)
        .replaceAll('${AWS::Region}', LOCAL.region)
        .replaceAll('${AWS::AccountId}', LOCAL.account)
        .replaceAll('${sls:stage}', LOCAL.stage);
    }
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, localize(v)]));
  }
  return value;
}

function functionKeyOf(arn: unknown): string | undefined {
  return typeof arn === 'string' && arn.startsWith(LAMBDA_ARN_PREFIX) ? arn.slice(LAMBDA_ARN_PREFIX.length) : undefined;
}

/**
 * Every state of a definition, those inside Map (ItemProcessor / Iterator) and Parallel branches
 * included: the engine keys its local overrides by state name at every level, so a name used twice
 * would bind two states to one override and is refused.
 */
export function allStates(definition: { States: Record<string, any> }): [string, Record<string, any>][] {
  const out: [string, Record<string, any>][] = [];
  const seen = new Set<string>();
  const visit = (states: Record<string, any>) => {
    for (const [name, state] of Object.entries(states)) {
      if (seen.has(name)) throw new Error(`state name "${name}" is used twice (inside a Map or Parallel too): local overrides are keyed by name`);
      seen.add(name);
      out.push([name, state]);
      const processor = state.ItemProcessor ?? state.Iterator;
      if (state.Type === 'Map' && processor?.States) visit(processor.States);
      if (state.Type === 'Parallel') for (const branch of state.Branches ?? []) visit(branch.States ?? {});
    }
  };
  visit(definition.States);
  return out;
}

/** Every Task state of a definition with its local binding; throws naming every Task it cannot bind. */
export function taskBindings(definition: Definition, definitionPath: string): Map<string, TaskBinding> {
  const bindings = new Map<string, TaskBinding>();
  const problems: string[] = [];
  for (const [name, state] of allStates(definition)) {
    if (state.Type !== 'Task') continue;
    const resource: string = state.Resource;
    const direct = functionKeyOf(resource);
    if (direct) bindings.set(name, { kind: 'lambda', functionKey: direct });
    else if (resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken' || resource === 'arn:aws:states:::lambda:invoke') {
      const key = functionKeyOf(state.Parameters?.FunctionName);
      if (key) bindings.set(name, { kind: resource.endsWith('waitForTaskToken') ? 'task-token' : 'lambda-invoke', functionKey: key });
      else problems.push(`"${name}": Parameters.FunctionName must be { Fn::GetAtt: [<functionKey>, Arn] }`);
    } else if (resource.startsWith('arn:aws:states:::states:startExecution.sync')) {
      const arn: unknown = state.Parameters?.StateMachineArn;
      const match = typeof arn === 'string' ? /:stateMachine:crossmove-(.+)-local$/.exec(arn) : null;
      if (match) {
        const childPath = join(dirname(definitionPath), `${match[1]}.asl.yaml`);
        bindings.set(name, { kind: 'child-execution', stateMachineName: match[1]!, definitionPath: childPath });
      } else problems.push(`"${name}": StateMachineArn must name crossmove-<name>-\${sls:stage} (statemachine/<name>.asl.yaml)`);
    } else problems.push(`"${name}": no local binding for Resource ${resource}`);
  }
  if (problems.length) throw new Error(`Cannot run ${definitionPath} locally: ${problems.join('; ')}`);
  return bindings;
}

/** Runs a migration locally. Resolves with the execution's status; never rejects for a failed execution. */
export async function runStateMachineLocally(options: RunOptions): Promise<RunResult> {
  const definitionPath = options.definitionPath ?? DEFAULT_DEFINITION_PATH;
  process.env.CROSSMOVE_SECRET_STORE ??= `local:${options.secretDir ?? join(process.cwd(), '.crossmove', 'secrets')}`;
  if (!process.env.CROSSMOVE_APPROVAL_STORE) setApprovalStore(new MemoryApprovalStore());

  const runner = new LocalRunner(options);
  const { definition, overrides } = runner.prepare(definitionPath);
  try {
    const output = await runner.execute('migration', definition, options.input, overrides);
    return { status: 'SUCCEEDED', output };
  } catch (err) {
    if (err instanceof ExecutionFailed) return { status: 'FAILED', error: err.error, cause: err.cause };
    if (err instanceof ExecutionAbortedError) return { status: 'ABORTED', error: 'ExecutionAborted', cause: 'The local run was aborted' };
    throw err;
  } finally {
    runner.close();
  }
}

class ExecutionFailed extends Error {
  constructor(readonly error: string, readonly cause: string) {
    super(`${error}: ${cause}`);
  }
}

interface Prepared {
  definition: Definition;
  overrides: {
    taskResourceLocalHandlers: Record<string, (input: any) => Promise<any>>;
    waitTimeOverrides: Record<string, number>;
    retryIntervalOverrides?: Record<string, number>;
  };
}

class LocalRunner {
  private readonly prepared = new Map<string, Prepared>();
  private readonly closing = new AbortController();
  /** Child executions started so far, per state machine (lag-monitor#1, copy#1, ...). */
  private readonly childRuns = new Map<string, number>();
  private readonly validatedInput: Record<string, any> | undefined;

  constructor(private readonly options: RunOptions) {
    try {
      this.validatedInput = validateMigrationInput(options.input) as unknown as Record<string, any>;
    } catch {
      this.validatedInput = undefined; // the first state reports the problems
    }
  }

  close(): void {
    this.closing.abort();
  }

  /** Loads a definition (and, recursively, its children) and builds the engine's overrides; fails fast. */
  prepare(path: string): Prepared {
    const hit = this.prepared.get(path);
    if (hit) return hit;
    const definition = loadDefinition(path);
    const states = new Map(allStates(definition));
    for (const state of states.values()) alignTimeoutPath(state);
    const bindings = taskBindings(definition, path);
    const handlers: Prepared['overrides']['taskResourceLocalHandlers'] = {};
    const unknown: string[] = [];
    for (const [stateName, binding] of bindings) {
      if (binding.kind === 'child-execution') {
        const child = this.prepare(binding.definitionPath);
        handlers[stateName] = (input) => this.runChild(binding.stateMachineName, child, input);
        continue;
      }
      const key = binding.functionKey;
      if (!isFunctionKey(key) && !this.options.handlers?.[key as FunctionKey]) {
        unknown.push(`"${stateName}" -> ${key}`);
        continue;
      }
      if (binding.kind === 'lambda') handlers[stateName] = (input) => this.callHandler(key, input);
      else if (binding.kind === 'lambda-invoke') handlers[stateName] = async (input) => ({ Payload: await this.callHandler(key, input.Payload) });
      else handlers[stateName] = (input) => this.awaitApproval(key, input.Payload as ApprovalTaskEvent);
      // Lambda Tasks only: the approval's timeout is the gate itself.
      if (binding.kind !== 'task-token' && this.options.minTaskTimeoutSeconds) {
        const state = states.get(stateName)!;
        state.TimeoutSeconds = Math.max(state.TimeoutSeconds ?? 0, this.options.minTaskTimeoutSeconds);
      }
    }
    if (unknown.length) throw new Error(`Task states without a handler in handlers/index.ts: ${unknown.join(', ')}`);

    const waitTimeOverrides: Record<string, number> = {};
    const retryIntervalOverrides: Record<string, number> = {};
    for (const [name, state] of states) {
      if (state.Type === 'Wait') waitTimeOverrides[name] = this.waitMs(name, state);
      if (state.Retry && this.options.retryMs !== undefined) retryIntervalOverrides[name] = this.options.retryMs;
    }
    const prepared: Prepared = {
      definition,
      overrides: {
        taskResourceLocalHandlers: handlers,
        waitTimeOverrides,
        ...(this.options.retryMs !== undefined ? { retryIntervalOverrides } : {}),
      },
    };
    this.prepared.set(path, prepared);
    return prepared;
  }

  private waitMs(name: string, state: { Seconds?: number; SecondsPath?: string }): number {
    const seconds = state.Seconds ?? this.secondsFromPath(state.SecondsPath) ?? 0;
    const w = this.options.waitMs;
    if (typeof w === 'number') return w;
    if (typeof w === 'function') return w(name, seconds);
    return Math.round(seconds * 1000 * (this.options.waitScale ?? 1));
  }

  /** SecondsPath points into the state, whose `input` is the validated input (e.g. $.input.replication.pollSeconds). */
  private secondsFromPath(path: string | undefined): number | undefined {
    if (!path?.startsWith('$.') || !this.validatedInput) return undefined;
    let value: unknown = { input: this.validatedInput };
    for (const key of path.slice(2).split('.')) value = (value as Record<string, unknown> | undefined)?.[key];
    return typeof value === 'number' ? value : undefined;
  }

  async execute(execution: string, definition: Definition, input: unknown, overrides: Prepared['overrides']): Promise<unknown> {
    const machine = new StateMachine(definition);
    const token = `local-${randomUUID()}`;
    const run = machine.run(input as any, { overrides, context: { Task: { Token: token } } });
    const pump = this.forwardEvents(execution, run.eventLogs);
    const signal = this.options.signal;
    const abort = () => run.abort();
    if (signal?.aborted) abort();
    signal?.addEventListener('abort', abort, { once: true });
    try {
      return await run.result;
    } catch (err) {
      if (err instanceof ExecutionAbortedError) throw err;
      const inner = (err as { cause?: { name?: string; message?: string } }).cause;
      throw new ExecutionFailed(inner?.name ?? (err as Error).name, inner?.message ?? (err as Error).message);
    } finally {
      signal?.removeEventListener('abort', abort);
      await pump;
    }
  }

  private async forwardEvents(execution: string, events: AsyncGenerator<any>): Promise<void> {
    const onEvent = this.options.onEvent;
    for await (const ev of events) {
      if (!onEvent) continue;
      const out: RunEvent = { type: ev.type, execution, timestamp: ev.timestamp };
      if (typeof ev.index === 'number') out.mapIndex = ev.index;
      if (ev.state) {
        out.state = ev.state.name;
        out.stateType = ev.state.type;
        out.payload = ev.type === 'StateExited' ? ev.state.output : ev.state.input;
      } else if ('input' in ev) out.payload = ev.input;
      else if ('output' in ev) out.payload = ev.output;
      if (ev.Error !== undefined) {
        out.error = ev.Error;
        out.cause = typeof ev.Cause === 'string' ? ev.Cause : JSON.stringify(ev.Cause);
      }
      try {
        onEvent(out);
      } catch {
        // A broken progress display must not break the migration.
      }
    }
  }

  private async callHandler(key: string, event: unknown): Promise<unknown> {
    const override = this.options.handlers?.[key as FunctionKey];
    const out = override
      ? await override(structuredClone(event))
      : await (await handlerRegistry[key as FunctionKey].load()).handler(structuredClone(event), localLambdaContext(key));
    // What a Lambda returns travels as JSON.
    return out === undefined ? null : JSON.parse(JSON.stringify(out));
  }

  /** The waitForTaskToken task: invoke the handler (stores the token, notifies), then wait for the answer. */
  private async awaitApproval(key: string, payload: ApprovalTaskEvent): Promise<ApprovalResult> {
    await this.callHandler(key, payload);
    const request = buildApprovalRequest(payload.state, payload.taskToken, new Date());
    if (!this.options.approve) throw named(APPROVAL_REJECTED, 'No approver in this local run (pass approve, or use cutover.approval auto)');
    const decision = await this.options.approve(request, { signal: this.closing.signal });
    if (!decision.approved) throw named(APPROVAL_REJECTED, decision.reason ?? 'Rejected');
    return { approved: true, by: decision.by ?? 'local', ...(decision.reason ? { reason: decision.reason } : {}), at: new Date().toISOString() };
  }

  /** startExecution.sync:2 locally: the child's output comes back parsed in `Output`, as on AWS. */
  private async runChild(name: string, child: Prepared, input: { Input?: unknown; Name?: string }): Promise<unknown> {
    const n = (this.childRuns.get(name) ?? 0) + 1;
    this.childRuns.set(name, n);
    const execution = `${name}#${n}`;
    const arn = `arn:aws:states:${LOCAL.region}:${LOCAL.account}:execution:crossmove-${name}-local:${input.Name ?? execution}`;
    try {
      const output = await this.execute(execution, child.definition, input.Input ?? {}, child.overrides);
      return { ExecutionArn: arn, Status: 'SUCCEEDED', Output: output };
    } catch (err) {
      if (!(err instanceof ExecutionFailed)) throw err;
      // As on AWS: the parent Task fails with States.TaskFailed; the child's error is inside the Cause.
      throw named('States.TaskFailed', JSON.stringify({ ExecutionArn: arn, Status: 'FAILED', Error: err.error, Cause: err.cause }));
    }
  }
}

/**
 * On AWS a Task's TimeoutSecondsPath reads the state input; aws-local-stepfunctions 3.0.0 reads the
 * input after Parameters. Where Parameters pass the whole state on (`x.$: $`), point the path there.
 */
function alignTimeoutPath(state: Record<string, any>): void {
  if (state.Type !== 'Task' || !state.TimeoutSecondsPath || !state.Parameters) return;
  const where = pathOfWholeState(state.Parameters, []);
  if (where) state.TimeoutSecondsPath = `$.${where.join('.')}${state.TimeoutSecondsPath.slice(1)}`;
}

function pathOfWholeState(params: unknown, at: string[]): string[] | undefined {
  if (!params || typeof params !== 'object') return undefined;
  for (const [key, value] of Object.entries(params as Record<string, unknown>)) {
    if (key.endsWith('.$') && value === '$') return [...at, key.slice(0, -2)];
    const inner = pathOfWholeState(value, [...at, key]);
    if (inner) return inner;
  }
  return undefined;
}

function named(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}
