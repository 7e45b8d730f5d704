// A table's deferred secondary keys are started as soon as its last range is copied, while the copy
// goes on with the other tables (as myloader does per table), instead of all after the last row:
// at 10,000,000 rows the one ALTER of the bench's biggest table was 5-7 s at the end with only the
// target's one thread busy. "Finish the copy" still owns the keys: it waits for an ALTER this process
// started (secondary-keys.ts keeps them), sees one another process started (PROCESSLIST), and starts
// any that is missing or failed, so an early start that fails or dies only costs that time again.
import { logger } from '../logger.js';
import type { CursorStore } from '../chunks/cursor-store.js';
import type { TableRef } from '../chunks/keys.js';
import type { Conn } from './connections.js';
import { COPY_JOB, tableKey } from './copy-job.js';
import type { DeferredKeys } from './ddl.js';
import { buildSecondaryKeys } from './secondary-keys.js';

/** Tables whose keys this process already started early (two lanes may finish a table's last two ranges at once). */
const requested = new Set<string>();

export async function startKeysIfTableDone(opts: {
  store: CursorStore;
  migrationId: string;
  /** The plan's start: a copy planned again (the same migration, the target reset) starts its keys early again. */
  planned: string;
  table: TableRef;
  deferred: DeferredKeys[];
  /** A target connection not in a transaction (SHOW INDEX, PROCESSLIST). */
  control: Conn;
  /** A new target connection in the load session's settings, for the ALTER. */
  open: () => Promise<Conn>;
}): Promise<void> {
  const d = opts.deferred.find((x) => x.schema === opts.table.schema && x.table === opts.table.name);
  const id = `${opts.migrationId}/${opts.planned}/${tableKey(opts.table)}`;
  if (!d || requested.has(id)) return;
  if (!(await opts.store.tableDone(COPY_JOB, opts.table))) return;
  if (requested.has(id)) return;
  requested.add(id);
  try {
    // waitMs 0: started, not waited for.
    await buildSecondaryKeys(opts.control, opts.open, opts.migrationId, [d], { parallel: 1, waitMs: 0 });
  } catch (err) {
    logger.warn('the secondary keys of a table copied could not be started early; "Finish the copy" adds them', { table: tableKey(opts.table), error: (err as Error).message });
  }
}
