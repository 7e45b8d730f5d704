// Processes as the kernel sees them, for the tests that check nothing is left running.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Whether a process with this pid exists and is not a zombie. */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The pid of the mariadbd serving the datadir of a local/mariadb.ts server, or null. */
export function serverPid(dir: string): number | null {
  const wanted = `--defaults-file=${join(dir, 'my.cnf')}`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => /mariadbd|mysqld/.test(a)) && argv.includes(wanted)) return Number(entry);
    } catch {
      /* gone meanwhile */
    }
  }
  return null;
}
