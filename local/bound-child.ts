// Child processes that must never outlive this one: the throwaway MariaDB servers and the sysbench
// load. A test worker killed on timeout, a benchmark stopped with Ctrl-C or SIGKILL, a crash: their
// finally blocks never run, and an orphaned sysbench whose server is gone spins reconnecting (it was
// once found after 30 minutes at 116 % CPU and 12 GB). So each child gets two guards:
// - the kernel's parent-death signal (prctl PR_SET_PDEATHSIG, set by util-linux `setpriv`, which then
//   execs the program: the child's pid is the program's own): SIGKILL as soon as this process dies,
//   however it dies;
// - on a normal exit of this process (process.exit, an uncaught exception), SIGKILL from here.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';

// CROSSMOVE_NO_PDEATHSIG=1 leaves the kernel's guard off, so that a test can check what is left
// where setpriv is missing (sysbench's own parent watch).
const SETPRIV = process.env.CROSSMOVE_NO_PDEATHSIG === '1' ? null : (['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? null);

const alive = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of alive) child.kill('SIGKILL');
});

/** Whether children die with this process even when it is killed (setpriv is there). */
export const diesWithParent = SETPRIV !== null;

export function spawnBound(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const child = SETPRIV ? spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args], options) : spawn(command, args, options);
  alive.add(child);
  child.once('exit', () => alive.delete(child));
  return child;
}
