// A range taken over (a worker slot retried, or a lease that ran out): the sub-chunk its last owner
// had open rolled back with it, so nothing past the cursor can have been committed; this is the guard
// that makes sure, run inside the first sub-chunk's transaction of the new owner.
// It looks first with a plain consistent read, which takes no locks: only when a row is there does it
// DELETE. A DELETE of the (normally empty) rest of the range takes next-key locks up to the first row
// past it, i.e. on the gaps where the workers of the neighbouring ranges are inserting: with many
// ranges copied at once that made their LOAD DATA wait on this transaction, and deadlock with it.
import { logger } from '../logger.js';
import type { RangeClaim } from '../chunks/cursor-store.js';
import type { KeyTuple } from '../chunks/key-values.js';
import { rangeWhere } from '../chunks/range-sql.js';
import { q, type Conn } from './connections.js';
import { tableKey } from './copy-job.js';

/** Removes the rows of the claim's range from `from` on (the whole table for a range without a key). */
export async function clearRest(tx: Conn, claim: RangeClaim, from: KeyTuple | null): Promise<number> {
  const t = `${q(claim.table.schema)}.${q(claim.table.name)}`;
  const where = claim.key ? ` WHERE ${rangeWhere(claim.key, { lo: from, hi: claim.range.hi })}` : '';
  const [found] = await tx.query<any[]>(`SELECT 1 FROM ${t}${where} LIMIT 1`);
  if (!found.length) return 0;
  const [res] = await tx.query<any>(`DELETE FROM ${t}${where}`);
  if (res.affectedRows) logger.warn('rows past the cursor of a range taken over were removed before it was copied again', { table: tableKey(claim.table), seq: claim.seq, rows: res.affectedRows });
  return Number(res.affectedRows ?? 0);
}
