// What each step of a migration would create or change, for `crossmove plan` (a dry run in the spirit of
// Vitess's --dry_run and gh-ost's --noop). Pure: it reads only the validated input, the accounts and the
// engines, and renders the SQL the dialects would really send by running them against a recording
// connection that executes nothing. Passwords are masked.
import type { Engine } from '../input/schema.js';
import type { MigrationInput } from '../input/validate.js';
import { dialectFor, type Dialect } from '../mysql/dialect.js';
import { startApplier, startApplierUntil, stopApplier } from '../mysql/applier.js';
import { MASK, recordSql } from './record-sql.js';
import { planCutover, planFallback } from './switch-steps.js';
import type { RecordedStep } from './switch-recorder.js';
import type { Accounts } from '../state.js';
import { STORE_SCHEMA } from '../chunks/cursor-store.js';

export interface PlannedStep {
  /** The state's name in statemachine/migration.asl.yaml. */
  state: string;
  /** Where it acts: source, target, both, aws (which account), or none. */
  where: string;
  /** What it would create or change; empty = read-only. */
  changes: string[];
  /** A step after which the cutover can no longer be undone by the tool alone. */
  pointOfNoReturn?: boolean;
  /** The switch's own steps, recorded from the procedure it runs (Cut over, Fall back to the source). */
  switch?: RecordedStep[];
}

function retentionSql(dialect: Dialect, hours: number): string {
  return dialect.managed
    ? `CALL mysql.rds_set_configuration('binlog retention hours', ${hours})`
    : `SET GLOBAL binlog_expire_logs_seconds = ${hours * 3600}`;
}

export interface PlanContext {
  input: MigrationInput;
  accounts: Accounts;
  sourceEngine: Engine;
  targetEngine: Engine;
}

export async function planSteps(ctx: PlanContext): Promise<PlannedStep[]> {
  const { input, accounts } = ctx;
  const n = input.names;
  const source = dialectFor(ctx.sourceEngine);
  const target = dialectFor(ctx.targetEngine);
  const user = input.replication.userName;
  const fakePassword = 'plan-password-never-used';
  const method = input.initialLoad.method;
  const steps: PlannedStep[] = [
    { state: 'Validate the input', where: 'none', changes: [] },
    // Read-only: a target whose cutover passed its point of no return resumes after it instead.
    { state: 'Read the cutover record on the target', where: 'target', changes: [] },
    { state: 'Run preflight checks', where: 'both', changes: [] },
    {
      state: 'Keep binlogs long enough',
      where: 'source',
      changes: [
        `${retentionSql(source, input.replication.binlogRetentionHours)} (only if lower now; the old value is kept for cleanup)`,
        `CREATE SCHEMA IF NOT EXISTS ${n.heartbeatSchema} with tables heartbeat and cutover_log`,
      ],
    },
  ];

  // The new cluster's parameter group must have binlogs on (shared/aws/target-parameter-group.ts).
  const parameterGroup = input.target.dbClusterParameterGroupName
    ? `with cluster parameter group ${input.target.dbClusterParameterGroupName} (its binlog_format must be on)`
    : `CreateDBClusterParameterGroup ${n.targetClusterParameterGroupName}: a copy of the source cluster's group (binlogs on), for the new cluster`;
  // The new cluster inherits the source's master user and password (shared/aws/master-password.ts).
  const resetMasterPasswordStep: PlannedStep = {
    state: 'Reset the master password',
    where: 'aws: target account',
    changes: [
      `secret ${n.targetAdminSecretName}: the new cluster's master user (the source's) with a generated password; only its ARN travels`,
      `ModifyDBCluster ${n.targetClusterIdentifier} MasterUserPassword (the source keeps its own), then wait until it is in effect; that secret is the target admin from here on${input.target.adminSecret ? ` (target.adminSecret ${input.target.adminSecret} is not used)` : ''}`,
    ],
  };
  if (method === 'clone') {
    if (!accounts.sameAccount) {
      steps.push(
        { state: 'Share the cluster', where: `aws: source account ${accounts.source}`, changes: [`RAM resource share ${n.resourceShareName}: ${input.source.clusterArn} -> account ${accounts.target}`] },
        { state: 'Accept the share', where: `aws: target account ${accounts.target}`, changes: ['accept the pending RAM invitation for that share'] },
        { state: 'Let the target use the KMS key', where: `aws: source account ${accounts.source}`, changes: [`key policy statements ${n.kmsStatementSid} (use of the key) and ${n.kmsStatementSid}Grants (grants for AWS resources only) letting account ${accounts.target} use the source cluster's key`] },
      );
    }
    steps.push(
      {
        state: 'Clone the cluster',
        where: `aws: target account ${accounts.target ?? '(this account)'}`,
        changes: [parameterGroup, `RestoreDBClusterToPointInTime copy-on-write ${input.source.clusterArn} -> cluster ${n.targetClusterIdentifier}${input.target.kmsKeyId ? ` (key ${input.target.kmsKeyId})` : ''}`],
      },
      { state: 'Create the writer', where: 'aws: target account', changes: [`CreateDBInstance ${n.targetWriterIdentifier} (${input.target.instanceClass}) in ${n.targetClusterIdentifier}, not publicly accessible`] },
      resetMasterPasswordStep,
      { state: "Read the clone's binlog position", where: 'aws: target account', changes: [] },
    );
  } else if (method === 'snapshot') {
    steps.push(
      {
        state: 'Snapshot the source',
        where: `aws: source account ${accounts.source}`,
        changes: [
          `CreateDBClusterSnapshot ${n.sourceSnapshotIdentifier}`,
          // The shareable copy, when the key or the region needs one (snapshot-plan.ts): decided from the input here.
          ...(input.source.snapshotKmsKeyId && !accounts.sameAccount
            ? [`CopyDBClusterSnapshot -> ${n.sourceShareableSnapshotIdentifier} in ${accounts.targetRegion ?? 'the target region'}, re-encrypted with ${input.source.snapshotKmsKeyId} (when the cluster key is aws/rds or the target is in another region)`]
            : []),
        ],
      },
      ...(accounts.sameAccount ? [] : [{ state: 'Share the snapshot', where: `aws: source account ${accounts.source}`, changes: [`snapshot attribute restore -> account ${accounts.target}`] }]),
      { state: 'Copy the snapshot', where: 'aws: target account', changes: [`CopyDBClusterSnapshot -> ${n.targetSnapshotIdentifier}${input.target.kmsKeyId ? ` re-encrypted with ${input.target.kmsKeyId}` : ''}`] },
      { state: 'Restore the snapshot', where: 'aws: target account', changes: [parameterGroup, `RestoreDBClusterFromSnapshot -> cluster ${n.targetClusterIdentifier}`] },
      { state: 'Create the writer', where: 'aws: target account', changes: [`CreateDBInstance ${n.targetWriterIdentifier} (${input.target.instanceClass})`] },
      resetMasterPasswordStep,
      { state: "Read the clone's binlog position", where: 'aws: target account', changes: [] },
    );
  } else {
    steps.push(...logicalCopySteps(input, accounts));
  }

  const tls = input.replication.ssl ? 'REQUIRE SSL' : 'REQUIRE NONE';
  steps.push(
    {
      state: 'Create the replication user',
      where: 'source',
      changes: [
        `CREATE USER IF NOT EXISTS '${user}'@'%' IDENTIFIED BY '${MASK}' ${tls}`,
        `GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '${user}'@'%'`,
        `secret ${n.replicationSecretName} (generated password; only its reference travels)`,
      ],
    },
    {
      state: 'Start replication on the target',
      where: 'target',
      changes: await recordSql(async (conn) => {
        await target.setReadOnly(conn, true); // applications kept off the replica until the cutover
        await target.configureSource(conn, { host: input.replication.sourceHostForTarget ?? input.source.endpoint?.host ?? '<source cluster endpoint>', port: input.source.endpoint?.port ?? 3306, user, password: fakePassword, file: '<binlog file>', position: 0, ssl: input.replication.ssl, sslMaterialImported: input.replication.sslMaterialImported });
        await target.start(conn);
      }, [fakePassword]),
    },
    { state: 'Watch replication for one window', where: 'both', changes: [`heartbeat row in ${n.heartbeatSchema}.heartbeat on the source each check (until lag < ${input.replication.maxLagSeconds} s for ${input.replication.requiredConsecutiveChecks} checks)`] },
    {
      state: 'Compare source and target for one window',
      where: 'both',
      changes:
        input.cutover.verify === 'none'
          ? ['skipped: cutover.verify none']
          : [
              `compare every table${input.verify.tables?.length ? ` of ${input.verify.tables.join(', ')}` : ''} in key-ordered chunks at one binlog position on both sides, ${input.verify.parallelism} workers, while replicating`,
              `target: bookkeeping rows in crossmove_load (jobs, ranges, verdicts); replication paused for milliseconds per sync point (${await applierSql(target)})`,
              `source: consistent reads only${source.engine === 'mariadb' ? ' (no lock: the snapshot reports its binlog position)' : '; LOCK TABLES <table> READ for the milliseconds it takes to read the position and open the read'}`,
              'a difference stops at the approval gate (never approved automatically)',
            ],
    },
    {
      state: 'Ask for cutover approval',
      where: 'none',
      changes: input.cutover.approval === 'manual' ? [`waits up to ${input.cutover.approvalTimeoutHours} h for approve/reject`] : ['skipped: cutover.approval auto'],
    },
    await planCutover(input, source, target),
    {
      state: 'Switch DNS',
      where: 'aws: target account',
      changes: input.cutover.dns ? [`UPSERT CNAME ${input.cutover.dns.recordName} -> target endpoint (TTL ${input.cutover.dns.ttl})`] : ['skipped: no cutover.dns'],
    },
    {
      state: 'Start reverse replication',
      where: 'source',
      changes: input.cutover.reverseReplication
        ? await recordSql(async (conn) => {
            await source.configureSource(conn, { host: '<target endpoint>', port: input.target.endpoint?.port ?? 3306, user: `${user.slice(0, 30)}_r`, password: fakePassword, file: '<target file at switch>', position: 0, ssl: input.replication.ssl, sslMaterialImported: input.replication.sslMaterialImported });
            await source.start(conn);
          }, [fakePassword])
        : ['skipped: cutover.reverseReplication false'],
    },
    { state: 'Report success', where: 'none', changes: input.notify ? [`publish to ${input.notify.topicArn}`] : [] },
  );
  return steps;
}

/** The operator's fallback after the run, as the switch would run it backwards. */
export async function planFallbackStep(ctx: PlanContext): Promise<PlannedStep> {
  return planFallback(ctx.input, dialectFor(ctx.sourceEngine), dialectFor(ctx.targetEngine));
}

/** The applier statements a sync point sends, as the dialect would. */
async function applierSql(dialect: Dialect): Promise<string> {
  const sent = await recordSql(async (conn) => {
    await stopApplier(conn, dialect);
    await startApplierUntil(conn, dialect, { file: '<file>', position: 0 });
    await startApplier(conn, dialect);
  }, []);
  return sent.join('; ');
}

/** The logical path's steps: what each frozen source kind makes, then the copy into the target's cursor store. */
function logicalCopySteps(input: MigrationInput, accounts: Accounts): PlannedStep[] {
  const load = input.initialLoad;
  const n = input.names;
  const f = load.frozenSource;
  const schemas = load.schemas?.join(', ') ?? 'every non-system schema';
  const sourceAccount = `aws: source account ${accounts.source ?? '(this account)'}`;
  const frozen: Record<string, PlannedStep> = {
    auto: {
      state: 'Prepare the frozen source',
      where: 'source',
      changes: ['chosen at run time from the size of the data (preflight check db-initial-load-source says which): the live source with one snapshot when the copy fits (always locally), else a source-clone (Aurora) or an rds-replica (with sourceInstanceArn)'],
    },
    live: { state: 'Prepare the frozen source', where: 'none', changes: ['none: the copy reads the live source through one consistent snapshot (FLUSH TABLES WITH READ LOCK, else LOCK TABLES ... READ on the copied tables, held for milliseconds)'] },
    'named-replica': {
      state: 'Prepare the frozen source',
      where: `replica ${f.endpoint?.host}:${f.endpoint?.port}`,
      changes: ['STOP SLAVE SQL_THREAD (STOP REPLICA SQL_THREAD on MySQL 8; CALL mysql.rds_stop_replication on Aurora); started again by "Finish the copy" (or cleanup)', `record of the pause in ${STORE_SCHEMA}.frozen_sources on the target`],
    },
    'rds-replica': {
      state: 'Prepare the frozen source',
      where: sourceAccount,
      changes: [`CreateDBInstanceReadReplica ${n.frozenSourceIdentifier} of ${f.sourceInstanceArn} (${f.instanceClass ?? 'the source instance class'}, its subnet and security groups), then CALL mysql.rds_stop_replication on it once available; deleted by cleanup`],
    },
    'source-clone': {
      state: 'Prepare the frozen source',
      where: sourceAccount,
      changes: [`RestoreDBClusterToPointInTime copy-on-write ${input.source.clusterArn} -> ${n.frozenSourceIdentifier} (the source's parameter group, subnets, security groups and key) and CreateDBInstance ${n.frozenSourceInstanceIdentifier} (${f.instanceClass ?? input.target.instanceClass}); its position from the "Binlog position from crash recovery" event; deleted by cleanup`],
    },
  };
  return [
    frozen[f.kind]!,
    {
      state: 'Plan the copy',
      where: 'target',
      changes: [`create the tables, views and routines of ${schemas} (plain secondary keys later); the copy job's key ranges in ${STORE_SCHEMA}.chunk_jobs / chunk_ranges`],
    },
    {
      state: 'Copy the data for one window',
      where: 'target',
      changes: [`${load.parallelism} chunk worker(s) at once (child executions of crossmove-copy), each sub-chunk of about ${Math.round(load.chunkBytes / 1024 / 1024)} MiB (at most ${load.chunkRows} rows) loaded and recorded done in one transaction`],
    },
    { state: 'Finish the copy', where: 'target', changes: ['create the triggers and events (DISABLE ON SLAVE), then add the secondary keys (ALTER TABLE ... ADD KEY, polled while they build)'] },
  ];
}
