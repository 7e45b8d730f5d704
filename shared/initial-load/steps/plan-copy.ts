// "Plan the copy": the copy job in the target's cursor store, from the frozen source (copy-plan.ts).
import type { CopyPlanResult, FrozenSourceState } from '../../state.js';
import { planCopy } from '../copy-plan.js';
import { copyProgressOf } from '../progress.js';
import { frozenSide, sourceSide, targetSide, type CopyState } from './sides.js';

export async function planCopyStep(state: CopyState & { frozenSource: FrozenSourceState }): Promise<CopyPlanResult> {
  const load = state.input.initialLoad;
  const f = state.frozenSource;
  const progress = copyProgressOf(state.input.migrationId);
  progress.setPhase('schema');
  const plan = await planCopy({
    migrationId: state.input.migrationId,
    from: await frozenSide(state),
    source: await sourceSide(state),
    target: await targetSide(state),
    frozen: { kind: f.kind, position: f.position, fingerprint: f.fingerprint },
    schemas: load.schemas,
    parallelism: load.parallelism,
    chunkBytes: load.chunkBytes,
    maxRows: load.chunkRows,
  });
  progress.setStore({ tablesDone: 0, tablesTotal: plan.tables, chunksDone: 0, chunksTotal: plan.ranges, rows: 0, bytes: 0, estimatedRows: plan.estimatedRows });
  return plan;
}
