// The packaged template of serverless.yml: API routes with IAM auth, the
// schedule, the table, the topic (optional e-mail), the alarms, the dashboard, and no `*` IAM action.
// Packages with osls in a temporary copy (offline, fake credentials). Handlers other helpers have not
// written yet are stubbed in the copy: this test checks the template, not the bundles.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');

type Json = Record<string, any>;

/** Deep merge: maps merge key by key, arrays concatenate; a scalar conflict is a mistake in the fragment. */
export function mergeFragment(base: Json, fragment: Json, path = ''): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(fragment)) {
    const here = path ? `${path}.${k}` : k;
    if (!(k in out)) out[k] = v;
    else if (Array.isArray(out[k]) && Array.isArray(v)) out[k] = [...out[k], ...v];
    else if (out[k] && typeof out[k] === 'object' && v && typeof v === 'object') out[k] = mergeFragment(out[k], v, here);
    else if (out[k] !== v) throw new Error(`serverless/operations.yml would replace ${here}`);
  }
  return out;
}


/** A dependency cycle among CloudFormation resources (Ref, Fn::GetAtt, Fn::Sub, DependsOn), or []. */
function findCycle(res: Json): string[] {
  const deps = (value: unknown, out: Set<string>): Set<string> => {
    if (Array.isArray(value)) value.forEach((v) => deps(v, out));
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value as Json)) {
        if (k === 'Ref' && typeof v === 'string' && v in res) out.add(v);
        else if (k === 'Fn::GetAtt') out.add(Array.isArray(v) ? v[0] : String(v).split('.')[0]);
        else if (k === 'Fn::Sub') {
          const text = Array.isArray(v) ? v[0] : v;
          for (const m of String(text).matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}/g)) if (m[1]! in res) out.add(m[1]!);
          if (Array.isArray(v)) deps(v[1], out);
        } else deps(v, out);
      }
    }
    return out;
  };
  const graph = new Map(Object.entries(res).map(([id, r]) => [id, [...deps({ p: r.Properties, d: [r.DependsOn ?? []].flat().map((x: string) => ({ Ref: x })) }, new Set())]]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]): string[] | null => {
    if (state.get(id) === 'done') return null;
    if (state.get(id) === 'visiting') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'visiting');
    for (const d of graph.get(id) ?? []) {
      const found = visit(d, [...path, id]);
      if (found) return found;
    }
    state.set(id, 'done');
    return null;
  };
  for (const id of graph.keys()) {
    const found = visit(id, []);
    if (found) return found;
  }
  return [];
}

let dir: string;
let template: Json;
let resources: Json;

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crossmove-ops-pkg-'));
  for (const entry of ['package.json', 'tsconfig.json', 'handlers', 'shared', 'statemachine', 'local', 'serverless']) {
    if (existsSync(join(repo, entry))) cpSync(join(repo, entry), join(dir, entry), { recursive: true });
  }
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
  const merged = parse(readFileSync(join(repo, 'serverless.yml'), 'utf8'), { merge: true, maxAliasCount: -1 });
  writeFileSync(join(dir, 'serverless.yml'), stringify(merged, { aliasDuplicateObjects: false }));
  for (const fn of Object.values<Json>(merged.functions)) {
    const file = join(dir, `${String(fn.handler).replace(/\.handler$/, '')}.ts`);
    if (!existsSync(file)) {
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, 'export const handler = async () => ({});\n');
    }
  }
  await run(process.execPath, [join(repo, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package', '--stage', 'test', '--region', 'us-east-1'], {
    cwd: dir,
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', SLS_TELEMETRY_DISABLED: '1' },
    // Packaging takes ~20 s on a quiet machine and several times that when the suite loads both cores.
    timeout: 280_000,
  });
  template = JSON.parse(readFileSync(join(dir, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8'));
  resources = template.Resources;
}, 300_000);

afterAll(() => {
  if (dir && !process.env.KEEP_PKG) rmSync(dir, { recursive: true, force: true });
});

describe('packaged operations template', () => {
  it('gives the approval request the API URL (for the approve/reject links in its message)', () => {
    const fn = resources.RequestApprovalLambdaFunction.Properties;
    expect(fn.Environment.Variables.CROSSMOVE_API_URL).toEqual({ 'Fn::Sub': 'https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}' });
    expect(resources.HttpApi?.Type).toBe('AWS::ApiGatewayV2::Api');
  });

  it('has no dependency cycle between resources (CloudFormation would refuse the stack)', () => {
    // The detector itself finds a planted cycle.
    expect(findCycle({ A: { Type: 'x', Properties: { X: { Ref: 'B' } } }, B: { Type: 'x', Properties: { Y: { 'Fn::Sub': '${A.Arn}' } } } })).toEqual(['A', 'B', 'A']);
    expect(findCycle(resources)).toEqual([]);
  });

  it('has the five API routes, each authorised by IAM', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    const keys = routes.map((r) => r.RouteKey).sort();
    expect(keys).toEqual([
      'GET /migrations',
      'GET /migrations/{migrationId}',
      'POST /migrations',
      'POST /migrations/{migrationId}/approve',
      'POST /migrations/{migrationId}/reject',
    ]);
    for (const r of routes) expect(r.AuthorizationType, r.RouteKey).toBe('AWS_IAM');
  });

  it('schedules the lag check every minute (EventBridge)', () => {
    const rules = ofType('AWS::Events::Rule').map(([, r]) => r.Properties);
    expect(rules.map((r) => r.ScheduleExpression)).toContain('rate(1 minute)');
  });

  it('has the on-demand approval table keyed by migrationId', () => {
    const [[, table]] = ofType('AWS::DynamoDB::Table');
    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.Properties.KeySchema).toEqual([{ AttributeName: 'migrationId', KeyType: 'HASH' }]);
  });

  it('has the topic and an e-mail subscription only when notifyEmail is given', () => {
    expect(ofType('AWS::SNS::Topic')).toHaveLength(1);
    const [[, sub]] = ofType('AWS::SNS::Subscription');
    expect(sub.Condition).toBe('HasNotifyEmail');
    expect(template.Conditions.HasNotifyEmail).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
  });

  it('has alarms on every metric and a dashboard showing them', () => {
    const metrics = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties.MetricName);
    expect(metrics).toEqual(expect.arrayContaining(['HeartbeatLagMs', 'ByteLag', 'ReplicationRunning', 'Errors']));
    const [[, dash]] = ofType('AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dash.Properties.DashboardBody);
    for (const m of ['HeartbeatLagMs', 'ByteLag', 'ReplicationRunning']) expect(body).toContain(m);
  });

  it('grants no `*` IAM action anywhere', () => {
    const actions: string[] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === 'Action' || k === 'NotAction') actions.push(...(Array.isArray(x) ? x : [x]).map(String));
          else walk(x);
        }
      }
    };
    for (const [, r] of [...ofType('AWS::IAM::Role'), ...ofType('AWS::IAM::ManagedPolicy'), ...ofType('AWS::IAM::Policy')]) walk(r.Properties);
    expect(actions.length).toBeGreaterThan(20);
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
  });

  it('gives the operations functions the table, state machine and topic by name (no dependency cycle)', () => {
    const fn = resources.ApiApproveLambdaFunction.Properties;
    expect(fn.Environment.Variables.CROSSMOVE_APPROVAL_TABLE).toBe('crossmove-approvals-test');
    expect(JSON.stringify(fn.Environment.Variables.CROSSMOVE_STATE_MACHINE_ARN)).toContain('stateMachine:crossmove-migration-test');
    expect(resources.RequestApprovalTablePolicy.Properties.Roles).toEqual([{ Ref: 'RequestApprovalRole' }]);
  });
});
