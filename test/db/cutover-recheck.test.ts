// The cutover's own data check (cutover.verify diff) on a real replicated MariaDB pair under writes:
// the rows the gate comparison left unsettled (still changing while it ran, as in settled mode) are
// re-read by key inside the write block; a row that differs then rolls the cutover back; more
// unsettled rows than verify.maxRecheckInBlock refuse the cutover before the block (the store keeps
// only that many, so the others could not be re-checked). Unsettled rows are recorded in the gate
// comparison's store as the comparison records them (kind 'unsettled', key and position).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MariaDbServer } from '../../local/mariadb.js';
import { cutOverStep } from '../../shared/mysql/steps/cut-over.js';
import type { MigrationState } from '../../shared/state.js';
import { runDiffLocally } from '../../shared/verify/steps.js';
import type { WriteLoad } from '../support/write-load.js';
import { prepareApp, replicateUnderLoad, scalar, startServers, stateFor, until, useLocalSecrets } from './fixtures.js';

let source: MariaDbServer;
let target: MariaDbServer;
let state: MigrationState;
let load: WriteLoad;
let job: string;

async function onTarget(sql: string[]): Promise<void> {
  const c = await target.connect();
  try {
    await c.query('SET SESSION sql_log_bin = 0');
    for (const s of sql) await c.query(s);
  } finally {
    await c.end();
  }
}

/** Records rows of app.accounts as left unsettled by the gate comparison (what a settled read does). */
async function markUnsettled(ids: number[]): Promise<void> {
  const rows = ids.map((id) => {
    const key = JSON.stringify([String(id)]);
    return `('db-test', '${job}', 'app', 'accounts', 'unsettled', '${createHash('sha1').update(key).digest('hex')}', '${key}', NULL, 'mysql-bin.000001:4')`;
  });
  await onTarget([
    `DELETE FROM crossmove_load.diff_rows WHERE job = '${job}' AND kind = 'unsettled'`,
    `INSERT INTO crossmove_load.diff_rows (migration_id, job, schema_name, table_name, kind, key_sha, key_json, columns_json, position) VALUES ${rows.join(', ')}`,
    `UPDATE crossmove_load.diff_tables SET unsettled = ${ids.length} WHERE job = '${job}' AND table_name = 'accounts'`,
  ]);
}

beforeAll(async () => {
  useLocalSecrets();
  [source, target] = await startServers(2, 61);
  state = stateFor(source, target);
  await prepareApp(source, target, [
    'CREATE TABLE app.accounts (id INT PRIMARY KEY, balance DECIMAL(12,2) NOT NULL, note VARCHAR(40))',
    "INSERT INTO app.accounts SELECT seq, seq * 1.5, CONCAT('account ', seq) FROM app.seq_1_to_200",
  ]);
  ({ state, load } = await replicateUnderLoad(state, source, target, { ratePerSec: 100, ackedBefore: 20 }));
  const { summary } = await runDiffLocally(state);
  expect(summary).toMatchObject({ done: true, verdict: 'clean' });
  job = summary.job;
  state = { ...state, diff: summary };
}, 180_000);

afterAll(async () => {
  await load?.stop();
  await Promise.all([source?.stop(), target?.stop()]);
});

describe('cutover.verify diff inside the write block', () => {
  it('more unsettled rows than verify.maxRecheckInBlock: refused before the block, nothing changed', async () => {
    await markUnsettled([5, 6, 7]);
    const limited = { ...state, input: { ...state.input, verify: { ...state.input.verify, maxRecheckInBlock: 2 } } };
    await expect(cutOverStep(limited)).rejects.toMatchObject({ name: 'CutoverNotReadyError', message: expect.stringContaining('3 rows were still changing while the data was compared, more than the write block re-checks (verify.maxRecheckInBlock 2)') });
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(0);
    expect(Number(await scalar(target, 'SELECT @@global.read_only'))).toBe(1);
  });

  it('an unsettled row that differs once writes are blocked: rolled back, naming the row by key', async () => {
    await markUnsettled([5, 6, 7]);
    await onTarget(["UPDATE app.accounts SET note = 'changed on the target' WHERE id = 6"]);
    await expect(cutOverStep(state)).rejects.toMatchObject({ message: expect.stringContaining('app.accounts id=6') });
    // Rolled back: the source takes writes again, the target replicates again.
    expect(Number(await scalar(source, 'SELECT @@global.read_only'))).toBe(0);
    await until(async () => (await scalar(target, "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'SLAVE_RUNNING'")) === 'ON', 20_000);
    await onTarget(["UPDATE app.accounts SET note = 'account 6' WHERE id = 6"]);
  });

  it('unsettled rows equal on both sides: the cutover goes through', async () => {
    await markUnsettled([5, 6, 7]);
    const result = await cutOverStep(state);
    expect(result).toMatchObject({ ok: true, rolledBack: false, checksumsMatch: true });
    await load.stop();
  });
});
