// "Start reverse replication": the old source follows the new primary from targetPositionAtSwitch.
import { ResourceNotFoundError } from '../../errors.js';
import { targetEndpoint } from '../../endpoints.js';
import { logStep } from '../../logger.js';
import type { MigrationState, ReverseReplicationResult } from '../../state.js';
import { startReverse } from '../reverse.js';
import { withSides } from './sides.js';
import { checkSslSupport } from './start-replication.js';

export async function startReverseReplicationStep(state: MigrationState): Promise<ReverseReplicationResult> {
  if (!state.input.cutover.reverseReplication) return { started: false, from: null, skipped: true };
  const from = state.cutover?.targetPositionAtSwitch;
  if (!from) throw new ResourceNotFoundError('No target position from the cutover ($.cutover.targetPositionAtSwitch): the cutover must finish first');
  // The source reaches the target at the target's endpoint (cluster endpoint for AWS targets).
  const at = targetEndpoint(state);
  return withSides(state, { target: true, source: true }, async ({ source, target }) => {
    // The old source is the replica now: its engine decides whether encrypted replication works.
    checkSslSupport(state, source!.dialect);
    logStep('start reverse replication (source follows the target)', { host: at.host, port: at.port, from });
    const r = await startReverse(source!.conn, target!.conn, source!.dialect, target!.dialect, state.input, at, from);
    return { started: r.started, from: r.from, skipped: false, userSecretRef: r.userSecretRef };
  });
}
