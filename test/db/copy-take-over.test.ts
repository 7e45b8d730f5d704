// The target sessions of the copy and the guard run when a range is taken over, on a real MariaDB:
// - a range taken over whose rest holds nothing (the normal case: the last owner's open sub-chunk
//   rolled back) takes no lock that holds up the worker loading the range next to it;
// - rows past the cursor, if ever there, are still removed before the range is copied again;
// - the load sessions keep unique_checks on and (MariaDB) skip CHECK constraints.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMariaDb, type MariaDbServer } from '../../local/mariadb.js';
import type { RangeClaim } from '../../shared/chunks/cursor-store.js';
import { describeSchemaTables } from '../../shared/chunks/keys.js';
import { closeQuietly, openConnection, type Conn } from '../../shared/initial-load/connections.js';
import { clearRest } from '../../shared/initial-load/take-over.js';
import { targetSession } from '../../shared/initial-load/target-session.js';

let server: MariaDbServer;
const conns: Conn[] = [];
const open = async () => {
  const c = await openConnection({ host: server.host, port: server.port }, server.admin, 'target');
  conns.push(c);
  return c;
};

beforeAll(async () => {
  server = await startMariaDb({ serverId: 31 });
  const c = await server.connect();
  await c.query('CREATE DATABASE shop');
  // Range 1 is [lo, 11) (its worker is still loading it), range 2 [11, 21) was taken over at its
  // start, range 3 [21, ...) is done.
  await c.query('CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=InnoDB');
  await c.query("INSERT INTO shop.t VALUES (1, 'a'), (2, 'b'), (21, 'c'), (22, 'd')");
  await c.end();
});
afterAll(async () => {
  await closeQuietly(conns);
  await server?.stop();
});

async function claimOfRange2(c: Conn): Promise<RangeClaim> {
  const [facts] = await describeSchemaTables(c, 'shop', ['t']);
  if (!facts?.choice.usable) throw new Error('no walk key');
  return {
    job: 'copy', seq: 2, owner: 'w2', attempts: 2, cursor: ['11'], table: { schema: 'shop', name: 't' }, key: facts.choice.key,
    range: { lo: ['11'], hi: ['21'] }, estimatedRows: 10, estimatedBytes: 1000,
  };
}

describe('a range taken over', () => {
  it('with nothing past its cursor: its check holds up no insert of the neighbouring range', async () => {
    const taker = await open();
    const neighbour = await open();
    const claim = await claimOfRange2(taker);
    await taker.query('START TRANSACTION');
    try {
      expect(await clearRest(taker, claim, ['11'])).toBe(0);
      // Range 1's worker loads its last rows into the gap below range 2 while the take-over's transaction is open.
      await neighbour.query('SET SESSION innodb_lock_wait_timeout = 1');
      await neighbour.query('START TRANSACTION');
      await neighbour.query("INSERT INTO shop.t VALUES (9, 'x'), (10, 'y')");
      await neighbour.query('COMMIT');
      await taker.query('COMMIT');
    } finally {
      await Promise.all([taker.query('ROLLBACK'), neighbour.query('ROLLBACK')]);
    }
  });

  it('with rows past its cursor: they are removed, and nothing outside the range', async () => {
    const c = await open();
    await c.query("INSERT INTO shop.t VALUES (15, 'stray'), (16, 'stray')");
    const claim = await claimOfRange2(c);
    await c.query('START TRANSACTION');
    expect(await clearRest(c, claim, ['11'])).toBe(2);
    await c.query('COMMIT');
    const [rows] = await c.query<any[]>('SELECT id FROM shop.t ORDER BY id');
    expect(rows.map((r) => r.id).filter((id) => id < 9 || id > 10)).toEqual([1, 2, 21, 22]);
  });
});

describe('the load sessions', () => {
  it('keep unique_checks on, foreign key checks off, and skip CHECK constraints on MariaDB', async () => {
    const c = await open();
    await targetSession(c);
    const [[s]] = await c.query<any[]>('SELECT @@SESSION.unique_checks AS u, @@SESSION.check_constraint_checks AS k, @@SESSION.foreign_key_checks AS f');
    expect({ u: Number(s.u), k: Number(s.k), f: Number(s.f) }).toEqual({ u: 1, k: 0, f: 0 });
  });
});
