// "Start replication on the target" from the initial load's coordinates ($.binlogPosition.position).
import { ResourceNotFoundError } from '../../errors.js';
import { sourceEndpointForTarget } from '../../endpoints.js';
import { logStep } from '../../logger.js';
import type { MigrationState, ReplicationStartResult } from '../../state.js';
import { ensureHeartbeatTable } from '../heartbeat.js';
import { configureAndStart, setReadOnly } from '../replication.js';
import { withSides } from './sides.js';

export async function startReplicationStep(state: MigrationState): Promise<ReplicationStartResult> {
  const from = state.binlogPosition?.position ?? state.logicalCopy?.position;
  if (!from) throw new ResourceNotFoundError('No binlog coordinates to start from ($.binlogPosition.position): the initial load must record them first');
  if (!state.replicationUser) throw new ResourceNotFoundError('No replication user ($.replicationUser): run "Create the replication user" first');
  const at = sourceEndpointForTarget(state);
  return withSides(state, { target: true }, async ({ target }) => {
    const { conn, dialect } = target!;
    // A target that got no heartbeat table from its initial load gets it here; the source only
    // UPDATEs the row, so the replicated beats apply either way.
    await ensureHeartbeatTable(conn, state.input.names.heartbeatSchema);
    logStep('keep applications off the target until cutover (read_only)', { engine: dialect.engine });
    await setReadOnly(conn, dialect, true);
    logStep('configure the external source and start replication', { host: at.host, port: at.port, from, engine: dialect.engine, ssl: state.input.replication.ssl });
    await configureAndStart(conn, dialect, { host: at.host, port: at.port, userSecretRef: state.replicationUser!.secretRef, from, ssl: state.input.replication.ssl });
    return { sourceHost: at.host, sourcePort: at.port, startedAt: state.replication?.startedAt ?? new Date().toISOString(), from, targetEngine: dialect.engine };
  });
}
