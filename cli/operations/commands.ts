// The operations commands as functions (the lead wires them into cli/main.ts with commander):
//   crossmove start <input.yaml|json>, status <id> [--watch], approve <id> [--reason], reject <id> --reason, list
// Each returns the process exit code: 0 done, 1 the service said no (message printed), 2 bad usage.
import { readFile } from 'node:fs/promises';
import logUpdate from 'log-update';
import { parse as parseYaml } from 'yaml';
import type { MigrationStatus } from '../../shared/operations/status.js';
import { chooseBackend, OperationsError, type BackendOptions, type OperationsBackend } from './backend.js';
import { formatAnswered, formatList, formatStarted, formatStatus } from './format.js';

export interface CommandIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** The backend to use (tests); otherwise chosen from the options. */
  backend?: OperationsBackend;
}

export interface CommonOptions extends BackendOptions {
  json?: boolean;
}

const defaultIo: CommandIo = { out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`) };

async function withBackend(o: CommonOptions, io: CommandIo, fn: (b: OperationsBackend) => Promise<void>): Promise<number> {
  try {
    await fn(io.backend ?? (await chooseBackend(o)));
    return 0;
  } catch (err) {
    const e = err as Error;
    const name = err instanceof OperationsError ? err.errorName : e.name;
    io.err(o.json ? JSON.stringify({ error: name, message: e.message }) : `${name}: ${e.message}`);
    return 1;
  }
}

const print = (io: CommandIo, o: CommonOptions, value: unknown, text: string) => io.out(o.json ? JSON.stringify(value) : text);

export async function startCommand(file: string, o: CommonOptions = {}, io: CommandIo = defaultIo): Promise<number> {
  let input: unknown;
  try {
    const text = await readFile(file, 'utf8');
    input = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    io.err(`Cannot read the input ${file}: ${(err as Error).message}`);
    return 2;
  }
  return withBackend(o, io, async (b) => {
    const started = await b.start(input);
    print(io, o, started, formatStarted(started));
  });
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

export async function statusCommand(
  migrationId: string,
  o: CommonOptions & { watch?: boolean; intervalSeconds?: number; maxPolls?: number } = {},
  io: CommandIo = defaultIo,
): Promise<number> {
  return withBackend(o, io, async (b) => {
    if (!o.watch) {
      const s = await b.status(migrationId);
      print(io, o, s, formatStatus(s));
      return;
    }
    // Live view: redraw in place on a TTY (log-update), one block per poll otherwise or with --json.
    const live = !o.json && io.out === defaultIo.out && process.stdout.isTTY;
    let polls = 0;
    let s: MigrationStatus;
    do {
      s = await b.status(migrationId);
      const text = formatStatus(s);
      if (live) logUpdate(`${text}\n\n(refreshing every ${o.intervalSeconds ?? 10} s; Ctrl-C to stop watching: the migration keeps going)`);
      else print(io, o, s, text);
      polls++;
      if (TERMINAL.has(s.executionStatus) || (o.maxPolls !== undefined && polls >= o.maxPolls)) break;
      await new Promise((r) => setTimeout(r, (o.intervalSeconds ?? 10) * 1000));
    } while (true);
    if (live) logUpdate.done();
  });
}

export async function approveCommand(migrationId: string, o: CommonOptions & { reason?: string } = {}, io: CommandIo = defaultIo): Promise<number> {
  return withBackend(o, io, async (b) => {
    const a = await b.approve(migrationId, o.reason);
    print(io, o, a, formatAnswered(a));
  });
}

export async function rejectCommand(migrationId: string, o: CommonOptions & { reason?: string } = {}, io: CommandIo = defaultIo): Promise<number> {
  if (!o.reason?.trim()) {
    io.err('reject needs --reason "<why>" (it is recorded and becomes the execution\'s failure cause)');
    return 2;
  }
  return withBackend(o, io, async (b) => {
    const a = await b.reject(migrationId, o.reason!);
    print(io, o, a, formatAnswered(a));
  });
}

export async function listCommand(o: CommonOptions & { status?: string } = {}, io: CommandIo = defaultIo): Promise<number> {
  return withBackend(o, io, async (b) => {
    const list = await b.list(o.status);
    print(io, o, list, formatList(list));
  });
}
