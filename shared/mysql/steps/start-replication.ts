// "Start replication on the target" from the initial load's coordinates ($.binlogPosition.position).
import { ReplicationSslUnsupportedError, ResourceNotFoundError, TargetIsPrimaryError } from '../../errors.js';
import { sourceEndpointForTarget, targetEndpoint } from '../../endpoints.js';
import type { Conn } from '../connection.js';
import { readCutoverMarker } from '../switch-log.js';
import { logStep } from '../../logger.js';
import type { MigrationState, ReplicationStartResult } from '../../state.js';
import { ensureHeartbeatTable } from '../heartbeat.js';
import { configureAndStart, setReadOnly } from '../replication.js';
import type { Dialect } from '../dialect.js';
import { withSides } from './sides.js';

/**
 * Refuses encrypted replication (replication.ssl) into a replica whose engine has no way to do it
 * (Aurora MySQL 3 before 3.06 without imported client material), before anything is configured.
 * Every other engine encrypts (Dialect.replicationSsl says how); none verifies the source certificate.
 */
export function checkSslSupport(state: MigrationState, dialect: Dialect): void {
  if (!state.input.replication.ssl) return;
  const support = dialect.replicationSsl({ materialImported: state.input.replication.sslMaterialImported });
  if (!support.possible) throw new ReplicationSslUnsupportedError(`replication.ssl is true but on this ${dialect.engine} replica ${support.how}: nothing was changed. ${support.fix ?? ''}`.trim());
}

/**
 * A target whose cutover passed the point of no return takes the application's writes: replicating the
 * source's old binlog into it again would apply old changes over new ones (and stop on error 1062).
 * Checked on the target's own record, whatever path led here.
 */
async function refuseIfTargetIsPrimary(state: MigrationState, conn: Conn): Promise<void> {
  const marker = await readCutoverMarker(conn, state.input.names.heartbeatSchema, state.input.migrationId);
  if (marker?.phase !== 'past-point-of-no-return' && marker?.phase !== 'done') return;
  const at = targetEndpoint(state);
  throw new TargetIsPrimaryError(
    `Refused to start replication into the target ${at.host}:${at.port}: migration ${state.input.migrationId} already cut over (its record on the target says ${marker.phase}), so the target is the primary and takes the application's writes. ` +
      'Nothing was changed. Start the migration again with the same input: it resumes the steps after the cutover. To migrate again from the start, use a new migrationId and an empty target.',
  );
}

export async function startReplicationStep(state: MigrationState): Promise<ReplicationStartResult> {
  const from = state.binlogPosition?.position ?? state.logicalCopy?.position;
  if (!from) throw new ResourceNotFoundError('No binlog coordinates to start from ($.binlogPosition.position): the initial load must record them first');
  if (!state.replicationUser) throw new ResourceNotFoundError('No replication user ($.replicationUser): run "Create the replication user" first');
  const at = sourceEndpointForTarget(state);
  return withSides(state, { target: true }, async ({ target }) => {
    const { conn, dialect } = target!;
    await refuseIfTargetIsPrimary(state, conn);
    checkSslSupport(state, dialect);
    // A target that got no heartbeat table from its initial load gets it here; the source only
    // UPDATEs the row, so the replicated beats apply either way.
    await ensureHeartbeatTable(conn, state.input.names.heartbeatSchema);
    logStep('keep applications off the target until cutover (read_only)', { engine: dialect.engine });
    if (!(await setReadOnly(conn, dialect, true))) {
      logStep('the target stays writable until cutover: this engine offers no read_only through SQL', { engine: dialect.engine });
    }
    logStep('configure the external source and start replication', { host: at.host, port: at.port, from, engine: dialect.engine, ssl: state.input.replication.ssl });
    await configureAndStart(conn, dialect, {
      host: at.host,
      port: at.port,
      userSecretRef: state.replicationUser!.secretRef,
      from,
      ssl: state.input.replication.ssl,
      sslMaterialImported: state.input.replication.sslMaterialImported,
    });
    return { sourceHost: at.host, sourcePort: at.port, startedAt: state.replication?.startedAt ?? new Date().toISOString(), from, targetEngine: dialect.engine };
  });
}
