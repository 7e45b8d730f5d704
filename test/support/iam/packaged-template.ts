// The CloudFormation template `npm run package` writes (osls package, offline, fake credentials), built
// once per content of its inputs and shared by every test file that reads it: packaging takes ~30 s
// and several files simulate its roles. The cache key covers everything the template is made from
// (serverless.yml, the state machine definitions, the plugin versions); handler code only changes the
// zips, not the template.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const PACKAGE_STAGE = 'test';
export const PACKAGE_REGION = 'us-east-1';
const TEMPLATE_FILE = 'cloudformation-template-update-stack.json';

export type Template = { Resources: Record<string, { Type: string; Properties?: any; Condition?: string }>; Conditions?: Record<string, unknown>; Outputs?: Record<string, unknown> };

function inputsHash(): string {
  const hash = createHash('sha256');
  const files = ['serverless.yml', 'package-lock.json', ...readdirSync(join(ROOT, 'statemachine')).sort().map((f) => `statemachine/${f}`)];
  for (const f of files) hash.update(f).update('\0').update(readFileSync(join(ROOT, f))).update('\0');
  // A new function needs its handler file to bundle: the list of handlers is part of the key.
  hash.update(readdirSync(join(ROOT, 'handlers')).sort().join(','));
  return hash.digest('hex').slice(0, 16);
}

function runPackage(dir: string): void {
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package', '--stage', PACKAGE_STAGE, '--region', PACKAGE_REGION, '--package', dir], {
      cwd: ROOT,
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE', AWS_SECRET_ACCESS_KEY: 'fake', AWS_SESSION_TOKEN: '', SLS_TELEMETRY_DISABLED: '1' },
      stdio: 'pipe',
      timeout: 280_000,
    });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`osls package failed:\n${`${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim().slice(-3000)}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The packaged template (stage `test`, us-east-1), packaging it when its inputs changed. */
export async function packagedTemplate(): Promise<Template> {
  const dir = join(tmpdir(), `crossmove-packaged-${inputsHash()}`);
  const file = join(dir, TEMPLATE_FILE);
  const lock = `${dir}.lock`;
  for (let waited = 0; !existsSync(file); waited += 500) {
    try {
      mkdirSync(lock); // atomic: one test file packages, the others wait for its result
    } catch {
      // A lock left by a killed run is taken over after the longest packaging could take.
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 300_000) rmSync(lock, { recursive: true, force: true });
      if (waited > 320_000) throw new Error(`waited too long for another test to package the service (${lock})`);
      await sleep(500);
      continue;
    }
    try {
      const work = `${dir}.work-${process.pid}`;
      rmSync(work, { recursive: true, force: true });
      runPackage(work);
      renameSync(work, dir);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  return JSON.parse(readFileSync(file, 'utf8'));
}
