// The load generator's repoint: a connection still being opened to the old server when the application
// moves must not be kept (it would write to the old server under the new server's name).
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { MariaDbServer } from '../../local/mariadb.js';
import { prepareLoadSchema, WriteLoad } from '../support/write-load.js';
import { scalar, startServers, until } from './fixtures.js';

let a: MariaDbServer;
let b: MariaDbServer;

beforeAll(async () => {
  [a, b] = await startServers(2, 97);
  for (const s of [a, b]) {
    const c = await s.connect();
    await prepareLoadSchema(c);
    await c.end();
  }
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

it('writes labelled with the new server land on it, even when repointed while connecting', async () => {
  const load = new WriteLoad({ host: a.host, port: a.port, name: 'a' }, { ratePerSec: 200 }).start();
  // The first connection to `a` is being opened right now.
  load.repoint({ host: b.host, port: b.port, name: 'b' });
  await until(async () => load.ackedIds('b').length > 20, 20_000);
  await load.stop();
  expect(Number(await scalar(a, 'SELECT COUNT(*) FROM app.writes'))).toBe(0);
  expect(Number(await scalar(b, 'SELECT COUNT(*) FROM app.writes'))).toBe(load.ackedIds('b').length);
});
