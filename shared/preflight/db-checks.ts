// The database half of the preflight (Vitess-style Inspector: it only reads). Connects to the source
// and, when it exists already, the target, and reports every pitfall of aurora-facts.md that can be
// seen from inside the databases as pass/warn/fail with the fix. Statements sent: SELECT, SHOW and,
// on Aurora, CALL mysql.rds_show_configuration; a test records them all.
import { sourceAdminCredentials, targetAdminCredentials } from '../db-credentials.js';
import { sourceEndpoint, sourceEndpointForTarget, type Endpoint } from '../endpoints.js';
import { TransientError, UnsupportedEngineError } from '../errors.js';
import { redact } from '../redact.js';
import { closeQuietly, type Conn } from '../mysql/connection.js';
import { dialectFor, withServer, type Dialect } from '../mysql/dialect.js';
import { describeServer, detectServer, identityFromClusterEngineVersion } from '../mysql/detect.js';
import type { Engine } from '../input/schema.js';
import { reverseUserName } from '../mysql/replication-user.js';
import type { MigrationState } from '../state.js';
import { fail, pass, warn, type CheckOutcome } from './checks.js';
import { readBinlogFacts, readRetention, retentionBudgetChecks, retentionChecks, sourceBinlogChecks, targetBinlogChecks, type BinlogFacts } from './db-binlog-checks.js';
import { reach, type SideName } from './db-reach.js';
import { engineCheck, primaryKeyCheck, readTables, schemasCheck, scopeFilter, targetEmptyCheck } from './db-schema-checks.js';
import { userChecks } from './db-user-checks.js';
import { sslChecks } from './db-ssl-checks.js';
import { readVersion, versionCheck, type ServerVersion } from './db-version-checks.js';
import { frozenSourceDbChecks, namedReplicaCredentials } from './frozen-source-checks.js';
import { identityChecks, readIdentity } from './db-identity-checks.js';
import { privilegeCheck, readOwnGrants, sourceNeeds, targetNeeds } from './db-privilege-checks.js';

export type DbPreflightState = Pick<MigrationState, 'input' | 'accounts'> & Partial<Pick<MigrationState, 'preflight' | 'clone'>>;

export interface InspectDatabasesOptions {
  /** Tests wrap the connections to record every statement sent. */
  wrap?: (conn: Conn, side: SideName) => Conn;
}

/** Above this a DNS switch takes effect too slowly for a seconds-long cutover. */
const MAX_DNS_TTL_SECONDS = 60;

export async function inspectDatabases(state: DbPreflightState, opts: InspectDatabasesOptions = {}): Promise<CheckOutcome[]> {
  const { input } = state;
  const checks: CheckOutcome[] = [];
  const wrap = (c: Conn | null, side: SideName) => (c && opts.wrap ? opts.wrap(c, side) : c);

  let sourceEp: Endpoint | null = null;
  try {
    sourceEp = sourceEndpoint({ input, preflight: state.preflight });
  } catch {
    checks.push(warn('db-source-reachable', 'The source database was not checked: its endpoint is unknown (no source.endpoint, and the source cluster was not found).', 'Fix the source-cluster check, or give source.endpoint.'));
  }
  const targetEp = input.target.endpoint ?? (state.clone?.endpoint ? { host: state.clone.endpoint, port: state.clone.port ?? 3306 } : null);

  let source: Conn | null = null;
  let target: Conn | null = null;
  let sourceUser = '';
  let targetUser = '';
  try {
    const users = [input.replication.userName, reverseUserName(input.replication.userName)];
    if (sourceEp) {
      const forTarget = sourceEndpointForTarget({ input, preflight: state.preflight });
      const note = forTarget.host !== sourceEp.host ? ` (the target replicates from ${forTarget.host}:${forTarget.port}, which cannot be checked from here)` : '';
      const r = await reach('source', sourceEp, () => sourceAdminCredentials(state), note);
      checks.push(r.check);
      source = wrap(r.conn, 'source');
      if (r.username) users.push((sourceUser = r.username));
    }
    if (targetEp) {
      const r = await reach('target', targetEp, () => targetAdminCredentials(state));
      checks.push(r.check);
      target = wrap(r.conn, 'target');
      if (r.username) users.push((targetUser = r.username));
    }
    // Before anything else: a target that is the source itself makes every other finding moot.
    if (source && target && sourceEp && targetEp) {
      const [src, tgt] = [source, target];
      checks.push(...(await guarded('db-same-server', 'whether source and target are the same server', 'SELECT @@server_id, @@hostname, @@port', async () => identityChecks(input, sourceEp, targetEp, await readIdentity(src), await readIdentity(tgt)))));
    }

    let targetBinlogs: BinlogFacts | null = null;
    let targetVersion: ServerVersion | null = null;
    if (target) [targetBinlogs, targetVersion] = [await readBinlogFacts(target), await readVersion(target)];

    if (source) {
      const src = source;
      const sourceSide = await identify('source', src, input.source.engine);
      checks.push(sourceSide.check);
      const dialect = sourceSide.dialect;
      // A clone or restored snapshot runs the source's engine (and version); a reachable target is identified.
      let targetDialect = input.target.engine ? dialectFor(input.target.engine) : dialect;
      if (target) {
        const targetSide = await identify('target', target, input.target.engine);
        checks.push(targetSide.check);
        targetDialect = targetSide.dialect;
      }
      checks.push(...sslChecks(input, dialect, targetDialect));
      checks.push(...(await guarded('db-source-privileges', 'the privileges of the source admin user', 'SHOW GRANTS', async () => [privilegeCheck('source', sourceUser, await readOwnGrants(src), sourceNeeds(input, dialect))])));
      if (target) {
        const tgt = target;
        checks.push(...(await guarded('db-target-privileges', 'the privileges of the target admin user', 'SHOW GRANTS', async () => [privilegeCheck('target', targetUser, await readOwnGrants(tgt), targetNeeds(input, targetDialect))])));
      }
      if (input.initialLoad.method === 'logical' && input.initialLoad.schemas) {
        checks.push(...(await guarded('db-schemas', 'initialLoad.schemas', 'SELECT on information_schema.SCHEMATA', async () => [await schemasCheck(src, input.initialLoad.schemas!)])));
      }
      const scope = scopeFilter(input);
      const tables = await readTables(src, scope);
      const dataBytes = tables.reduce((n, t) => n + t.bytes, 0);
      checks.push(...sourceBinlogChecks(await readBinlogFacts(src)));
      checks.push(...(await guarded('db-source-binlog-retention', 'binlog retention', 'CALL mysql.rds_show_configuration on Aurora, SELECT of @@binlog_expire_logs_seconds / @@expire_logs_days elsewhere', async () => retentionChecks(input, dialect, await readRetention(src, dialect)))));
      // Needs no server read: stays even when the retention cannot be read.
      checks.push(...retentionBudgetChecks(input, dialect, dataBytes));
      const copiedSchemas = [...new Set(tables.map((t) => t.schema))];
      checks.push(...(await guarded('db-initial-load-source', 'the logical copy\'s source', 'SELECT on information_schema', () => frozenSourceDbChecks(input, src, dataBytes, copiedSchemas, namedReplicaCredentials(input, () => sourceAdminCredentials(state))))));
      checks.push(...(await guarded('db-engine-versions', 'engine versions', 'SELECT VERSION() on both servers', async () => versionCheck(input, await readVersion(src), targetVersion))));
      checks.push(primaryKeyCheck(tables), engineCheck(tables));
      checks.push(...(await guarded('db-users', 'users and grants', 'SELECT on mysql.user and information_schema', () => userChecks(input, src, target, users))));
      if (input.initialLoad.method === 'logical' && target) {
        const tgt = target;
        checks.push(...(await guarded('db-target-empty', 'the target tables', 'SELECT on information_schema.TABLES of the target', async () => [await targetEmptyCheck(tgt, tables, scope, input.migrationId)])));
      }
    }
    if (!source) {
      // The source is out of reach from here (a plan run outside the VPC), but the cluster's engine
      // version or the input names the engine: whether replication can be encrypted, and the caveat that
      // no certificate is verified, do not wait for a connection.
      const fromCluster = identityFromClusterEngineVersion(state.preflight?.sourceCluster?.engineVersion);
      const sourceDialect = fromCluster && (!input.source.engine || input.source.engine === fromCluster.engine) ? withServer(fromCluster) : input.source.engine ? dialectFor(input.source.engine) : null;
      let targetDialect = input.target.engine ? dialectFor(input.target.engine) : sourceDialect;
      if (target) {
        const targetSide = await identify('target', target, input.target.engine);
        checks.push(targetSide.check);
        targetDialect = targetSide.dialect;
      }
      if (sourceDialect && targetDialect) checks.push(...sslChecks(input, sourceDialect, targetDialect));
    }
    // Without a target yet (clone/snapshot), the reverse-replication check looks at the input instead.
    if (target || !targetEp) checks.push(...targetBinlogChecks(input, targetBinlogs));
  } finally {
    await closeQuietly(source ?? undefined);
    await closeQuietly(target ?? undefined);
  }
  checks.push(...dnsChecks(state));
  return checks;
}

/**
 * What server a side is (aurora_version(), VERSION(), the RDS procedures) against what the input says:
 * a server no dialect drives, or one the input names wrongly, fails here instead of half-way through
 * the migration. The dialect returned carries the detected version when there is one; the checks go
 * on with the input's engine (or mysql-8) when the server cannot be driven, to report everything at once.
 */
async function identify(side: SideName, conn: Conn, declared: Engine | undefined): Promise<{ check: CheckOutcome; dialect: Dialect }> {
  const id = `db-${side}-engine`;
  const fallback = dialectFor(declared ?? 'mysql-8');
  try {
    const server = await detectServer(conn);
    if (declared && declared !== server.engine) {
      return {
        dialect: fallback,
        check: fail(id, `${side}.engine is ${declared} but the ${side} is ${describeServer(server)}, driven by the ${server.engine} dialect.`, `Set ${side}.engine to ${server.engine}, or leave it out (crossmove detects it).`),
      };
    }
    return { dialect: withServer(server), check: pass(id, `The ${side} is ${describeServer(server)}: crossmove drives it with the ${server.engine} dialect.`) };
  } catch (err) {
    if (err instanceof UnsupportedEngineError) {
      return { dialect: fallback, check: fail(id, err.message, 'Upgrade the server to one crossmove drives (Aurora MySQL 2 or 3, MySQL 8.0.23+, RDS for MySQL 8, MariaDB), then run the preflight again.') };
    }
    if (err instanceof TransientError) throw err;
    return {
      dialect: fallback,
      check: warn(id, `Could not identify the ${side} server: ${redact((err as Error).message)}; the checks below assume ${fallback.engine}.`, `Set ${side}.engine in the input, or let the admin user run SELECT VERSION(), aurora_version() and read information_schema.ROUTINES.`),
    };
  }
}

/** A check the admin user lacks privileges for (or that meets something unexpected) warns instead of failing the preflight; network errors still surface (retried). */
/** A check the admin user may lack the privileges for: a warning that names what it needs, never a stop. */
async function guarded(id: string, what: string, needs: string, fn: () => Promise<CheckOutcome[]>): Promise<CheckOutcome[]> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TransientError) throw err;
    return [warn(id, `Could not check ${what}: ${redact((err as Error).message)}.`, `Check ${what} by hand, or let the admin user run what it needs (${needs}).`)];
  }
}

function dnsChecks(state: Pick<MigrationState, 'input'>): CheckOutcome[] {
  const dns = state.input.cutover.dns;
  if (!dns) return [];
  if (dns.ttl > MAX_DNS_TTL_SECONDS) {
    return [
      warn(
        'dns-ttl',
        `cutover.dns.ttl is ${dns.ttl} s: after the switch, clients may keep using the old endpoint (now blocked) for up to ${dns.ttl} s, and as long as the record's current TTL.`,
        `Set cutover.dns.ttl to ${MAX_DNS_TTL_SECONDS} s or less, and lower the TTL of ${dns.recordName} in Route 53 at least one old TTL before the cutover.`,
      ),
    ];
  }
  return [pass('dns-ttl', `cutover.dns.ttl is ${dns.ttl} s; lower the TTL of ${dns.recordName} in Route 53 to it at least one old TTL before the cutover.`)];
}
