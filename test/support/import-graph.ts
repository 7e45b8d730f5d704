// The run-time import graph of a folder of TypeScript modules, as esbuild resolves it (the bundler
// the functions are packaged with), and its cycles. Type-only imports are erased before run time, so
// they are not edges: a cycle through them cannot leave a module half-initialised. Dynamic imports
// are edges (they still run a module's top level against a partly evaluated importer).
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** module -> the modules it imports at run time, paths relative to `root`, restricted to `dir`. */
export async function importGraph(root: string, dir: string): Promise<Map<string, string[]>> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: tsFiles(join(root, dir)).map((f) => relative(root, f)),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    write: false,
    metafile: true,
    outdir: 'out',
    logLevel: 'silent',
  });
  const inside = (p: string) => p.startsWith(`${dir}/`);
  const graph = new Map<string, string[]>();
  for (const [path, input] of Object.entries(result.metafile.inputs)) {
    if (inside(path)) graph.set(path, input.imports.filter((i) => !i.external && inside(i.path)).map((i) => i.path));
  }
  return graph;
}

/** Every cycle as one strongly connected component (Tarjan), each listed from its smallest path. */
export function importCycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.includes(v)) cycles.push(component.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return cycles;
}
