// A cutover where 5,000 application users exist on the source only (as on Aurora MySQL 3, whose
// replication does not carry CREATE USER/GRANT): the result must stay far below Step Functions' 256 KB
// payload limit (an oversized result past the point of no return would fail "Cut over" and skip DNS and
// reverse replication) and fit the marker row, with exact counts and the whole list in the log.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { MariaDbServer } from '../../local/mariadb.js';
import { handler as cutOver } from '../../handlers/cut-over.js';
import type { CutoverResult, MigrationState } from '../../shared/state.js';
import type { WriteLoad } from '../support/write-load.js';
import { invoke, prepareApp, replicateUnderLoad, scalar, startServers, stateFor, useLocalSecrets } from './fixtures.js';

const USERS = 5000;
let source: MariaDbServer;
let target: MariaDbServer;
let state: MigrationState;
let load: WriteLoad;
const logged: string[] = [];

beforeAll(async () => {
  useLocalSecrets();
  for (const method of ['log', 'info', 'warn', 'error'] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      logged.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
      if (method === 'error') original(...args);
    };
  }
  [source, target] = await startServers(2, 61);
  // The cutover compares users inside its critical section: 5,000 x SHOW GRANTS on both sides takes
  // seconds on a loaded machine, so the budget is generous here.
  state = stateFor(source, target, { migrationId: 'grants-5000', cutover: { catchUpTimeoutSeconds: 120 } });
  await prepareApp(source, target);
  // Made the fast way (rows into the privilege tables, without binlog): CREATE USER x 5000 takes ~40 s.
  const c = await source.connect();
  try {
    await c.query('SET SESSION sql_log_bin = 0');
    const ids = Array.from({ length: USERS }, (_, i) => i);
    for (let i = 0; i < USERS; i += 1000) {
      const chunk = ids.slice(i, i + 1000);
      await c.query(`INSERT INTO mysql.global_priv (Host, User, Priv) VALUES ${chunk.map(() => "('%', ?, '{}')").join(', ')}`, chunk.map((n) => `app_user_${n}`));
      await c.query(
        `INSERT INTO mysql.db (Host, Db, User, Select_priv, Insert_priv) VALUES ${chunk.map(() => "('%', 'app', ?, 'Y', 'Y')").join(', ')}`,
        chunk.map((n) => `app_user_${n}`),
      );
    }
    await c.query('FLUSH PRIVILEGES');
  } finally {
    await c.end();
  }
  ({ state, load } = await replicateUnderLoad(state, source, target, { ratePerSec: 50, ackedBefore: 10 }));
}, 300_000);

afterAll(async () => {
  await load?.stop();
  await Promise.all([source?.stop(), target?.stop()]);
});

it('a cutover with 5,000 users missing on the target keeps its result far below 256 KB, with exact counts and the whole list logged', async () => {
  const result = await invoke<CutoverResult>(cutOver, state);
  await load.stop();
  expect(result).toMatchObject({ ok: true, rolledBack: false });
  expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(0);

  // 5,000 missing users, each lacking its USAGE line and its grant on app.*.
  expect(result.grantDifferenceCounts).toMatchObject({ missingUsers: USERS, missingGrants: 2 * USERS, total: 3 * USERS, shown: 50 });
  expect(result.grantDifferences).toHaveLength(51);
  expect(result.grantDifferences.at(-1)).toContain(`and ${3 * USERS - 50} more`);
  const bytes = Buffer.byteLength(JSON.stringify(result));
  expect(bytes).toBeLessThan(32 * 1024); // Step Functions: 256 KB per payload; the marker's TEXT column: 64 KB

  // A second invocation returns the same (recorded) result: it fitted the marker row.
  expect(await invoke<CutoverResult>(cutOver, state)).toEqual(result);

  // The whole list is in the log, in parts each far below CloudWatch Logs' 256 KB per event.
  const parts = logged.filter((l) => l.includes('cutover: grant differences (part '));
  expect(parts.length).toBe(Math.ceil((3 * USERS) / 200));
  for (const p of parts) expect(Buffer.byteLength(p)).toBeLessThan(128 * 1024);
  const all = parts.join('\n');
  for (const n of [0, 2500, USERS - 1]) expect(all).toContain(`'app_user_${n}'@'%'`);
}, 300_000);
