// "Create the writer" and "Check the writer": the clone has no instance; one writer is added, named
// from the migrationId and reused on retry.
import type { DBInstance } from '@aws-sdk/client-rds';
import { ResourceConflictError, ResourceFailedError, ResourceNotFoundError } from '../errors.js';
import { logStep } from '../logger.js';
import type { InstancePoll, MigrationState } from '../state.js';
import { errorName } from './call.js';
import { findInstance, targetRdsClient } from './rds.js';
import { createWriterInstance } from './rds-changes.js';

const FAILED_INSTANCE_STATES = new Set([
  'failed',
  'inaccessible-encryption-credentials',
  'inaccessible-encryption-credentials-recoverable',
  'incompatible-network',
  'incompatible-option-group',
  'incompatible-parameters',
  'incompatible-restore',
  'restore-error',
  'storage-full',
]);

function instancePoll(instance: DBInstance, attempts: number, created?: boolean): InstancePoll {
  return {
    done: instance.DBInstanceStatus === 'available',
    attempts,
    status: instance.DBInstanceStatus ?? 'unknown',
    instanceIdentifier: instance.DBInstanceIdentifier!,
    ...(created === undefined ? {} : { created }),
    ...(instance.InstanceCreateTime ? { createdAt: new Date(instance.InstanceCreateTime).toISOString() } : {}),
  };
}

export async function ensureWriter(state: Pick<MigrationState, 'input'>): Promise<InstancePoll> {
  const { input } = state;
  const id = input.names.targetWriterIdentifier;
  const clusterId = input.names.targetClusterIdentifier;
  const rds = targetRdsClient(input);
  const reuse = (instance: DBInstance) => {
    if (instance.DBClusterIdentifier !== clusterId) {
      throw new ResourceConflictError(
        `Instance identifier ${id} is already used by an instance of cluster ${instance.DBClusterIdentifier ?? '(none)'}, not ${clusterId}; delete it or choose another target.clusterIdentifier`,
      );
    }
    return instancePoll(instance, 0, false);
  };
  const existing = await findInstance(rds, id);
  if (existing) return reuse(existing);
  logStep('create the writer instance', { instanceIdentifier: id, clusterIdentifier: clusterId, instanceClass: input.target.instanceClass });
  try {
    const created = await createWriterInstance(rds, { instanceIdentifier: id, clusterIdentifier: clusterId, instanceClass: input.target.instanceClass, migrationId: input.migrationId });
    return instancePoll(created, 0, true);
  } catch (err) {
    if (errorName(err) === 'DBInstanceAlreadyExistsFault') {
      const again = await findInstance(rds, id);
      if (again) return reuse(again);
    }
    if (errorName(err) === 'DBClusterNotFoundFault') throw new ResourceNotFoundError(`Target cluster ${clusterId} does not exist: clone it before creating the writer`);
    throw err;
  }
}

export async function checkWriter(state: Pick<MigrationState, 'input' | 'writer'>): Promise<InstancePoll> {
  const id = state.input.names.targetWriterIdentifier;
  const attempts = (state.writer?.attempts ?? 0) + 1;
  const instance = await findInstance(targetRdsClient(state.input), id);
  if (!instance) throw new ResourceNotFoundError(`Writer instance ${id} does not exist: it was deleted while being created`);
  if (FAILED_INSTANCE_STATES.has(instance.DBInstanceStatus ?? '')) {
    throw new ResourceFailedError(`Writer instance ${id} is ${instance.DBInstanceStatus}; see its RDS events, delete it and re-run`);
  }
  return { ...instancePoll(instance, attempts), ...(state.writer?.created === undefined ? {} : { created: state.writer.created }) };
}
