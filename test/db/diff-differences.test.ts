// The comparison on a real replicated MariaDB pair finds each planted difference and names it by
// primary key: a changed row (and the column), a row missing on the target, an extra row on the
// target, NULL vs '', a trailing space in a VARCHAR, the last digits of a DOUBLE and of a FLOAT, rows
// of text and composite keys; a table without a key is reported as not verifiable by rows (and its
// whole-table count/hash still differs); a table missing on the target is named. A CHAR's trailing
// spaces are padding, not data: both sides hold the same value, and no difference is reported.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDiffLocally } from '../../shared/verify/steps.js';
import { formatDiffSummary, type DiffSummary } from '../../shared/verify/diff-report.js';
import { diffPair, MixedWriters, type DiffPair } from './diff-fixtures.js';

const SETUP = [
  `CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, note VARCHAR(20) NULL, price DOUBLE NOT NULL, weight FLOAT NOT NULL, code CHAR(6) NOT NULL) ENGINE=InnoDB`,
  `INSERT INTO items SELECT seq, CONCAT('item ', seq), IF(seq MOD 5 = 0, NULL, 'n'), seq / 10e0, seq / 3e0, LPAD(seq MOD 1000, 4, '0') FROM seq_1_to_30000`,
  `CREATE TABLE users (email VARCHAR(80) COLLATE utf8mb4_general_ci NOT NULL PRIMARY KEY, visits INT NOT NULL) ENGINE=InnoDB`,
  `INSERT INTO users SELECT CONCAT('user', seq, '@example.com'), seq FROM seq_1_to_2000`,
  `CREATE TABLE order_lines (order_id INT NOT NULL, line SMALLINT NOT NULL, qty INT NOT NULL, PRIMARY KEY (order_id, line)) ENGINE=InnoDB`,
  `INSERT INTO order_lines SELECT seq DIV 4, seq MOD 4, seq FROM seq_1_to_8000`,
  `CREATE TABLE log (at INT, msg VARCHAR(20)) ENGINE=InnoDB`,
  `INSERT INTO log SELECT seq, 'x' FROM seq_1_to_500`,
  `CREATE TABLE only_here (id INT PRIMARY KEY) ENGINE=InnoDB`,
  `CREATE TABLE busy (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB`,
  `INSERT INTO busy SELECT seq, seq FROM seq_1_to_1000`,
];

let pair: DiffPair;
let summary: DiffSummary;
let writers: MixedWriters;

beforeAll(async () => {
  pair = await diffPair(63, SETUP, { state: { verify: { parallelism: 3, reportRows: 20 } } });
  await pair.plant('source', ['UPDATE items SET weight = 1.0000001 WHERE id = 60']);
  await pair.plant('target', ['UPDATE items SET weight = 1.0000001 WHERE id = 60']);
  await pair.plant('target', [
    "UPDATE items SET name = 'changed' WHERE id = 10",
    'DELETE FROM items WHERE id = 20',
    "INSERT INTO items VALUES (99999, 'extra', 'n', 1, 1, 'x')",
    "UPDATE items SET note = '' WHERE id = 30", // NULL on the source (30 mod 5 = 0)
    "UPDATE items SET name = 'item 40 ' WHERE id = 40", // a trailing space in a VARCHAR
    'UPDATE items SET price = 0.30000000000000004 WHERE id = 3', // 3 / 10e0 = 0.3 on the source
    'UPDATE items SET weight = 1.0000002 WHERE id = 60', // FLOAT: 1.00000024 here, 1.00000012 on the source
    "UPDATE items SET code = CONCAT(code, '  ') WHERE id = 70", // CHAR pads: the same value
    "UPDATE users SET visits = visits + 1 WHERE email = 'user77@example.com'",
    "DELETE FROM order_lines WHERE order_id = 500 AND line = 2",
    "INSERT INTO log VALUES (1, 'planted')",
    'DROP TABLE only_here',
  ]);
  // The application keeps writing to another table meanwhile: no difference may come from it.
  writers = new MixedWriters(pair.source, (r, w, n) => (r() < 0.5 ? `UPDATE busy SET v = v + 1 WHERE id = ${1 + Math.floor(r() * 1000)}` : `INSERT INTO busy VALUES (${100_000 + w * 100_000 + n}, 1)`)).start();
  ({ summary } = await runDiffLocally(pair.state));
  await writers.stop();
}, 240_000);

afterAll(async () => {
  await writers?.stop();
  await pair?.stop();
});

const table = (name: string) => summary.tables.find((t) => t.table === `app.${name}`);

describe('planted differences', () => {
  it('ends with the verdict "differences", exact positions, every range done', () => {
    expect(summary).toMatchObject({ done: true, verdict: 'differences', mode: 'exact' });
    expect(summary.rowsCompared).toBeGreaterThanOrEqual(30_000 + 2000 + 7999);
    expect(writers.writes).toBeGreaterThan(50);
    expect(writers.errors).toEqual([]);
  });

  it('names every planted row of items by primary key, with the column that differs', () => {
    const items = table('items')!;
    expect(items).toMatchObject({ missing: 1, extra: 1, different: 5 });
    const rows = Object.fromEntries(items.rows.map((r) => [r.key, r]));
    expect(rows['id=20']).toMatchObject({ kind: 'missing' });
    expect(rows['id=99999']).toMatchObject({ kind: 'extra' });
    expect(rows['id=10']).toMatchObject({ kind: 'different', columns: ['name'] });
    expect(rows['id=30']).toMatchObject({ kind: 'different', columns: ['note'] });
    expect(rows['id=40']).toMatchObject({ kind: 'different', columns: ['name'] });
    expect(rows['id=3']).toMatchObject({ kind: 'different', columns: ['price'] });
    expect(rows['id=60']).toMatchObject({ kind: 'different', columns: ['weight'] });
    expect(rows['id=70']).toBeUndefined(); // CHAR(6) 'x' and 'x  ' are the same stored value
  });

  it('names rows of a text key and of a composite key', () => {
    expect(table('users')).toMatchObject({ different: 1, rows: [{ kind: 'different', key: 'email="user77@example.com"', columns: ['visits'] }] });
    expect(table('order_lines')).toMatchObject({ missing: 1, rows: [{ kind: 'missing', key: '(order_id, line)=(500, 2)' }] });
  });

  it('reports the table without a key as not verifiable by rows, and still finds that it differs as a whole', () => {
    expect(summary.notVerifiable).toEqual([
      expect.objectContaining({ table: 'app.log', reason: 'no-key', sourceRows: 500, targetRows: 501, same: false }),
    ]);
    expect(table('log')).toMatchObject({ rows: [] });
  });

  it('names a table missing on the target; the table the application writes to is clean', () => {
    expect(table('only_here')).toMatchObject({ detail: expect.stringContaining('missing on the target') });
    expect(table('busy')).toBeUndefined();
    expect(summary.differences).toMatchObject({ tables: 5, missing: 2, extra: 1, different: 6 });
  });

  it('says it in words: verdict, counts, keys, columns', () => {
    const text = formatDiffSummary(summary);
    expect(text).toContain('Comparison found differences');
    expect(text).toContain('missing   id=20');
    expect(text).toContain('different id=10 (columns name)');
    expect(text).toContain('not verifiable by rows: app.log');
  });
});
