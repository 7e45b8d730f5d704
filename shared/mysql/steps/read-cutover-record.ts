// "Read the cutover record on the target" (first state after the input is validated) and "Check how far
// the cutover got" (after "Cut over" failed): has this migration's target become the primary? The
// target's cutover marker rows (switch-log.ts) are the source of truth: a cutover that passed its
// point of no return recorded it there before it forgot the external source. Read-only on both
// servers. A re-run of a migration whose target took over then resumes after the cutover (DNS, reverse
// replication) instead of starting replication into the target again.
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { awsCall, errorName } from '../../aws/call.js';
import { findCluster, findInstance, madeByMigration, sourceRdsClient, targetRdsClient } from '../../aws/rds.js';
import { secretsManagerClient } from '../../aws/secrets-manager.js';
import { targetClientConfig } from '../../aws/source-account.js';
import { sourceAdminCredentials, targetAdminCredentials } from '../../db-credentials.js';
import type { Endpoint } from '../../endpoints.js';
import { FellBackToSourceError, SecretError } from '../../errors.js';
import { logStep } from '../../logger.js';
import { redact, registerSecretValue } from '../../redact.js';
import type { MigrationState, PriorCutover, TargetAdminReset } from '../../state.js';
import { closeQuietly, openConnection } from '../connection.js';
import { readCutoverMarker, readFallbackMarker } from '../switch-log.js';

type Found = { endpoint: Endpoint } | { none: string };

/** Where the target is, or why there is none yet (no cluster of this migration, no instance in it). */
async function findTarget(state: MigrationState): Promise<Found> {
  const { input } = state;
  if (input.target.endpoint) return { endpoint: { host: input.target.endpoint.host, port: input.target.endpoint.port } };
  if (state.clone?.endpoint) return { endpoint: { host: state.clone.endpoint, port: state.clone.port ?? 3306 } };
  if (input.initialLoad.method === 'logical') return { none: 'no target.endpoint to look at' };
  const id = input.names.targetClusterIdentifier;
  const cluster = await findCluster(targetRdsClient(input), id);
  if (!cluster) return { none: `no target cluster ${id} yet` };
  // Another migration's (or nobody's) cluster under this name: preflight refuses it; it is not ours to read.
  if (!madeByMigration(cluster, input.migrationId)) return { none: `cluster ${id} was not made by this migration` };
  if (!cluster.DBClusterMembers?.length) return { none: `cluster ${id} has no instance yet` };
  if (!cluster.Endpoint) return { none: `cluster ${id} has no endpoint yet (status ${cluster.Status})` };
  return { endpoint: { host: cluster.Endpoint, port: cluster.Port ?? 3306 } };
}

/** A writer that never finished being created cannot have taken over: there is nothing to read. */
async function writerNeverAvailable(state: MigrationState): Promise<boolean> {
  if (state.input.target.endpoint || state.input.initialLoad.method === 'logical') return false;
  const writer = await findInstance(targetRdsClient(state.input), state.input.names.targetWriterIdentifier);
  return !writer || writer.DBInstanceStatus === 'creating';
}

/** The source cluster's endpoint, when nothing else gives it (a resumed run skips preflight, which reads it). */
async function sourceClusterEndpoint(state: MigrationState): Promise<Endpoint | null> {
  const { input } = state;
  if (input.source.endpoint || state.preflight?.sourceEndpoint || !input.source.clusterArn) return null;
  const cluster = await findCluster(await sourceRdsClient(input), input.source.clusterArn);
  return cluster?.Endpoint ? { host: cluster.Endpoint, port: cluster.Port ?? 3306 } : null;
}

/**
 * The clone and snapshot paths' target admin: the secret "Reset the master password" made for the new
 * cluster's master user (shared/aws/master-password.ts), found by its derived name. A re-run starts
 * without $.targetAdmin, and a resumed run skips that step while every later one needs it. null: the
 * password was never reset, so nothing after it (replication, a cutover) can have run. undefined: not
 * these paths (a logical copy's target admin is target.adminSecret).
 */
async function crossmoveTargetAdmin(state: MigrationState): Promise<TargetAdminReset | null | undefined> {
  const { input } = state;
  if (input.initialLoad.method === 'logical') return undefined;
  if (state.targetAdmin?.secretRef) return state.targetAdmin;
  const name = input.names.targetAdminSecretName;
  const sm = secretsManagerClient(targetClientConfig(input));
  let out;
  try {
    out = await awsCall(`Secrets Manager GetSecretValue ${name}`, () => sm.send(new GetSecretValueCommand({ SecretId: name })));
  } catch (err) {
    if (errorName(err) === 'ResourceNotFoundException') return null;
    if (errorName(err) === 'InvalidRequestException' && /marked (for )?delet/i.test((err as Error).message)) {
      // Cleanup scheduled it for deletion: the master password of what may be the primary is only in it.
      throw new SecretError(
        `Secret ${name} (the master user of cluster ${input.names.targetClusterIdentifier}) is scheduled for deletion by an earlier cleanup: restore it (aws secretsmanager restore-secret --secret-id ${name}) and start the migration again; nothing was changed`,
      );
    }
    throw err;
  }
  let username: unknown;
  try {
    const value = JSON.parse(out.SecretString ?? '') as { username?: unknown; password?: unknown };
    if (typeof value.password === 'string') registerSecretValue(value.password);
    username = value.username;
  } catch {
    username = undefined;
  }
  if (typeof username !== 'string') throw new SecretError(`Secret ${name} must hold string fields "username" and "password" (crossmove wrote it so: was it changed by hand?)`);
  // An earlier run made the secret (cleanup tells crossmove's from another by its description).
  return { done: true, attempts: 0, status: 'in-effect', secretRef: out.ARN!, username, clusterIdentifier: input.names.targetClusterIdentifier, createdSecret: false };
}

/**
 * A target that took over may have handed the writes back since: a fallback records itself on the
 * source (switch-log.ts). Resuming DNS and reverse replication then would point the name at the
 * blocked target and replicate its old binlog into the new primary, so the run is refused before any
 * change. A source out of reach cannot be asked; the resume goes on (its DNS step cannot lose data: a
 * target blocked by a fallback refuses writes, and reverse replication needs the source).
 */
async function refuseIfFellBack(state: MigrationState, sourceAt: Endpoint | null, targetAt: Endpoint): Promise<void> {
  const { input } = state;
  const at = input.source.endpoint ?? sourceAt;
  if (!at) return;
  let conn;
  try {
    conn = await openConnection({ host: at.host, port: at.port }, await sourceAdminCredentials(state));
  } catch (err) {
    logStep('read the cutover record: the source cannot be reached to look for a fallback record; resuming', { error: redact((err as Error).message) });
    return;
  }
  let phase;
  try {
    phase = (await readFallbackMarker(conn, input.names.heartbeatSchema, input.migrationId))?.phase ?? null;
  } finally {
    await closeQuietly(conn);
  }
  if (phase === null || phase === 'rolled-back') return;
  const servers = `the source (${at.host}:${at.port}), the target (${targetAt.host}:${targetAt.port})`;
  if (phase === 'in-progress') {
    throw new FellBackToSourceError(
      `Migration ${input.migrationId} has a fallback that stopped midway (its record on the source says in-progress; ${servers}). Nothing was changed. Run \`crossmove fallback ${input.migrationId}\` again: it undoes or finishes it. Then start the migration again if the target is still to be the primary.`,
    );
  }
  throw new FellBackToSourceError(
    `Migration ${input.migrationId} fell back after its cutover (its fallback record on the source says ${phase}): ${servers}. The source is the primary again and nothing replicates into the target any more. Nothing was changed: resuming the steps after the cutover would point the applications at the target and replicate its old binlog into the source. ` +
      (phase === 'past-point-of-no-return' ? `Finish the fallback first (\`crossmove fallback ${input.migrationId}\` again). ` : '') +
      'To move to the target again, start a new migration (a new migrationId) into a new or emptied target.',
  );
}

export async function readCutoverRecordStep(state: MigrationState): Promise<PriorCutover> {
  const { input } = state;
  const checkedAt = new Date().toISOString();
  const nothing = (detail: string): PriorCutover => {
    logStep('read the cutover record on the target: nothing to read', { why: detail });
    return { targetIsPrimary: false, phase: null, cutover: null, targetEndpoint: null, sourceEndpoint: null, targetAdmin: null, detail, checkedAt };
  };
  const found = await findTarget(state);
  if ('none' in found) return nothing(found.none);
  const targetAdmin = await crossmoveTargetAdmin(state);
  if (targetAdmin === null) return nothing(`secret ${input.names.targetAdminSecretName} does not exist: the new cluster's master password was never reset, so nothing after it ran`);
  logStep('read the cutover record on the target', { host: found.endpoint.host, port: found.endpoint.port, schema: input.names.heartbeatSchema });
  let conn;
  // Which input field to fix when this fails: the secret that would not load, or the endpoint.
  let failing = 'target.endpoint';
  try {
    const credentials = await targetAdminCredentials({ ...state, ...(targetAdmin ? { targetAdmin } : {}) }).catch((err: Error) => {
      failing = targetAdmin ? input.names.targetAdminSecretName : 'target.adminSecret';
      throw err;
    });
    conn = await openConnection(found.endpoint, credentials);
  } catch (err) {
    if (await writerNeverAvailable(state).catch(() => false)) return nothing('the target writer was never available');
    // Without the record nobody can tell whether the target took over: refuse to go on (nothing changed).
    // Same name (a TransientError is retried), the reason said in full.
    const e = err as Error;
    const out = new Error(
      redact(
        `Cannot tell whether migration ${input.migrationId} already cut over (its record is on the target ${found.endpoint.host}:${found.endpoint.port}; check ${failing}): ${e.message}. Nothing was changed; make the target reachable and start the migration again.`,
      ),
      { cause: err },
    );
    out.name = e.name;
    throw out;
  }
  try {
    const marker = await readCutoverMarker(conn, input.names.heartbeatSchema, input.migrationId);
    const targetIsPrimary = marker?.phase === 'past-point-of-no-return' || marker?.phase === 'done';
    const detail = !marker
      ? 'no cutover recorded'
      : targetIsPrimary
        ? `the cutover passed its point of no return (${marker.phase}): the target is the primary`
        : `the last cutover attempt is ${marker.phase}: the source is still the primary`;
    logStep('read the cutover record on the target: done', { phase: marker?.phase ?? null, targetIsPrimary });
    const sourceAt = targetIsPrimary ? await sourceClusterEndpoint(state) : null;
    if (targetIsPrimary) await refuseIfFellBack(state, state.preflight?.sourceEndpoint ?? sourceAt, found.endpoint);
    return {
      targetIsPrimary,
      phase: marker?.phase ?? null,
      cutover: targetIsPrimary ? marker!.result : null,
      targetEndpoint: found.endpoint,
      sourceEndpoint: sourceAt,
      targetAdmin: targetAdmin ?? null,
      detail,
      checkedAt,
    };
  } finally {
    await closeQuietly(conn);
  }
}
