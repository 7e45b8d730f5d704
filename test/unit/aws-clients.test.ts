// Every AWS SDK client is made in shared/aws (one module per service): the one place that knows which
// account's credentials, which region and which timeouts a client gets, and the one place a test or
// the CLI swaps it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const SOURCES = ['shared', 'handlers', 'cli', 'local', 'bench', 'scripts'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : name.endsWith('.ts') ? [path] : [];
  });
}

/** `new XxxClient(` of a class imported from an @aws-sdk/client-* package, as "file: Class". */
function sdkClientConstructions(file: string, text: string): string[] {
  const imported = new Set<string>();
  for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*['"]@aws-sdk\/client-[\w-]+['"]/g)) {
    for (const name of m[1]!.split(',')) {
      const n = name.trim();
      if (!n.startsWith('type ')) imported.add(n.split(/\s+as\s+/).pop()!.trim());
    }
  }
  return [...text.matchAll(/new\s+(\w+Client)\s*\(/g)].filter((m) => imported.has(m[1]!)).map((m) => `${file}: ${m[1]}`);
}

describe('AWS clients', () => {
  it('are constructed only in shared/aws', () => {
    const found: string[] = [];
    for (const dir of SOURCES) {
      for (const path of tsFiles(join(root, dir))) {
        const file = relative(root, path);
        if (file.startsWith('shared/aws/')) continue;
        found.push(...sdkClientConstructions(file, readFileSync(path, 'utf8')));
      }
    }
    expect(found).toEqual([]);
  });

  it('the scan sees a construction, and not a type-only import or another class', () => {
    expect(sdkClientConstructions('x.ts', "import { EC2Client, DescribeSubnetsCommand } from '@aws-sdk/client-ec2';\nconst c = new EC2Client({});")).toEqual(['x.ts: EC2Client']);
    expect(sdkClientConstructions('x.ts', "import { type SNSClient } from '@aws-sdk/client-sns';\nimport { SNSClient as S } from './fake.js';\nnew SNSClient({});")).toEqual([]);
  });
});
