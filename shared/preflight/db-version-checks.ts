// Preflight: engine versions. Replication runs from an older or equal version to a newer or equal one;
// reverse replication (fallback) runs the other way, so a newer target makes the fallback fragile;
// MariaDB <-> MySQL replication only works for the common subset of features. Read-only (VERSION()).
import type { MigrationInput } from '../input/validate.js';
import { q, type Conn } from '../mysql/connection.js';
import { fail, pass, warn, type CheckOutcome } from './checks.js';

export interface ServerVersion {
  text: string;
  family: 'mysql' | 'mariadb';
  major: number;
  minor: number;
}

function parseVersion(text: string): ServerVersion {
  const m = /^(\d+)\.(\d+)/.exec(text);
  return { text, family: /mariadb/i.test(text) ? 'mariadb' : 'mysql', major: Number(m?.[1] ?? 0), minor: Number(m?.[2] ?? 0) };
}

export async function readVersion(conn: Conn): Promise<ServerVersion> {
  const [row] = await q<{ v: string }>(conn, 'SELECT VERSION() AS v');
  return parseVersion(String(row?.v ?? ''));
}

const label = (v: ServerVersion) => `${v.family === 'mariadb' ? 'MariaDB' : 'MySQL'} ${v.major}.${v.minor} (${v.text})`;
const cmp = (a: ServerVersion, b: ServerVersion) => a.major - b.major || a.minor - b.minor;

export function versionCheck(input: MigrationInput, source: ServerVersion, target: ServerVersion | null): CheckOutcome[] {
  const id = 'db-engine-versions';
  if (!target) {
    return [pass(id, `The source runs ${label(source)}; the ${input.initialLoad.method} target starts with the same version.`)];
  }
  if (source.family !== target.family) {
    return [
      warn(
        id,
        `The source runs ${label(source)} and the target ${label(target)}: replication between MariaDB and MySQL works only for the common subset (no GTIDs, no engine-specific types or functions).`,
        'Test the migration on a copy first, keep binlog_format ROW; the data comparison (cutover.verify diff) compares rows engine-neutrally, except JSON columns between MySQL and MariaDB, which it names as not compared.',
      ),
    ];
  }
  if (cmp(target, source) < 0) {
    return [
      fail(
        id,
        `The target runs ${label(target)}, older than the source's ${label(source)}: replication from a newer to an older major version is not supported.`,
        `Use a target of version ${source.major}.${source.minor} or newer (target.engine / the cluster's engine version).`,
      ),
    ];
  }
  if (cmp(target, source) > 0 && input.cutover.reverseReplication) {
    return [
      warn(
        id,
        `The target runs ${label(target)}, newer than the source's ${label(source)}: forward replication is fine, but reverse replication (fallback) would replicate from newer to older.`,
        'Test the fallback before relying on it, or set cutover.reverseReplication to false.',
      ),
    ];
  }
  return [pass(id, `Source ${label(source)} and target ${label(target)} are compatible.`)];
}
