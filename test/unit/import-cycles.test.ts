// No module of shared/ imports itself through others at run time: with ES modules a cycle means one of
// them runs its top level against a half-initialised other (a `const` read before it is set throws),
// and which one depends on the entry point, so a handler can break while the tests that enter
// elsewhere pass.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCycles, importGraph } from '../support/import-graph.js';

const root = resolve(import.meta.dirname, '../..');

describe('import cycles', () => {
  it('shared/ has none', async () => {
    const graph = await importGraph(root, 'shared');
    // The graph is the real one: a module known to import others is in it with its imports.
    expect(graph.get('shared/approval/current.ts')).toEqual(expect.arrayContaining(['shared/approval/table.ts', 'shared/approval/store.ts']));
    expect(importCycles(graph)).toEqual([]);
  });

  it('finds a cycle through static and dynamic imports, not through type-only ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crossmove-cycles-'));
    try {
      mkdirSync(join(dir, 'lib'));
      const file = (name: string, text: string) => writeFileSync(join(dir, 'lib', name), text);
      file('a.ts', "import { b } from './b.js';\nexport const a = () => b();\n");
      file('b.ts', "export const b = async () => (await import('./a.js')).a;\n");
      file('c.ts', "import type { D } from './d.js';\nexport const c = (d: D) => d;\n");
      file('d.ts', "import { c } from './c.js';\nexport type D = number;\nexport const d = c(1);\n");
      expect(importCycles(await importGraph(dir, 'lib'))).toEqual([['lib/a.ts', 'lib/b.ts']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
