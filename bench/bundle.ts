// `npm run bench:bundle [-- --json] [--runs N] [--no-package]`: what every packaged function costs
// before it runs. Packages the service (`npm run package`, offline) unless --no-package, then for each
// zip in .serverless/: its size, and the time a fresh Node process takes to import its handler module
// (the cold-start init the function pays before its first event), median of N processes. The handler
// gets the environment its function has in the packaged template (CloudFormation references replaced
// by placeholders), so configuration read at import time runs as on Lambda.
// The last line with --json: {"functions": [{"name", "zipBytes", "importMs"}], "maxZipBytes", "maxImportMs"}.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';

const opts = new Command()
  .option('--json', 'end with one JSON line')
  .option('--runs <n>', 'fresh processes per function (median reported)', '5')
  .option('--no-package', 'measure the zips already in .serverless/')
  .parse()
  .opts<{ json?: boolean; runs: string; package: boolean }>();

const root = resolve(import.meta.dirname, '..');
const out = join(root, '.serverless');
if (opts.package) execFileSync('npm', ['run', '--silent', 'package'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });

interface FunctionResource {
  Type: string;
  Properties: { FunctionName: string; Handler: string; Environment?: { Variables?: Record<string, unknown> }; Code: { S3Key: string } };
}
const template = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8')) as { Resources: Record<string, FunctionResource> };
const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');

/** Plain values as they are; Fn::Sub/Ref/GetAtt become a placeholder of the kind the code expects (an ARN). */
function environment(vars: Record<string, unknown> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) env[k] = typeof v === 'string' ? v : 'arn:aws:placeholder:us-east-1:123456789012:bench';
  return env;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const runs = Math.max(1, Number(opts.runs));
const rows: { name: string; zipBytes: number; importMs: number }[] = [];
const work = mkdtempSync(join(tmpdir(), 'crossmove-bundle-'));
try {
  for (const fn of functions) {
    const zipName = fn.Properties.Code.S3Key.split('/').pop()!;
    const zip = join(out, zipName);
    const dir = join(work, zipName.replace(/\.zip$/, ''));
    execFileSync('unzip', ['-q', '-o', zip, '-d', dir]);
    const [file] = fn.Properties.Handler.split(/\.(?=[^.]+$)/);
    const entry = readdirSync(join(dir, file!, '..')).find((f) => f.startsWith(file!.split('/').pop()! + '.') && /\.m?js$/.test(f));
    const modulePath = join(dir, file!, '..', entry!);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = spawnSync(
        process.execPath,
        ['--input-type=module', '-e', `const t = performance.now(); const m = await import(${JSON.stringify(modulePath)}); if (typeof m.handler !== 'function') throw new Error('no handler export'); console.log(performance.now() - t);`],
        { env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...environment(fn.Properties.Environment?.Variables) }, encoding: 'utf8', cwd: dir },
      );
      if (r.status !== 0) throw new Error(`${fn.Properties.FunctionName}: importing ${entry} failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
      times.push(Number(r.stdout.trim().split('\n').pop()));
    }
    rows.push({ name: fn.Properties.FunctionName, zipBytes: statSync(zip).size, importMs: Math.round(median(times) * 10) / 10 });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

rows.sort((a, b) => b.importMs - a.importMs);
const maxZipBytes = Math.max(...rows.map((r) => r.zipBytes));
const maxImportMs = Math.max(...rows.map((r) => r.importMs));
const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;
console.log(`${rows.length} functions, import median of ${runs} fresh processes each (goals: zip <= 1 MB, import <= 150 ms)`);
for (const r of rows) console.log(`  ${r.name.padEnd(44)} ${kb(r.zipBytes).padStart(8)} ${`${r.importMs} ms`.padStart(10)}`);
console.log(`max zip ${kb(maxZipBytes)}, max import ${maxImportMs} ms`);
if (opts.json) console.log(JSON.stringify({ functions: rows, maxZipBytes, maxImportMs }));
