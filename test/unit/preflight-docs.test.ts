// docs/preflight.md must list every preflight check id the code can emit, and no id the code no longer
// has. The ids are collected from the source, not from a list kept by hand: every pass/warn/fail call
// (of shared/preflight/checks.ts) in shared/ and cli/, with its first argument resolved when it is not a
// literal (a constant, a template over constants, a parameter filled in by the callers), plus the
// `{ id, status }` literals crossmove plan builds itself. A call whose id cannot be resolved fails the test.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CHECKS_MODULE = 'shared/preflight/checks.ts';
const DOC = 'docs/preflight.md';

/**
 * Ids the scanner cannot follow, by file and expression. Each listed id must also appear as a literal in
 * that file, so an entry cannot outlive the code it describes.
 */
const EXPLICIT: Record<string, Record<string, string[]>> = {
  // secret-checks.ts loops over `sides = [{ id: 'source-admin-secret', ... }, { id: 'target-admin-secret', ... }]`.
  'shared/preflight/secret-checks.ts': { 'side.id': ['source-admin-secret', 'target-admin-secret'] },
};

interface SourceFile {
  path: string; // relative to the repo root, with /
  text: string;
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(`${dir}/${e.name}`) : e.name.endsWith('.ts') ? [`${dir}/${e.name}`] : [],
  );
}

/** The arguments of the call whose '(' is at `open`, as source text (strings, templates and nesting respected). */
function callArgs(text: string, open: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"') {
      i = text.indexOf(c, i + 1);
      while (text[i - 1] === '\\') i = text.indexOf(c, i + 1);
    } else if (c === '`') {
      // Skip the template, including ${...} that may hold more templates.
      let j = i + 1;
      let inner = 0;
      for (; j < text.length; j++) {
        if (text[j] === '\\') j++;
        else if (inner === 0 && text[j] === '`') break;
        else if (text[j] === '$' && text[j + 1] === '{') {
          inner++;
          j++;
        } else if (text[j] === '}' && inner > 0) inner--;
      }
      i = j;
    } else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) {
      depth--;
      if (depth === 0) {
        args.push(text.slice(start, i).trim());
        return args.filter(Boolean);
      }
    } else if (c === ',' && depth === 1) {
      args.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  throw new Error(`unclosed call at ${open}`);
}

function importsChecks(file: SourceFile): boolean {
  return [...file.text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'([^']+)'/g)].some(
    ([, names, spec]) =>
      /\b(pass|warn|fail)\b/.test(names!) && spec!.startsWith('.') && relative(ROOT, resolve(ROOT, dirname(file.path), spec!.replace(/\.js$/, '.ts'))).split('\\').join('/') === CHECKS_MODULE,
  );
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function collectCheckIds(files: SourceFile[]): { ids: Map<string, Set<string>>; unresolved: string[] } {
  const ids = new Map<string, Set<string>>();
  const unresolved: string[] = [];
  const add = (id: string, where: string) => ids.set(id, (ids.get(id) ?? new Set()).add(where));

  /** Every value `expr` can take at `pos` of `file`; null when it cannot be followed. */
  function values(expr: string, file: SourceFile, pos: number, depth = 0): string[] | null {
    if (depth > 6) return null;
    const lit = /^'([^'\\]*)'$|^"([^"\\]*)"$/.exec(expr);
    if (lit) return [lit[1] ?? lit[2]!];
    if (expr.startsWith('`') && expr.endsWith('`')) {
      let out = [''];
      for (const part of expr.slice(1, -1).split(/(\$\{[^}]*\})/)) {
        const inner = /^\$\{(.*)\}$/.exec(part);
        const vs = inner ? values(inner[1]!.trim(), file, pos, depth + 1) : [part];
        if (!vs) return null;
        out = out.flatMap((o) => vs.map((v) => o + v));
      }
      return out;
    }
    const explicit = EXPLICIT[file.path]?.[expr];
    if (explicit) return explicit;
    if (!/^[A-Za-z_$][\w$]*$/.test(expr)) return null;
    const before = file.text.slice(0, pos);
    // A parameter of the enclosing function: whatever its callers pass in that position.
    const fn = [...before.matchAll(/function\s+(\w+)\s*\(/g)].at(-1);
    if (fn) {
      const params = callArgs(file.text, fn.index! + fn[0].length - 1).map((p) => p.split(/[:=?]/)[0]!.trim());
      const index = params.indexOf(expr);
      if (index >= 0) {
        const out: string[] = [];
        for (const caller of files) {
          for (const call of caller.text.matchAll(new RegExp(`(?<![.\\w$])${escape(fn[1]!)}\\s*\\(`, 'g'))) {
            if (/function\s+$/.test(caller.text.slice(0, call.index))) continue;
            const arg = callArgs(caller.text, call.index! + call[0].length - 1)[index];
            const vs = arg === undefined ? null : values(arg, caller, call.index!, depth + 1);
            if (!vs) return null;
            out.push(...vs);
          }
        }
        return out.length ? out : null;
      }
    }
    // Else the nearest const of that name before the use (module-level constants come first in a file).
    const decl = [...before.matchAll(new RegExp(`const\\s+${escape(expr)}\\s*=\\s*`, 'g'))].at(-1);
    if (!decl) return null;
    const end = decl.index! + decl[0].length;
    const init = /^('[^']*'|"[^"]*"|`[^`]*`)/.exec(file.text.slice(end));
    return init ? values(init[1]!, file, end, depth + 1) : null;
  }

  for (const file of files) {
    // Results crossmove plan builds itself (cli/plan.ts turns a thrown AWS preflight into one check).
    for (const m of file.text.matchAll(/\{\s*id:\s*'([^']+)',\s*status:\s*'(?:pass|warn|fail)'/g)) add(m[1]!, file.path);
    if (!importsChecks(file)) continue;
    for (const call of file.text.matchAll(/(?<![.\w$])(pass|warn|fail)\s*\(/g)) {
      const open = call.index! + call[0].length - 1;
      const first = callArgs(file.text, open)[0] ?? '';
      const vs = values(first, file, call.index!);
      if (vs) for (const v of vs) add(v, file.path);
      else unresolved.push(`${file.path}: ${call[1]}(${first}, ...)`);
    }
  }
  return { ids, unresolved };
}

const read = (path: string): SourceFile => ({ path, text: readFileSync(join(ROOT, path), 'utf8') });
const sourceFiles = () => [...tsFiles('shared'), ...tsFiles('cli')].map(read);

/** The ids the doc documents: the first cell of its table rows, written as `id`. */
function documentedIds(doc: string): string[] {
  return [...doc.matchAll(/^\|\s*`([a-z0-9-]+)`\s*\|/gm)].map((m) => m[1]!);
}

describe('docs/preflight.md', () => {
  const { ids, unresolved } = collectCheckIds(sourceFiles());
  const doc = read(DOC).text;
  const documented = documentedIds(doc);

  it('can follow every check id in the code', () => {
    expect(unresolved, 'resolve these ids in EXPLICIT of this test').toEqual([]);
    // The scan itself finds the checks (a broken scan would find nothing and pass the next tests).
    for (const id of ['source-cluster', 'write-block-other-groups', 'db-source-reachable', 'db-target-reachable', 'network-source-to-target', 'clone-limit', 'aws'])
      expect([...ids.keys()]).toContain(id);
    for (const [path, entries] of Object.entries(EXPLICIT)) {
      for (const id of Object.values(entries).flat()) expect(read(path).text, `${id} in ${path}`).toContain(`'${id}'`);
    }
  });

  it('documents every check id the code can emit', () => {
    const missing = [...ids.keys()].filter((id) => !documented.includes(id)).map((id) => `${id} (${[...ids.get(id)!].join(', ')})`);
    expect(missing, 'add a row to docs/preflight.md for each').toEqual([]);
    for (const id of ids.keys()) expect(doc).toContain(`\`${id}\``);
  });

  it('names no check id the code no longer has, and each once', () => {
    expect(documented.filter((id) => !ids.has(id)), 'remove these rows from docs/preflight.md').toEqual([]);
    expect(documented.filter((id, i) => documented.indexOf(id) !== i)).toEqual([]);
  });

  it('would notice a new check: literal, constant and template ids added to a copy of the code', () => {
    const files = sourceFiles();
    const i = files.findIndex((f) => f.path === 'shared/preflight/write-block-checks.ts');
    files[i] = {
      ...files[i]!,
      text: `${files[i]!.text}\nconst FAKE = 'fake-constant';\nexport const fakes = () => [warn('fake-literal', 'm', 'f'), fail(FAKE, 'm', 'f'), pass(\`\${ID}-fake-template\`, 'm'), pass(somewhere.id, 'm')];\n`,
    };
    const scanned = collectCheckIds(files);
    for (const id of ['fake-literal', 'fake-constant', 'write-block-fake-template']) {
      expect([...scanned.ids.keys()]).toContain(id);
      expect(documented).not.toContain(id);
    }
    expect(scanned.unresolved).toEqual(['shared/preflight/write-block-checks.ts: pass(somewhere.id, ...)']);
  });
});
