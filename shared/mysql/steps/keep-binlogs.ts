// "Keep binlogs long enough": binlogs on, retention raised to input.replication.binlogRetentionHours,
// and crossmove's own tables (heartbeat, cutover log) created now, before any initial load, so every
// target starts with them.
import { logStep } from '../../logger.js';
import type { BinlogSettings, MigrationState } from '../../state.js';
import { keepBinlogs } from '../binlog-settings.js';
import { ensureCutoverTable } from '../switch-log.js';
import { ensureHeartbeatTable } from '../heartbeat.js';
import { withSides } from './sides.js';

export async function keepBinlogsStep(state: MigrationState): Promise<BinlogSettings> {
  return withSides(state, { source: true }, async ({ source }) => {
    const { conn, dialect } = source!;
    logStep('check binlogs and raise retention', { engine: dialect.engine, hours: state.input.replication.binlogRetentionHours });
    const settings = await keepBinlogs(conn, dialect, state.input.replication.binlogRetentionHours);
    logStep('create the heartbeat table on the source', { schema: state.input.names.heartbeatSchema });
    await ensureHeartbeatTable(conn, state.input.names.heartbeatSchema);
    // The cutover's marker table too, so the rows it writes after the switch replicate back cleanly.
    await ensureCutoverTable(conn, state.input.names.heartbeatSchema);
    return settings;
  });
}
