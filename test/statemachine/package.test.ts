// Packages the service offline (osls package, fake credentials) and checks the CloudFormation template:
// both state machines, every function on nodejs22.x with its own role, the approval task, and no `*`
// IAM action anywhere.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_KEYS } from '../../handlers/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'crossmove-package-'));
let template: { Resources: Record<string, { Type: string; Properties: any }> };

const logicalId = (key: string) => `${key[0]!.toUpperCase()}${key.slice(1)}`;

function policyStatements(): { where: string; statement: any }[] {
  const found: { where: string; statement: any }[] = [];
  for (const [id, r] of Object.entries(template.Resources)) {
    const docs =
      r.Type === 'AWS::IAM::Role'
        ? (r.Properties.Policies ?? []).map((p: any) => p.PolicyDocument)
        : ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].includes(r.Type)
          ? [r.Properties.PolicyDocument]
          : [];
    for (const doc of docs) for (const statement of doc.Statement) found.push({ where: id, statement });
  }
  return found;
}

function packageService(dir: string, params: string[] = []): typeof template {
  try {
    execFileSync('npx', ['osls', 'package', '--stage', 'test', '--region', 'eu-west-1', '--package', dir, ...params.flatMap((p) => ['--param', p])], {
      cwd: root,
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE', AWS_SECRET_ACCESS_KEY: 'fake', AWS_SESSION_TOKEN: '', SLS_TELEMETRY_DISABLED: '1' },
      stdio: 'pipe',
      timeout: 240_000,
    });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`osls package failed:\n${`${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim().slice(-3000)}`);
  }
  return JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
}

beforeAll(() => {
  template = packageService(out);
}, 300_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The functions that open MySQL connections and so must run in the databases' VPC when one is given. */
const MYSQL_FUNCTIONS = ['readCutoverRecord', 'runPreflight', 'checkDatabases', 'cleanupDb', 'fallBack', 'keepBinlogs', 'createReplicationUser', 'startReplication', 'checkReplication', 'cutOver', 'startReverseReplication',
  'prepareFrozenSource', 'checkFrozenSource', 'planCopy', 'copyChunks', 'checkCopy', 'explainCopyFailure', 'finishCopy', 'scheduledLagCheck', 'planDiff', 'compareChunks', 'checkDiff'];

/** Evaluates the CloudFormation condition functions the template uses (Fn::Not / Fn::Equals on literals). */
function conditionValue(t: any, name: string): boolean {
  const evaluate = (c: any): boolean => {
    if (c['Fn::Not']) return !evaluate(c['Fn::Not'][0]);
    if (c['Fn::Equals']) return c['Fn::Equals'][0] === c['Fn::Equals'][1];
    if (c.Condition) return evaluate(t.Conditions[c.Condition]);
    throw new Error(`unsupported condition ${JSON.stringify(c)}`);
  };
  return evaluate(t.Conditions[name]);
}

/** The VpcConfig a function ends up with after CloudFormation resolves Fn::If (undefined = no VPC). */
function effectiveVpc(t: any, key: string): unknown {
  const vpc = t.Resources[`${logicalId(key)}LambdaFunction`].Properties.VpcConfig;
  if (!vpc?.['Fn::If']) return vpc;
  const [condition, whenTrue, whenFalse] = vpc['Fn::If'];
  const chosen = conditionValue(t, condition) ? whenTrue : whenFalse;
  return chosen?.Ref === 'AWS::NoValue' ? undefined : chosen;
}

describe('VPC of the MySQL steps (deploy-time params lambdaSubnetIds / lambdaSecurityGroupIds)', () => {
  it('packages without the params: no function is in a VPC', () => {
    for (const key of FUNCTION_KEYS) expect(effectiveVpc(template, key), key).toBeUndefined();
    expect(effectiveVpc(template, 'scheduledLagCheck')).toBeUndefined();
  });

  it('with the params, exactly the MySQL-step functions get the subnets and security groups', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crossmove-package-vpc-'));
    try {
      const withVpc = packageService(dir, ['lambdaSubnetIds=subnet-0aaa1111,subnet-0bbb2222', 'lambdaSecurityGroupIds=sg-0123456789abcdef0']);
      const expected = { SubnetIds: { 'Fn::Split': [',', 'subnet-0aaa1111,subnet-0bbb2222'] }, SecurityGroupIds: { 'Fn::Split': [',', 'sg-0123456789abcdef0'] } };
      for (const key of [...FUNCTION_KEYS, 'scheduledLagCheck', 'apiStart', 'cleanupAws']) {
        expect(effectiveVpc(withVpc, key), key).toEqual(MYSQL_FUNCTIONS.includes(key) ? expected : undefined);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

describe('packaged template', () => {
  it('has the six state machines (migration, its lag-monitor, verify and copy children, cleanup, fallback), each child named as the parent starts it', () => {
    const machines = Object.values(template.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
    expect(machines.map((m) => m.Properties.StateMachineName).sort()).toEqual([
      'crossmove-cleanup-test', 'crossmove-copy-test', 'crossmove-fallback-test', 'crossmove-lag-monitor-test', 'crossmove-migration-test', 'crossmove-verify-test',
    ]);
    const main = JSON.stringify(template.Resources.MigrationStateMachine!.Properties.DefinitionString);
    expect(main).toContain('stateMachine:crossmove-lag-monitor-test');
    expect(main).toContain('stateMachine:crossmove-verify-test');
    expect(main).toContain('stateMachine:crossmove-copy-test');
  });

  it('has every function on nodejs22.x, each with its own role', () => {
    const roles = new Set<string>();
    for (const key of FUNCTION_KEYS) {
      const fn = template.Resources[`${logicalId(key)}LambdaFunction`];
      expect(fn?.Type, key).toBe('AWS::Lambda::Function');
      expect(fn!.Properties.Runtime).toBe('nodejs22.x');
      expect(fn!.Properties.Role).toEqual({ 'Fn::GetAtt': [`${logicalId(key)}Role`, 'Arn'] });
      roles.add(fn!.Properties.Role['Fn::GetAtt'][0]);
    }
    expect(roles.size).toBe(FUNCTION_KEYS.length);
  });

  it('has the approval task with waitForTaskToken, a timeout and a Catch', () => {
    const sub = template.Resources.MigrationStateMachine!.Properties.DefinitionString['Fn::Sub'];
    const definition = JSON.parse(typeof sub === 'string' ? sub : sub[0]);
    const gate = definition.States['Ask for cutover approval'];
    expect(gate.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(gate.TimeoutSecondsPath ?? gate.TimeoutSeconds).toBeDefined();
    expect(gate.Parameters.Payload).toEqual({ 'taskToken.$': '$$.Task.Token', 'state.$': '$' });
    expect(gate.Catch.flatMap((c: any) => c.ErrorEquals)).toEqual(expect.arrayContaining(['ApprovalRejected', 'States.Timeout', 'States.ALL']));
  });

  it('has no `*` IAM action anywhere, and assumes only the source access role pattern', () => {
    const statements = policyStatements();
    expect(statements.length).toBeGreaterThan(40);
    for (const { where, statement } of statements) {
      const actions = [statement.Action].flat();
      for (const action of actions) {
        expect(action, where).not.toBe('*');
        expect(action, where).not.toMatch(/:\*$/);
        expect(action, where).not.toMatch(/\*/);
      }
      expect(statement.NotAction, where).toBeUndefined();
      if (actions.includes('sts:AssumeRole')) expect(statement.Resource, where).toBe('arn:aws:iam::*:role/crossmove-source-*');
    }
  });

  it('lets the migration state machine start only its three children (lag monitor, comparison window, copy window)', () => {
    const statements = policyStatements().filter((s) => s.where === 'MigrationStateMachineRole');
    const starts = statements.filter((s) => [s.statement.Action].flat().includes('states:StartExecution'));
    const resources = JSON.stringify(starts.map((s) => s.statement.Resource));
    expect(resources).toContain(':stateMachine:crossmove-lag-monitor-test');
    expect(resources).toContain(':stateMachine:crossmove-verify-test');
    expect(resources).toContain(':stateMachine:crossmove-copy-test');
    expect(resources.match(/:stateMachine:crossmove-[a-z-]+-test/g)!.every((m) => /lag-monitor|verify|copy/.test(m))).toBe(true);
  });

  it('lets the comparison window invoke exactly its three functions', () => {
    const statements = policyStatements().filter((s) => s.where === 'VerifyStateMachineRole');
    const invoke = statements.filter((s) => [s.statement.Action].flat().includes('lambda:InvokeFunction'));
    const text = JSON.stringify(invoke.map((s) => s.statement.Resource));
    for (const fn of ['PlanDiff', 'CompareChunks', 'CheckDiff']) expect(text).toContain(`${fn}LambdaFunction`);
    expect(text).not.toContain('CutOverLambdaFunction');
  });
});

describe('packaged bundles', () => {
  // What a cold start loads: one minified ES module per function, no source map shipped or enabled
  // (bench/bundle.ts measures size and import time). A bundle that fails to import here (a CommonJS
  // dependency esbuild could not convert, an import-time read that throws) would fail on Lambda.
  it('ship one handler module each, without source maps, that imports in a fresh Node process', () => {
    const unzipped = mkdtempSync(join(tmpdir(), 'crossmove-bundles-'));
    try {
      const modules: string[] = [];
      const env: Record<string, string> = {};
      for (const key of FUNCTION_KEYS) {
        const fn = template.Resources[`${logicalId(key)}LambdaFunction`]!.Properties;
        const zip = join(out, `${key}.zip`);
        const dir = join(unzipped, key);
        execFileSync('unzip', ['-q', zip, '-d', dir]);
        const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile()).map((f) => join(f.parentPath, f.name).slice(dir.length + 1));
        const handlerFile = `${fn.Handler.replace(/\.handler$/, '')}.mjs`;
        expect(files, key).toEqual([handlerFile]);
        const text = readFileSync(join(dir, handlerFile), 'utf8');
        // Minified: long lines (the multi-line SQL template strings keep their newlines; a bundle of
        // mostly such statements averages ~200 characters a line, unminified code ~40).
        expect(text.length / text.split('\n').length, `${key} is minified`).toBeGreaterThan(100);
        expect(text, key).not.toContain('sourceMappingURL');
        for (const [k, v] of Object.entries(fn.Environment?.Variables ?? {})) env[k] = typeof v === 'string' ? v : 'arn:aws:states:eu-west-1:123456789012:stateMachine:placeholder';
        modules.push(join(dir, handlerFile));
      }
      expect(env.NODE_OPTIONS ?? '', 'source maps are not enabled at run time').not.toContain('source-maps');
      const check = `for (const m of ${JSON.stringify(modules)}) { const { handler } = await import(m); if (typeof handler !== 'function') throw new Error(m + ' exports no handler'); }`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', check], {
        env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
        encoding: 'utf8',
      });
      expect(r.stderr, 'importing the bundles').toBe('');
      expect(r.status).toBe(0);
    } finally {
      rmSync(unzipped, { recursive: true, force: true });
    }
  });
});
