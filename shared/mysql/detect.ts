// Which server a connection reached, from what the server itself documents: Aurora MySQL answers
// aurora_version() ("3.04.1"; its VERSION() is a plain MySQL version such as 8.0.28, so a VERSION()
// pattern cannot tell it from MySQL); MariaDB says so in VERSION(); RDS for MySQL has the mysql.rds_*
// procedures and its binaries under /rdsdbbin; anything else is self-managed MySQL. Servers the
// dialects cannot drive are refused here, with what to do. Read-only.
import { UnsupportedEngineError } from '../errors.js';
import type { Engine } from '../input/schema.js';
import { errnoOf, q, type Conn } from './connection.js';

export interface ServerIdentity {
  /** The dialect that drives this server. */
  engine: Engine;
  product: 'Aurora MySQL' | 'RDS for MySQL' | 'MySQL' | 'MariaDB';
  /** VERSION(). */
  version: string;
  /** aurora_version() on Aurora MySQL ("2.11.1", "3.06.0"), else null. */
  auroraVersion: string | null;
}

/** [major, minor, patch] of a version string ("8.0.28-log" -> [8, 0, 28]); missing parts are 0. */
function versionParts(text: string | null | undefined): [number, number, number] {
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(String(text ?? '').trim());
  return [Number(m?.[1] ?? 0), Number(m?.[2] ?? 0), Number(m?.[3] ?? 0)];
}

/** a >= b for dotted versions ("3.06.0" >= "3.6"). */
export function versionAtLeast(a: string | null | undefined, b: string): boolean {
  const [x, y] = [versionParts(a), versionParts(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! > y[i]!;
  return true;
}

export function describeServer(s: ServerIdentity): string {
  return s.auroraVersion ? `Aurora MySQL ${s.auroraVersion} (VERSION() ${s.version})` : `${s.product} ${s.version}`;
}

/** The oldest MySQL 8.0 with CHANGE REPLICATION SOURCE TO, the statement the mysql-8 dialect sends. */
const MIN_MYSQL_8 = '8.0.23';

/** No such function (1305), or no default database to look a stored function up in (1046). */
const NOT_AURORA_ERRNOS = new Set([1305, 1046, 1064]);

async function readAuroraVersion(conn: Conn): Promise<string | null> {
  try {
    const [row] = await q<{ v: unknown }>(conn, 'SELECT aurora_version() AS v');
    return row?.v === null || row?.v === undefined ? null : String(row.v);
  } catch (err) {
    if (NOT_AURORA_ERRNOS.has(errnoOf(err) ?? 0)) return null;
    throw err;
  }
}

async function isRdsManaged(conn: Conn): Promise<boolean> {
  const [row] = await q<{ basedir: unknown; procs: unknown }>(
    conn,
    "SELECT @@global.basedir AS basedir, (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'mysql' AND ROUTINE_NAME = 'rds_set_configuration') AS procs",
  );
  return String(row?.basedir ?? '').startsWith('/rdsdbbin') || Number(row?.procs ?? 0) > 0;
}

/** Identifies the server; throws UnsupportedEngineError for one the dialects cannot drive. */
export async function detectServer(conn: Conn): Promise<ServerIdentity> {
  const [row] = await q<{ v: unknown }>(conn, 'SELECT VERSION() AS v');
  const version = String(row?.v ?? '');
  const auroraVersion = await readAuroraVersion(conn);
  if (auroraVersion) {
    const major = versionParts(auroraVersion)[0];
    if (major === 3) return { engine: 'aurora-mysql-3', product: 'Aurora MySQL', version, auroraVersion };
    if (major === 2) return { engine: 'aurora-mysql-2', product: 'Aurora MySQL', version, auroraVersion };
    throw new UnsupportedEngineError(`The server is Aurora MySQL ${auroraVersion} (VERSION() ${version}): crossmove drives Aurora MySQL 2 and 3 only. Upgrade the cluster to Aurora MySQL 3 first.`);
  }
  if (/mariadb/i.test(version)) return { engine: 'mariadb', product: 'MariaDB', version, auroraVersion: null };
  const rds = await isRdsManaged(conn);
  const product = rds ? 'RDS for MySQL' : 'MySQL';
  const [major, minor, patch] = versionParts(version);
  if (major < 8) {
    throw new UnsupportedEngineError(
      `The server is ${product} ${version}: crossmove's MySQL dialect sends the MySQL 8.0.23+ statements (CHANGE REPLICATION SOURCE TO, START/STOP/SHOW REPLICA), which MySQL ${major}.${minor} rejects. ` +
        `Upgrade it to MySQL ${MIN_MYSQL_8} or newer first (MySQL 5.7 is past its end of life), or move it another way.`,
    );
  }
  if (major === 8 && minor === 0 && patch < 23) {
    throw new UnsupportedEngineError(
      `The server is ${product} ${version}, older than ${MIN_MYSQL_8}, the first MySQL with CHANGE REPLICATION SOURCE TO (the statement crossmove's MySQL dialect sends). Upgrade it to ${MIN_MYSQL_8} or newer.`,
    );
  }
  return { engine: rds ? 'rds-mysql-8' : 'mysql-8', product, version, auroraVersion: null };
}

/**
 * The server an Aurora MySQL cluster runs, from its RDS EngineVersion ("8.0.mysql_aurora.3.06.0",
 * "5.7.mysql_aurora.2.12.4"), for the checks that must not wait until the database is reachable
 * (a plan run from outside the VPC). Null for anything else (Aurora MySQL 1, unknown formats).
 */
export function identityFromClusterEngineVersion(engineVersion: string | null | undefined): ServerIdentity | null {
  const m = /^(\d+\.\d+)\.mysql_aurora\.(\d+\.\d+\.\d+)/.exec(String(engineVersion ?? ''));
  if (!m) return null;
  const [version, auroraVersion] = [m[1]!, m[2]!];
  const major = versionParts(auroraVersion)[0];
  if (major !== 2 && major !== 3) return null;
  return { engine: major === 3 ? 'aurora-mysql-3' : 'aurora-mysql-2', product: 'Aurora MySQL', version, auroraVersion };
}
