// Users and grants of the applications. Aurora MySQL 3 does not replicate CREATE USER/GRANT, so at
// cutover the two sides are compared; the report never shows password hashes. applyMissingGrants
// copies what is missing (SHOW CREATE USER keeps the hash, so no password is ever known to crossmove).
import { q, type Conn } from './connection.js';
import { CUTOVER_SIDES, type SidePair } from './switch-sides.js';

const SYSTEM_USERS = new Set(['root', 'mysql.sys', 'mysql.session', 'mysql.infoschema', 'mariadb.sys', 'rdsadmin', 'rdsrepladmin', 'rds_superuser_role', 'PUBLIC', '']);

export interface UserGrants {
  account: string;
  grants: string[];
}

function account(user: string, host: string): string {
  return `'${user.replace(/'/g, "''")}'@'${host.replace(/'/g, "''")}'`;
}

/** Grant lines with any password or hash removed (they are compared and reported, never applied as-is). */
export function normaliseGrant(line: string): string {
  return line
    .replace(/\s+IDENTIFIED\s+(BY\s+PASSWORD|WITH\s+\S+\s+AS|BY|VIA\s+\S+\s+USING)\s+'(?:[^'\\]|\\.|'')*'/gi, '')
    .replace(/\s+/g, ' ')
    .trim();
}

export async function applicationGrants(conn: Conn, excludeUsers: string[]): Promise<Map<string, UserGrants>> {
  const exclude = new Set([...SYSTEM_USERS, ...excludeUsers]);
  const users = await q<{ User: string; Host: string }>(conn, 'SELECT User, Host FROM mysql.user ORDER BY User, Host');
  const out = new Map<string, UserGrants>();
  for (const u of users) {
    if (exclude.has(String(u.User))) continue;
    const acc = account(String(u.User), String(u.Host));
    const rows = await q<Record<string, string>>(conn, `SHOW GRANTS FOR ${acc}`);
    out.set(acc, { account: acc, grants: rows.map((r) => normaliseGrant(String(Object.values(r)[0]))).sort() });
  }
  return out;
}

export interface GrantDiff {
  missingUsers: string[];
  missingGrants: { account: string; grant: string }[];
  /** Human-readable lines for the report. */
  lines: string[];
}

/**
 * What the new primary (`to`) lacks of the old one's (`from`) users and grants; the lines name the sides
 * as `sides` calls them (the cutover's by default: source -> target).
 */
export async function diffGrants(from: Conn, to: Conn, excludeUsers: string[], sides: SidePair = CUTOVER_SIDES): Promise<GrantDiff> {
  const [s, t] = await Promise.all([applicationGrants(from, excludeUsers), applicationGrants(to, excludeUsers)]);
  const missingUsers: string[] = [];
  const missingGrants: { account: string; grant: string }[] = [];
  for (const [acc, ug] of s) {
    const there = t.get(acc);
    if (!there) missingUsers.push(acc);
    const have = new Set(there?.grants ?? []);
    for (const g of ug.grants) if (!have.has(g)) missingGrants.push({ account: acc, grant: g });
  }
  return { missingUsers, missingGrants, lines: grantDiffLines(missingUsers, missingGrants, sides) };
}

/** The report's lines of a diff, naming the sides (`sides.newSide` lacks what `sides.oldSide` has). */
export function grantDiffLines(missingUsers: string[], missingGrants: { account: string; grant: string }[], sides: SidePair): string[] {
  return [
    ...missingUsers.map((a) => `user ${a} exists on the ${sides.oldSide} but not on the ${sides.newSide}`),
    ...missingGrants.map((g) => `${g.account} lacks on the ${sides.newSide}: ${g.grant}`),
  ];
}

/** Creates the missing users (with their password hashes) and grants on the target. */
export async function applyGrantDiff(source: Conn, target: Conn, diff: GrantDiff): Promise<void> {
  for (const acc of diff.missingUsers) {
    const [row] = await q<Record<string, string>>(source, `SHOW CREATE USER ${acc}`);
    const create = String(Object.values(row ?? {})[0] ?? '');
    if (create) await q(target, create.replace(/^CREATE USER /i, 'CREATE USER IF NOT EXISTS '));
  }
  for (const g of diff.missingGrants) {
    if (/^GRANT /i.test(g.grant)) await q(target, g.grant);
  }
}
