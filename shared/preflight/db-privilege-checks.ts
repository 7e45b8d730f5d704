// Preflight: the admin secrets belong to users that may do what the migration does on each side.
// A secret of an ordinary user used to pass the preflight with a warning and fail half-way through the
// run (ER_DBACCESS_DENIED_ERROR after crossmove's schema was created). The user's own grants are read
// with SHOW GRANTS (which needs no privilege) and compared with what each step runs. Privileges that
// may come through roles (Aurora MySQL 3's rds_superuser_role, MySQL 8 / MariaDB roles) are not visible
// there: then a missing privilege is a warning, never a refusal. Password hashes in the output of
// SHOW GRANTS are never read past the privilege list.
import type { Dialect } from '../mysql/dialect.js';
import type { MigrationInput } from '../input/validate.js';
import type { Conn } from '../mysql/connection.js';
import { fail, pass, warn, type CheckOutcome } from './checks.js';

export interface OwnGrants {
  /** Privileges ON *.* (ALL PRIVILEGES expanded to the word ALL). */
  global: Set<string>;
  globalGrantOption: boolean;
  /** Privileges ON `schema`.* by schema name. */
  schemas: Map<string, Set<string>>;
  /** Some privileges come through roles (not listed). */
  roles: boolean;
}

const GRANT_ON = /^GRANT\s+(.+?)\s+ON\s+(?:(?:FUNCTION|PROCEDURE|TABLE)\s+)?(\S+)\s+TO\s/i;
const ROLE_GRANT = /^GRANT\s+(?!.*\sON\s)\S.*\sTO\s/i;

export function parseGrants(lines: string[]): OwnGrants {
  const grants: OwnGrants = { global: new Set(), globalGrantOption: false, schemas: new Map(), roles: false };
  for (const line of lines) {
    const m = GRANT_ON.exec(line);
    if (!m) {
      if (ROLE_GRANT.test(line)) grants.roles = true;
      continue;
    }
    const privileges = m[1]!
      .replace(/\([^)]*\)/g, '')
      .split(',')
      .map((p) => p.trim().toUpperCase().replace(/^ALL PRIVILEGES$/, 'ALL'));
    const scope = m[2]!;
    if (scope === '*.*') {
      privileges.forEach((p) => grants.global.add(p));
      if (/\bWITH GRANT OPTION\b/i.test(line)) grants.globalGrantOption = true;
    } else {
      const schema = /^`((?:[^`]|``)+)`\.\*$/.exec(scope)?.[1]?.replaceAll('``', '`').replaceAll('\\_', '_');
      if (!schema) continue;
      const set = grants.schemas.get(schema) ?? new Set<string>();
      privileges.forEach((p) => set.add(p));
      grants.schemas.set(schema, set);
    }
  }
  return grants;
}

export async function readOwnGrants(conn: Conn): Promise<OwnGrants> {
  const [rows] = (await conn.query('SHOW GRANTS')) as unknown as [Record<string, unknown>[]];
  return parseGrants(rows.map((r) => String(Object.values(r)[0])));
}

interface Need {
  /** What the migration does with it, for the message. */
  for: string;
  /** Any one of these privileges will do (names differ between MySQL, MariaDB versions and Aurora). */
  any: string[];
  /** Enough when held on this schema. */
  schema?: string;
  grantOption?: boolean;
}

function holds(grants: OwnGrants, need: Need): boolean {
  const has = (set: Set<string> | undefined) => Boolean(set && (set.has('ALL') || need.any.some((p) => set.has(p))));
  if (need.grantOption && !grants.globalGrantOption) return false;
  return has(grants.global) || (need.schema !== undefined && has(grants.schemas.get(need.schema)));
}

const READ_ONLY = ['SUPER', 'READ_ONLY ADMIN', 'SYSTEM_VARIABLES_ADMIN'];
/** What of the dialect decides which privileges a step needs: managed servers (Aurora, RDS) run replication and KILL through mysql.rds_* procedures, and only some can set read_only. */
export type ServerKind = Pick<Dialect, 'managed' | 'canSetReadOnly'>;

/** What the migration runs on the source. */
export function sourceNeeds(input: MigrationInput, server: ServerKind): Need[] {
  const heartbeat = input.names.heartbeatSchema;
  const needs: Need[] = [
    { for: 'the replication user', any: ['CREATE USER'] },
    { for: 'granting it replication', any: ['REPLICATION SLAVE'], grantOption: true },
    { for: 'reading the binlog position', any: ['REPLICATION CLIENT', 'BINLOG MONITOR', 'SUPER'] },
    { for: 'the sessions the cutover ends', any: ['PROCESS'] },
    ...['CREATE', 'INSERT', 'UPDATE', 'DROP'].map((p) => ({ for: `the heartbeat table in schema ${heartbeat}`, any: [p], schema: heartbeat })),
  ];
  if (input.initialLoad.method === 'logical') {
    needs.push({ for: 'reading the data', any: ['SELECT'] }, { for: 'reading views', any: ['SHOW VIEW'] }, { for: 'reading triggers', any: ['TRIGGER'] }, { for: 'reading events', any: ['EVENT'] });
  }
  if (server.canSetReadOnly && (input.cutover.writeBlock?.method ?? 'read-only') === 'read-only') needs.push({ for: 'blocking writes (read_only)', any: READ_ONLY });
  if (!server.managed) needs.push({ for: 'ending application sessions (KILL)', any: ['SUPER', 'CONNECTION ADMIN', 'CONNECTION_ADMIN'] });
  return needs;
}

/** What the migration runs on the target (a logical copy's target, or any target that exists already). */
export function targetNeeds(input: MigrationInput, server: ServerKind): Need[] {
  const needs: Need[] = [];
  if (input.initialLoad.method === 'logical') {
    for (const p of ['SELECT', 'CREATE', 'DROP', 'INSERT', 'ALTER', 'INDEX', 'CREATE VIEW', 'CREATE ROUTINE', 'TRIGGER', 'EVENT', 'REFERENCES']) needs.push({ for: 'loading the copy', any: [p] });
  }
  if (!server.managed) needs.push({ for: 'configuring replication', any: ['SUPER', 'REPLICATION SLAVE ADMIN', 'REPLICATION_SLAVE_ADMIN'] });
  if (server.canSetReadOnly) needs.push({ for: 'making it writable at the cutover', any: READ_ONLY });
  if (input.cutover.reverseReplication) {
    needs.push({ for: 'the reverse replication user', any: ['CREATE USER'] }, { for: 'granting it replication', any: ['REPLICATION SLAVE'], grantOption: true });
  }
  return needs;
}

export function privilegeCheck(side: 'source' | 'target', user: string, grants: OwnGrants, needs: Need[]): CheckOutcome {
  const id = `db-${side}-privileges`;
  const field = `${side}.adminSecret`;
  const missing = needs.filter((n) => !holds(grants, n));
  if (!missing.length) return pass(id, `${field} (user ${user}) holds every privilege the migration uses on the ${side}.`);
  const list = [...new Map(missing.map((n) => [n.any.join(' or '), n])).values()]
    .map((n) => `${n.any.join(' or ')}${n.grantOption ? ' WITH GRANT OPTION' : ''}${n.schema ? ` (on *.* or ${n.schema}.*)` : ''} for ${n.for}`)
    .join('; ');
  const text = `${field} is the secret of user ${user}, who lacks privileges the migration uses on the ${side}: ${list}.`;
  const fix = `Use the secret of an administrator in ${field} (on RDS/Aurora the master user), or grant ${user} what is missing (GRANT ... ON *.* TO ${user} WITH GRANT OPTION).`;
  if (grants.roles) return warn(id, `${text} They may come through a role, which SHOW GRANTS does not expand.`, fix);
  return fail(id, text, fix);
}
