// initialLoad.frozenSource kind rds-replica: an RDS MySQL/MariaDB source (sourceInstanceArn) gets a read
// replica in its own account (crossmove-<migrationId>-frozen, tagged with the migration). Once it is
// available its replication is stopped with mysql.rds_stop_replication: from then on it holds exactly
// the source's data at the executed source position it reports (Relay_Source_Log_File /
// Exec_Source_Log_Pos, or the Master names), however long the copy reads it, and the target replicates
// from the SOURCE from there. Cleanup deletes it (it costs an instance while it exists; RDS ends a
// replication that stays stopped for 30 days, which does not matter to a replica no one resumes).
// Read replicas need the source's automatic backups (BackupRetentionPeriod > 0).
import { FrozenSourceError, ResourceConflictError, ResourceNotFoundError } from '../../errors.js';
import { logStep } from '../../logger.js';
import { findInstance, madeByMigration } from '../../aws/rds.js';
import { frozenSourceRdsClient } from '../../aws/frozen-source-access.js';
import { createReadReplica } from '../../aws/frozen-source-changes.js';
import { sourceAdminCredentials } from '../../db-credentials.js';
import { sourceEndpoint } from '../../endpoints.js';
import { closeQuietly, openConnection, q, type Conn } from '../../mysql/connection.js';
import { detectEngine, dialectFor } from '../../mysql/dialect.js';
import { readReplicaStatus } from '../../mysql/status.js';
import type { FrozenSourceState } from '../../state.js';
import type { DBInstance } from '@aws-sdk/client-rds';
import type { CopyState } from '../steps/sides.js';
import { assertPositionOnSource } from './position.js';
import { readFingerprint } from './fingerprint.js';

function poll(instance: DBInstance, attempts: number, created: boolean | undefined): FrozenSourceState {
  return {
    done: false,
    attempts,
    status: instance.DBInstanceStatus ?? 'unknown',
    kind: 'rds-replica',
    identifier: instance.DBInstanceIdentifier!,
    ...(created !== undefined ? { created } : {}),
    ...(instance.InstanceCreateTime ? { createdAt: new Date(instance.InstanceCreateTime).toISOString() } : {}),
    endpoint: instance.Endpoint?.Address ? { host: instance.Endpoint.Address, port: instance.Endpoint.Port ?? 3306 } : null,
    position: null,
    fingerprint: null,
  };
}

// A refusal of the source role names the redeployment that fixes it (FrozenSourceAccessDeniedError).
const client = (state: CopyState) => frozenSourceRdsClient(state.input, 'rds-replica');

export async function prepareRdsReplica(state: CopyState): Promise<FrozenSourceState> {
  const { input } = state;
  const arn = input.initialLoad.frozenSource.sourceInstanceArn!;
  const id = input.names.frozenSourceIdentifier;
  const rds = await client(state);
  const existing = await findInstance(rds, id);
  if (existing) {
    if (!madeByMigration(existing, input.migrationId)) {
      throw new ResourceConflictError(`DB instance ${id} already exists in the source account and was not made by migration ${input.migrationId} (no tag crossmove:migrationId=${input.migrationId}): delete or rename it`);
    }
    return poll(existing, 1, false);
  }
  const source = await findInstance(rds, arn);
  if (!source) throw new ResourceNotFoundError(`initialLoad.frozenSource.sourceInstanceArn ${arn} was not found (is the source-account role allowed to describe it?)`);
  if (!source.BackupRetentionPeriod) {
    throw new FrozenSourceError(`initialLoad.frozenSource kind rds-replica: ${arn} has automatic backups off (BackupRetentionPeriod 0), and RDS makes read replicas only of instances with backups. Set a backup retention period of at least 1 day on it, or use another frozenSource kind.`);
  }
  if (source.ReadReplicaSourceDBInstanceIdentifier) {
    throw new FrozenSourceError(`initialLoad.frozenSource.sourceInstanceArn ${arn} is itself a read replica of ${source.ReadReplicaSourceDBInstanceIdentifier}: name the instance the application writes to.`);
  }
  logStep('create the read replica', { identifier: id, source: arn });
  const created = await createReadReplica(rds, {
    identifier: id,
    migrationId: input.migrationId,
    source: { ...source, DBInstanceArn: source.DBInstanceArn ?? arn },
    instanceClass: input.initialLoad.frozenSource.instanceClass,
  });
  return poll(created, 1, true);
}

export async function checkRdsReplica(state: CopyState & { frozenSource: FrozenSourceState }, attempts: number): Promise<FrozenSourceState> {
  const id = state.frozenSource.identifier ?? state.input.names.frozenSourceIdentifier;
  const instance = await findInstance(await client(state), id);
  if (!instance) throw new ResourceNotFoundError(`The read replica ${id} is gone from the source account (deleted while the migration prepared it): start the migration again to make a new one`);
  const polled = poll(instance, attempts, state.frozenSource.created);
  if (instance.DBInstanceStatus !== 'available' || !polled.endpoint) return polled;

  let replica: Conn | undefined;
  let source: Conn | undefined;
  try {
    const creds = await sourceAdminCredentials(state);
    replica = await openConnection(polled.endpoint, creds);
    const dialect = dialectFor(await detectEngine(replica));
    let status = await readReplicaStatus(replica, dialect);
    if (!status?.sourceHost) throw new FrozenSourceError(`The read replica ${id} reports no replication (${dialect.statusSql} is empty): it was promoted. Delete it (crossmove cleanup) and start the migration again.`);
    if (status.sqlRunning || status.ioRunning) {
      logStep('stop the read replica', { identifier: id });
      await q(replica, 'CALL mysql.rds_stop_replication');
      status = await readReplicaStatus(replica, dialect);
    }
    if (!status?.execFile || status.sqlRunning) return { ...polled, status: 'stopping replication' };
    const position = { file: status.execFile, position: status.execPosition! };
    source = await openConnection(sourceEndpoint(state), creds);
    await assertPositionOnSource(source, position, `The read replica ${id}`);
    return { ...polled, done: true, status: 'stopped', position, fingerprint: await readFingerprint(replica, dialect) };
  } finally {
    await closeQuietly(replica);
    await closeQuietly(source);
  }
}
