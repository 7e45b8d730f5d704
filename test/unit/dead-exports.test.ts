// Nothing is exported, kept as a file or listed as a dependency that nobody uses (knip, configured in
// knip.json: the entry points are the handlers, the CLI, bench/, local/, scripts/, the tests and bin/).
// A dead export is knowledge in two places (the code and its callers) with one of them gone.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const knipBin = join(root, 'node_modules/.bin/knip');

function knip(cwd: string): { status: number | null; output: string } {
  const r = spawnSync(knipBin, ['--no-progress', '--no-config-hints', '--reporter', 'compact'], { cwd, encoding: 'utf8', timeout: 110_000 });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

describe('dead code (knip)', () => {
  it('finds no unused export, file or dependency', () => {
    const { status, output } = knip(root);
    expect(output).toBe('');
    expect(status).toBe(0);
  });

  it('fails on an export nobody imports', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crossmove-knip-'));
    try {
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fixture', private: true, type: 'module' }));
      writeFileSync(join(dir, 'knip.json'), JSON.stringify({ entry: ['main.ts'], project: ['*.ts'] }));
      writeFileSync(join(dir, 'main.ts'), "import { used } from './lib.js';\nconsole.log(used);\n");
      writeFileSync(join(dir, 'lib.ts'), 'export const used = 1;\nexport const dead = 2;\n');
      const { status, output } = knip(dir);
      expect(output).toContain('lib.ts: dead');
      expect(status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
