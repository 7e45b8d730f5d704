// `crossmove verify <migrationId> --local <input> [--json] [--tables ...]` as a user runs it (the real
// command in a child process) against a replicated MariaDB pair: clean exits 0, a planted difference
// exits 1 and is named by primary key in the JSON and in the text; --tables compares only those;
// a second run after a finished one is a new comparison; --help says what it compares.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffPair, type DiffPair } from '../db/diff-fixtures.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'crossmove-verify-cli-'));
let pair: DiffPair;
let inputPath: string;

function crossmove(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bin/crossmove.mjs'), ...args], { cwd: dir, env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

beforeAll(async () => {
  pair = await diffPair(73, [
    'CREATE TABLE orders (id INT PRIMARY KEY, total DECIMAL(10,2) NOT NULL, status ENUM("new","paid") NOT NULL) ENGINE=InnoDB',
    'INSERT INTO orders SELECT seq, seq * 1.25, IF(seq MOD 2, "new", "paid") FROM seq_1_to_5000',
    'CREATE TABLE notes (id INT PRIMARY KEY, body TEXT) ENGINE=InnoDB',
    'INSERT INTO notes SELECT seq, REPEAT("n", seq MOD 30) FROM seq_1_to_300',
  ]);
  const secret = join(dir, 'admin.json');
  writeFileSync(secret, JSON.stringify(pair.source.admin), { mode: 0o600 });
  inputPath = join(dir, 'input.yaml');
  writeFileSync(
    inputPath,
    [
      'migrationId: cli-verify',
      `source: { endpoint: { host: 127.0.0.1, port: ${pair.source.port} }, adminSecret: "file:${secret}" }`,
      `target: { endpoint: { host: 127.0.0.1, port: ${pair.target.port} }, adminSecret: "file:${secret}" }`,
      'initialLoad: { method: logical, schemas: [app] }',
      'replication: { ssl: false }',
      'verify: { parallelism: 2 }',
    ].join('\n'),
  );
}, 120_000);

afterAll(async () => pair?.stop());

describe('crossmove verify', () => {
  it('--help says what it compares', async () => {
    const { code, stdout } = await crossmove(['verify', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('ONE\nbinlog position on both sides');
    expect(stdout).toContain('VIRTUAL generated columns are left out');
    expect(stdout).toContain('missing on the target');
    expect(stdout).toContain('Exit code 0 identical, 1 differences');
  });

  it('clean: exit 0 and a clean JSON report', async () => {
    const { code, stdout, stderr } = await crossmove(['verify', 'cli-verify', '--local', inputPath, '--json']);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(report).toMatchObject({ done: true, verdict: 'clean', tablesCompared: 2, rowsCompared: 5300 });
    expect(stderr).toContain('rows compared');
  });

  it('a planted difference: exit 1, named by primary key with its column, in JSON and in text; --tables compares only those', async () => {
    await pair.plant('target', ["UPDATE orders SET status = 'new' WHERE id = 42", 'DELETE FROM notes WHERE id = 7']);
    const json = await crossmove(['verify', 'cli-verify', '--local', inputPath, '--json']);
    expect(json.code, json.stderr).toBe(1);
    const report = JSON.parse(json.stdout.trim().split('\n').at(-1)!);
    expect(report).toMatchObject({ verdict: 'differences', differences: { tables: 2, different: 1, missing: 1 } });
    expect(report.tables).toEqual([
      expect.objectContaining({ table: 'app.notes', rows: [{ kind: 'missing', key: 'id=7' }] }),
      expect.objectContaining({ table: 'app.orders', rows: [{ kind: 'different', key: 'id=42', columns: ['status'] }] }),
    ]);
    const text = await crossmove(['verify', 'cli-verify', '--local', inputPath, '--tables', 'app.orders']);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('Comparison found differences: 1 table(s)');
    expect(text.stdout).toContain('different id=42 (columns status)');
    expect(text.stdout).not.toContain('app.notes');
  });

  it('refuses an input of another migration, naming both', async () => {
    const { code, stderr } = await crossmove(['verify', 'other-migration', '--local', inputPath]);
    expect(code).not.toBe(0);
    expect(stderr).toContain('is migration cli-verify, not other-migration');
  });
});
