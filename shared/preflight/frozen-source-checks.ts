// Preflight of the logical copy's source (read-only): which frozen source applies and the copy's
// estimated time (frozen-source/choose.ts), tables that must be copied whole, and what each frozen kind
// needs: a named replica that replicates from the source and is healthy, an RDS instance that can have
// one more read replica (automatic backups, replica and instance quotas), an Aurora cluster that can be
// cloned in its account. Nothing here changes anything.
import type { DBInstance } from '@aws-sdk/client-rds';
import { DescribeAccountAttributesCommand, type RDSClient } from '@aws-sdk/client-rds';
import type { MigrationInput } from '../input/validate.js';
import type { Accounts } from '../state.js';
import { awsCall } from '../aws/call.js';
import { findCluster, findInstance, madeByMigration } from '../aws/rds.js';
import { frozenSourceRdsClient } from '../aws/frozen-source-access.js';
import { describeSchemaTables } from '../chunks/keys.js';
import { chooseFrozenSource, ESTIMATED_BYTES_PER_SECOND_PER_WORKER, formatSeconds, LIVE_COPY_LIMIT_SECONDS } from '../initial-load/frozen-source/choose.js';
import { closeQuietly, openConnection, q, type Conn } from '../mysql/connection.js';
import { resolveDialect } from '../mysql/dialect.js';
import { readReplicaStatus } from '../mysql/status.js';
import { readCredentials } from '../secrets.js';
import { fail, pass, warn, type CheckOutcome } from './checks.js';

/** RDS MySQL and MariaDB allow 15 read replicas per source instance (RDS User Guide, "Working with DB instance read replicas"). */
const MAX_READ_REPLICAS = 15;
/** A named replica this far behind still works, but its frozen point is that old (the source must keep its binlogs from there). */
const REPLICA_LAG_WARN_SECONDS = 300;

const onLambda = () => Boolean(process.env.AWS_LAMBDA_FUNCTION_NAME);

/** The database half: the frozen source chosen for this size, tables copied whole, a named replica's health. */
export async function frozenSourceDbChecks(
  input: MigrationInput,
  source: Conn,
  dataBytes: number,
  schemas: string[],
  readNamedCredentials: () => Promise<{ username: string; password: string }>,
): Promise<CheckOutcome[]> {
  if (input.initialLoad.method !== 'logical') return [];
  const out: CheckOutcome[] = [];
  const here = chooseFrozenSource(input, dataBytes, onLambda());
  const onAws = onLambda() ? here : chooseFrozenSource(input, dataBytes, true);
  const id = 'db-initial-load-source';
  if (!here.kind) out.push(fail(id, here.reason, 'Set initialLoad.frozenSource as the message says (README: "Which initial load to pick").'));
  else if (!onLambda() && !onAws.kind) {
    out.push(warn(id, `Here (a local run) the copy reads ${here.kind === 'live' ? 'the live source through one snapshot' : `from the ${here.kind}`}; ${here.reason}. Started on AWS it would stop: ${onAws.reason}.`, 'For an AWS run set initialLoad.frozenSource as the message says.'));
  } else {
    const aws = !onLambda() && onAws.kind !== here.kind ? ` On AWS it would read from ${onAws.kind === 'live' ? 'the live source' : `a ${onAws.kind}`}.` : '';
    out.push(pass(id, `The copy reads ${here.kind === 'live' ? 'the live source through one consistent snapshot' : `from the frozen source: ${here.kind}`}: ${here.reason}.${aws}`));
  }

  // Tables without a walk key are copied whole, in one transaction, by one worker invocation.
  const whole: { name: string; bytes: number; why: string }[] = [];
  for (const schema of schemas) {
    for (const t of await describeSchemaTables(source, schema)) {
      if (!t.choice.usable) whole.push({ name: `${schema}.${t.table.name}`, bytes: t.dataBytes, why: t.choice.detail });
    }
  }
  const limitBytes = LIVE_COPY_LIMIT_SECONDS * ESTIMATED_BYTES_PER_SECOND_PER_WORKER;
  const big = whole.filter((t) => t.bytes > limitBytes);
  const wid = 'db-whole-table-copy';
  if (!whole.length) out.push(pass(wid, 'Every table has a primary or unique NOT NULL key: each is copied in ranges that resume where they stopped.'));
  else {
    const list = whole.slice(0, 10).map((t) => `${t.name} (${(t.bytes / 1024 ** 2).toFixed(0)} MiB; ${t.why})`).join(', ');
    const message = `${whole.length} table(s) have no key to copy in ranges and are copied whole in one transaction each: ${list}${whole.length > 10 ? ', ...' : ''}.`;
    const fix = 'Add a primary key (or a unique key whose columns are all NOT NULL) to each, e.g. ALTER TABLE t ADD COLUMN id BIGINT AUTO_INCREMENT PRIMARY KEY, or use initialLoad.method clone/snapshot.';
    if (big.length && onAws.kind) {
      const text = `${message} ${big.length} of them would take more than about ${formatSeconds(LIVE_COPY_LIMIT_SECONDS)} (one chunk worker invocation on AWS) to copy.`;
      out.push(onLambda() ? fail(wid, text, fix) : warn(wid, `${text} A local run has no such limit.`, fix));
    } else out.push(warn(wid, `${message} An interrupted copy starts such a table again (it was never half committed).`, fix));
  }

  if (input.initialLoad.frozenSource.kind === 'named-replica') out.push(await namedReplicaCheck(input, source, readNamedCredentials));
  return out;
}

async function namedReplicaCheck(input: MigrationInput, source: Conn, creds: () => Promise<{ username: string; password: string }>): Promise<CheckOutcome> {
  const f = input.initialLoad.frozenSource;
  const where = `${f.endpoint!.host}:${f.endpoint!.port}`;
  const id = 'db-frozen-replica';
  let replica: Conn | undefined;
  try {
    replica = await openConnection(f.endpoint!, await creds());
    const dialect = await resolveDialect(replica, f.engine);
    const status = await readReplicaStatus(replica, dialect);
    if (!status?.sourceHost) return fail(id, `initialLoad.frozenSource.endpoint ${where} is not a replica (${dialect.statusSql} is empty).`, 'Name a replica of the source, or another initialLoad.frozenSource kind.');
    const [row] = await q<Record<string, unknown>>(replica, dialect.statusSql);
    const replicaOf = row?.Source_Server_Id ?? row?.Master_Server_Id;
    const [src] = await q<{ id: unknown }>(source, 'SELECT @@server_id AS id');
    if (replicaOf !== undefined && replicaOf !== null && replicaOf !== '' && Number(replicaOf) !== Number(src?.id)) {
      return fail(id, `The replica ${where} replicates from server_id ${replicaOf} (${status.sourceHost}:${status.sourcePort}), not from the source (server_id ${src?.id}).`, 'Name a direct replica of the source: its position must be one of the source\'s binlog.');
    }
    if (status.lastSqlErrno || status.lastIoErrno) {
      return fail(id, `The replica ${where} reports a replication error (SQL ${status.lastSqlErrno} ${status.lastSqlError}; IO ${status.lastIoErrno} ${status.lastIoError}).`, 'Repair its replication first: a broken replica is not a consistent point of the source.');
    }
    if (!status.sqlRunning) return warn(id, `The replica ${where} has its SQL thread stopped (not by crossmove): the copy uses it as it stands and leaves it stopped.`, 'Start its SQL thread if it should catch up first; crossmove then stops and restarts it itself.');
    if (status.secondsBehind !== null && status.secondsBehind > REPLICA_LAG_WARN_SECONDS) {
      return warn(id, `The replica ${where} is ${status.secondsBehind} s behind the source: the copy's point is that old, and the target then replays that much more.`, 'Let it catch up first, or make sure the source keeps its binlogs long enough (replication.binlogRetentionHours).');
    }
    return pass(id, `The replica ${where} replicates from the source (lag ${status.secondsBehind ?? '?'} s): crossmove stops its SQL thread for the copy and starts it again afterwards.`);
  } catch (err) {
    return fail(id, `The replica ${where} could not be checked: ${(err as Error).message}.`, 'Check initialLoad.frozenSource.endpoint and adminSecret, and that crossmove reaches it.');
  } finally {
    await closeQuietly(replica);
  }
}

/** The credentials of the named replica (its own secret, else the source's). */
export function namedReplicaCredentials(input: MigrationInput, sourceCredentials: () => Promise<{ username: string; password: string }>) {
  const ref = input.initialLoad.frozenSource.adminSecret;
  return () => (ref ? readCredentials(ref) : sourceCredentials());
}

async function accountQuota(rds: RDSClient, name: string): Promise<{ used: number; max: number } | null> {
  const out = await awsCall('RDS DescribeAccountAttributes', () => rds.send(new DescribeAccountAttributesCommand({})));
  const q = out.AccountQuotas?.find((a) => a.AccountQuotaName === name);
  return q?.Max !== undefined ? { used: Number(q.Used ?? 0), max: Number(q.Max) } : null;
}

/** The AWS half, in the source account: only for the kinds that make something there. */
export async function frozenSourceAwsChecks(input: MigrationInput, accounts: Accounts): Promise<CheckOutcome[]> {
  if (input.initialLoad.method !== 'logical') return [];
  const f = input.initialLoad.frozenSource;
  const wantsReplica = f.kind === 'rds-replica' || (f.kind === 'auto' && !!f.sourceInstanceArn);
  const wantsClone = f.kind === 'source-clone' || (f.kind === 'auto' && !f.sourceInstanceArn && !!input.source.clusterArn);
  if (wantsReplica) return rdsReplicaChecks(input, accounts);
  if (wantsClone) return sourceCloneChecks(input, accounts, f.kind === 'auto');
  return [];
}

async function rdsReplicaChecks(input: MigrationInput, accounts: Accounts): Promise<CheckOutcome[]> {
  const arn = input.initialLoad.frozenSource.sourceInstanceArn!;
  const id = 'frozen-rds-replica';
  const rds = await frozenSourceRdsClient(input, 'rds-replica');
  const source = await findInstance(rds, arn);
  if (!source) return [fail(id, `initialLoad.frozenSource.sourceInstanceArn ${arn} does not exist or is not visible to ${input.source.accessRoleArn ?? 'the pipeline role'}.`, 'Check the ARN and that source-account/role.yaml was deployed with SourceInstanceArn and FrozenSource rds-replica.', 'ResourceNotFoundError')];
  const problems = instanceProblems(source, arn);
  const name = input.names.frozenSourceIdentifier;
  const existing = await findInstance(rds, name);
  if (existing && !madeByMigration(existing, input.migrationId)) problems.push(`a DB instance named ${name} exists and is not this migration's`);
  const quota = await accountQuota(rds, 'DBInstances');
  if (!existing && quota && quota.used >= quota.max) problems.push(`the source account uses ${quota.used} of its ${quota.max} DB instances (quota DBInstances)`);
  if (problems.length) return [fail(id, `No read replica can be made of ${arn}: ${problems.join('; ')}.`, 'Fix what the message names (backups on, a free replica slot and instance quota, a free name), or choose another initialLoad.frozenSource kind.')];
  return [
    pass(
      id,
      existing
        ? `The read replica ${name} of this migration exists in account ${accounts.source ?? '(this account)'}: it is reused.`
        : `A read replica ${name} of ${arn} (${input.initialLoad.frozenSource.instanceClass ?? source.DBInstanceClass}) can be made in account ${accounts.source ?? '(this account)'} (backups kept ${source.BackupRetentionPeriod} day(s), ${source.ReadReplicaDBInstanceIdentifiers?.length ?? 0} of ${MAX_READ_REPLICAS} replicas used). It costs an instance until cleanup deletes it.`,
    ),
  ];
}

function instanceProblems(source: DBInstance, arn: string): string[] {
  const problems: string[] = [];
  if (!source.BackupRetentionPeriod) problems.push('its automatic backups are off (BackupRetentionPeriod 0), and RDS makes read replicas only of instances with backups');
  if (source.ReadReplicaSourceDBInstanceIdentifier) problems.push(`it is itself a read replica of ${source.ReadReplicaSourceDBInstanceIdentifier}`);
  if ((source.ReadReplicaDBInstanceIdentifiers?.length ?? 0) >= MAX_READ_REPLICAS) problems.push(`it already has ${source.ReadReplicaDBInstanceIdentifiers!.length} read replicas (at most ${MAX_READ_REPLICAS})`);
  if (source.DBInstanceStatus && source.DBInstanceStatus !== 'available') problems.push(`it is ${source.DBInstanceStatus}, not available`);
  if (source.Engine && !/mysql|mariadb/.test(source.Engine)) problems.push(`its engine is ${source.Engine}, not MySQL or MariaDB`);
  void arn;
  return problems;
}

async function sourceCloneChecks(input: MigrationInput, accounts: Accounts, onlyIfLarge: boolean): Promise<CheckOutcome[]> {
  const id = 'frozen-source-clone';
  const rds = await frozenSourceRdsClient(input, 'source-clone');
  const name = input.names.frozenSourceIdentifier;
  const existing = await findCluster(rds, name);
  const problems: string[] = [];
  if (existing && !madeByMigration(existing, input.migrationId)) problems.push(`a cluster named ${name} exists and is not this migration's`);
  const quota = existing ? null : await accountQuota(rds, 'DBClusters');
  if (quota && quota.used >= quota.max) problems.push(`the source account uses ${quota.used} of its ${quota.max} DB clusters (quota DBClusters)`);
  const when = onlyIfLarge ? ' if the copy is too long for the live source (initialLoad.frozenSource auto)' : '';
  if (problems.length) return [fail(id, `The source cannot be cloned in its account${when}: ${problems.join('; ')}.`, 'Free the name or the quota, or choose another initialLoad.frozenSource kind.')];
  return [
    pass(
      id,
      existing
        ? `The clone ${name} of this migration exists in account ${accounts.source ?? '(this account)'}: it is reused.`
        : `The source can be cloned copy-on-write in account ${accounts.source ?? '(this account)'} as ${name}${when} (one ${input.initialLoad.frozenSource.instanceClass ?? input.target.instanceClass} instance until cleanup deletes it; storage shared with the source until pages change).`,
    ),
  ];
}
