// "Reset the master password" and "Check the master password" (clone and snapshot paths, target
// account). A clone or restored cluster holds the source's users, its master user included, with the
// source's password. Rather than asking the operator for a target secret that must hold the SOURCE
// master's credentials, crossmove sets a new master password on the new cluster (ModifyDBCluster
// MasterUserPassword) and keeps it, with the master user name, in a secret of its own,
// crossmove/<migrationId>/target-admin; from then on that secret is the target admin of every step
// (shared/db-credentials.ts). Only its ARN travels.
//
// Why not ManageMasterUserPassword (an RDS-managed secret): the Aurora User Guide ("Password management
// with Amazon Aurora and AWS Secrets Manager", Limitations) lists binary log external replication among
// the features it is not supported for, and the target is exactly that until the cutover. ModifyDBCluster
// works on any cluster the account owns, a cross-account clone included (the clone is the target
// account's cluster, CrossAccountClone true). Changing the master password through the RDS API is not
// replicated between source and target in either direction ("Synchronizing passwords between
// replication source and target"), so the source keeps its own.
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ResourceConflictError, ResourceFailedError, ResourceNotFoundError, TransientError } from '../errors.js';
import { logStep } from '../logger.js';
import { generatePassword } from '../mysql/replication-user.js';
import { ensureGeneratedCredentials } from '../secrets.js';
import type { MigrationState, TargetAdminReset } from '../state.js';
import { errorName } from './call.js';
import { findCluster, madeByMigration, targetRdsClient } from './rds.js';
import { setMasterUserPassword } from './rds-changes.js';
import { secretsManagerClient } from './secrets-manager.js';
import { targetClientConfig } from './source-account.js';

type ResetState = Pick<MigrationState, 'input'> & Partial<Pick<MigrationState, 'clone' | 'targetAdmin'>>;

/** Cluster states in which the password will not take effect without a human. */
const FAILED_CLUSTER_STATES = new Set(['failed', 'inaccessible-encryption-credentials', 'incompatible-parameters', 'incompatible-restore']);

export function targetAdminSecretDescription(migrationId: string, clusterIdentifier: string): string {
  return `crossmove ${migrationId}: master user of cluster ${clusterIdentifier} (password set by crossmove)`;
}

function targetSecretsManager(state: ResetState): SecretsManagerClient {
  return secretsManagerClient(targetClientConfig(state.input));
}

async function ownCluster(state: ResetState) {
  const id = state.clone?.clusterIdentifier ?? state.input.names.targetClusterIdentifier;
  const cluster = await findCluster(targetRdsClient(state.input), id);
  if (!cluster) throw new ResourceNotFoundError(`Target cluster ${id} does not exist: it must be created ("Clone the cluster" / "Restore the snapshot") before its master password is reset`);
  // Never touch a cluster crossmove did not make (the identifier could be reused by someone else).
  if (!madeByMigration(cluster, state.input.migrationId)) {
    throw new ResourceConflictError(`Target cluster ${id} has no tag crossmove:migrationId=${state.input.migrationId}: crossmove does not change the master password of a cluster it did not make`);
  }
  return cluster;
}

export async function resetMasterPassword(state: ResetState): Promise<TargetAdminReset> {
  const { input } = state;
  const cluster = await ownCluster(state);
  const id = cluster.DBClusterIdentifier!;
  const username = cluster.MasterUsername;
  if (!username) throw new ResourceNotFoundError(`Target cluster ${id} reports no master user name (DescribeDBClusters MasterUsername)`);
  const name = input.names.targetAdminSecretName;
  const secret = await ensureGeneratedCredentials(name, () => ({ username, password: generatePassword() }), {
    secretsManager: targetSecretsManager(state),
    description: targetAdminSecretDescription(input.migrationId, id),
  });
  if (secret.value.username !== username) {
    throw new ResourceConflictError(`Secret ${name} holds user ${secret.value.username}, but the master user of cluster ${id} is ${username}; delete the secret and re-run (crossmove sets a new password)`);
  }
  logStep('set a new master password on the target cluster', { clusterIdentifier: id, username, secretRef: secret.ref, createdSecret: secret.created });
  try {
    // Sent again on a retry with the same stored password: setting it twice is harmless.
    await setMasterUserPassword(targetRdsClient(input), id, secret.value.password, Boolean(cluster.MasterUserSecret?.SecretArn));
  } catch (err) {
    // Still modifying (e.g. just created, or another modification): the state machine retries.
    if (errorName(err) === 'InvalidDBClusterStateFault') throw new TransientError(`Target cluster ${id} cannot be modified right now (${cluster.Status}); the step is retried`, { cause: err });
    throw err;
  }
  // Never done here: "Check the master password" confirms RDS applied it, after a Wait.
  return { done: false, attempts: 0, status: 'resetting-master-credentials', secretRef: secret.ref, username, clusterIdentifier: id, createdSecret: secret.created, requestedAt: new Date().toISOString() };
}

export async function checkMasterPassword(state: ResetState): Promise<TargetAdminReset> {
  const previous = state.targetAdmin;
  if (!previous?.secretRef) throw new ResourceNotFoundError('No master password was set: "Reset the master password" must run before "Check the master password"');
  const cluster = await ownCluster(state);
  const status = cluster.Status ?? 'unknown';
  if (FAILED_CLUSTER_STATES.has(status)) throw new ResourceFailedError(`Target cluster ${cluster.DBClusterIdentifier} is ${status}; see its RDS events, fix it and re-run`);
  // Between the request and its completion RDS shows the change in PendingModifiedValues (API reference).
  const pending = Boolean(cluster.PendingModifiedValues?.MasterUserPassword);
  const done = status === 'available' && !pending;
  return { ...previous, attempts: previous.attempts + 1, done, status: done ? 'in-effect' : pending ? 'pending' : status };
}
