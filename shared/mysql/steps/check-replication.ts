// "Check replication": one check of the lag loop (writes one heartbeat on the source).
import type { MigrationState, ReplicationCheck } from '../../state.js';
import { checkReplication } from '../check.js';
import { withSides } from './sides.js';

export async function checkReplicationStep(state: MigrationState, opts: { activeWaitMs?: number } = {}): Promise<ReplicationCheck> {
  return withSides(state, { target: true, source: true }, ({ source, target }) =>
    checkReplication(source!.conn, target!.conn, target!.dialect, state.input, {
      previous: state.lag,
      replicationUser: state.replicationUser?.userName,
      activeWaitMs: opts.activeWaitMs,
    }),
  );
}
