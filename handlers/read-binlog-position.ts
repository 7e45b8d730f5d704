import { stepHandler } from '../shared/handler.js';
import { readBinlogPositionFromEvents } from '../shared/aws/binlog-events.js';
import type { MigrationState } from '../shared/state.js';

export const handler = stepHandler("Read the clone's binlog position", async (state: MigrationState) => readBinlogPositionFromEvents(state));
