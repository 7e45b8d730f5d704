// "Copy the data consistently": the logical initial load (initialLoad.method logical). Returns the
// copy's figures and the binlog position replication starts from (the ASL copies it to $.binlogPosition).
import { stepHandler } from '../shared/handler.js';
import { logger, logStep } from '../shared/logger.js';
import { sourceEndpoint, targetEndpoint } from '../shared/endpoints.js';
import { sourceAdminCredentials, targetAdminCredentials } from '../shared/db-credentials.js';
import { copyProgressEvents, logicalCopy } from '../shared/initial-load/index.js';
import type { LogicalCopyResult, MigrationState } from '../shared/state.js';

export const handler = stepHandler('Copy the data consistently', async (state: MigrationState): Promise<LogicalCopyResult> => {
  const source = sourceEndpoint(state);
  const target = targetEndpoint(state);
  const load = state.input.initialLoad;
  logStep('Copy the data consistently', { source, target, schemas: load.schemas ?? 'all', parallelism: load.parallelism, chunkRows: load.chunkRows });
  let lastLog = 0;
  const outcome = await logicalCopy({
    migrationId: state.input.migrationId,
    source: { endpoint: source, credentials: await sourceAdminCredentials(state) },
    target: { endpoint: target, credentials: await targetAdminCredentials(state) },
    schemas: load.schemas,
    parallelism: load.parallelism,
    chunkRows: load.chunkRows,
    onProgress: (p) => {
      copyProgressEvents.emit('progress', p);
      if (Date.now() - lastLog > 30_000 || p.phase === 'done') {
        lastLog = Date.now();
        logger.info('copy progress', { ...p });
      }
    },
  });
  logger.info('copy finished', { reused: outcome.reused, format: outcome.format, lockMs: outcome.lockMs, snapshotMethod: outcome.snapshotMethod, binlogSkippedOnTarget: outcome.binlogSkippedOnTarget });
  const { position, tables, rows, bytes, ms } = outcome;
  return { position, tables, rows, bytes, ms };
});
