// Checks of the packaged template (`npm run package`) against what AWS does at run time, which neither
// osls nor moto checks: the notifications topic's key policy (CloudWatch alarms must be able to use the
// key), Task timeouts against their Lambda's, payload-relevant settings, and no `*` action anywhere.
import { readFileSync, readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { packagedTemplate, PACKAGE_REGION, PACKAGE_STAGE, type Template } from '../support/iam/packaged-template.js';
import { TemplateResolver, resourceValues } from '../support/iam/cloudformation.js';
import { packagedRoles, type PackagedRoles } from '../support/iam/roles.js';
import { deniedCalls, evaluate } from '../support/iam/simulate.js';

const ACCOUNT = '222222222222';
const STATE_MACHINES = new URL('../../statemachine/', import.meta.url);
let template: Template;
let resolver: TemplateResolver;
let packaged: PackagedRoles;

beforeAll(async () => {
  template = await packagedTemplate();
  resolver = new TemplateResolver(template, { region: PACKAGE_REGION, account: ACCOUNT, stackName: `crossmove-${PACKAGE_STAGE}` });
  packaged = await packagedRoles(ACCOUNT);
}, 330_000);

const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

describe('the notifications topic and its key (CloudWatch alarms publish to it)', () => {
  const alarmArn = (name: string, account = ACCOUNT) => `arn:aws:cloudwatch:${PACKAGE_REGION}:${account}:alarm:${name}`;
  const keyArn = () => resourceValues(template, { region: PACKAGE_REGION, account: ACCOUNT }).atts['NotificationsKey.Arn']!;
  const keyPolicy = () => resolver.resolve(template.Resources.NotificationsKey!.Properties.KeyPolicy);
  /** CloudWatch, publishing an alarm's notification, uses the topic's key as the service principal with
   * the alarm as aws:SourceArn (SNS Developer Guide, "Enable compatibility between event sources from AWS
   * services and encrypted topics"). */
  const cloudWatchUses = (action: string, alarm: string, sourceAccount = ACCOUNT) =>
    evaluate(
      { arn: 'cloudwatch.amazonaws.com', account: ACCOUNT, policies: [] },
      { action, resource: keyArn(), context: { 'aws:SourceArn': alarm, 'aws:SourceAccount': sourceAccount } },
      { resourcePolicy: keyPolicy(), resourceAccountId: ACCOUNT },
    );

  it('is encrypted with the stack’s customer managed key, not alias/aws/sns (whose policy CloudWatch cannot be added to)', () => {
    const [[, topic]] = ofType('AWS::SNS::Topic') as [[string, any]];
    expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': ['NotificationsKey', 'Arn'] });
    expect(template.Resources.NotificationsKey!.Type).toBe('AWS::KMS::Key');
    expect(template.Resources.NotificationsKey!.Properties.EnableKeyRotation).toBe(true);
  });

  it('lets cloudwatch.amazonaws.com use the key for this stack’s alarms (stack-wide and per migration), and for no other alarm', async () => {
    for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
      for (const [id] of ofType('AWS::CloudWatch::Alarm')) {
        const name = resolver.resolve(template.Resources[id]!.Properties.AlarmName);
        expect((await cloudWatchUses(action, alarmArn(name))).verdict, `${action} for ${name}`).toBe('Allowed');
      }
      // The per-migration alarms the scheduled lag check creates (shared/metrics/alarms.ts: <prefix>-<migrationId>-...).
      expect((await cloudWatchUses(action, alarmArn(`crossmove-${PACKAGE_STAGE}-orders-2026-12-heartbeat-lag`))).verdict).toBe('Allowed');
      // Confused deputy: another stack's alarm, another account's alarm.
      expect((await cloudWatchUses(action, alarmArn('crossmove-prod-heartbeat-lag'))).verdict).not.toBe('Allowed');
      expect((await cloudWatchUses(action, alarmArn(`crossmove-${PACKAGE_STAGE}-heartbeat-lag`, '333333333333'), '333333333333')).verdict).not.toBe('Allowed');
    }
  });

  it('every function that may publish can publish to the encrypted topic (sns:Publish plus the key, through SNS only)', async () => {
    const topicArn = `arn:aws:sns:${PACKAGE_REGION}:${ACCOUNT}:crossmove-${PACKAGE_STAGE}-notifications`;
    const facts = { topicKeys: { [topicArn]: keyArn() } };
    const publishers = Object.keys(template.Resources)
      .filter((id) => id.endsWith('LambdaFunction'))
      .map((id) => `${id[0]!.toLowerCase()}${id.slice(1, -'LambdaFunction'.length)}`)
      .filter((key) => JSON.stringify(packaged.functionRole(key).policies).includes('sns:Publish'));
    expect(publishers.sort()).toEqual(['reportFailure', 'reportSuccess', 'requestApproval', 'scheduledLagCheck']);
    for (const caller of publishers) {
      const call = { service: 'sns', operation: 'Publish', input: { TopicArn: topicArn, Message: 'm' }, region: PACKAGE_REGION, account: ACCOUNT, caller };
      const setup = { principalFor: () => packaged.functionRole(caller), facts, resourcePolicy: (r: { action: string }) => (r.action.startsWith('kms:') ? keyPolicy() : undefined) };
      expect(await deniedCalls([call], setup)).toEqual([]);
    }
    // The key is usable through SNS only: the same role calling KMS directly is denied.
    const direct = await evaluate(packaged.functionRole('reportFailure'), { action: 'kms:Decrypt', resource: keyArn(), context: { 'kms:ViaService': `ec2.${PACKAGE_REGION}.amazonaws.com` } }, { resourcePolicy: keyPolicy() });
    expect(direct.verdict).not.toBe('Allowed');
  });
});

interface Task {
  machine: string;
  state: string;
  resource: unknown;
  timeout?: number;
  def: any;
}

function tasks(): Task[] {
  const out: Task[] = [];
  for (const file of readdirSync(STATE_MACHINES).filter((f) => f.endsWith('.asl.yaml'))) {
    const walk = (states: Record<string, any>) => {
      for (const [state, def] of Object.entries(states)) {
        if (def.Type === 'Task') out.push({ machine: file, state, resource: def.Resource, timeout: def.TimeoutSeconds, def });
        if (def.Type === 'Parallel') for (const b of def.Branches) walk(b.States);
        if (def.Type === 'Map') walk((def.ItemProcessor ?? def.Iterator).States);
      }
    };
    walk(parse(readFileSync(new URL(file, STATE_MACHINES), 'utf8')).States);
  }
  return out;
}

const functionOf = (resource: unknown): string | undefined => (resource as any)?.['Fn::GetAtt']?.[0];
const lambdaTimeout = (key: string): number => template.Resources[`${key[0]!.toUpperCase()}${key.slice(1)}LambdaFunction`]!.Properties.Timeout;

describe('Task timeouts and payloads (statemachine/*.asl.yaml against serverless.yml)', () => {
  it('every Lambda Task times out a little after its Lambda (above it, at most 60 s more)', () => {
    // A Task that gives up before its Lambda leaves the Lambda running while the state machine moves on
    // (a cutover still blocking writes while "Report the failure" runs); a Lambda's own timeout ends as
    // States.TaskFailed (Sandbox.Timedout), which Retry/Catch handle. Much more than the Lambda only
    // delays the failure.
    const lambdaTasks = tasks().filter((t) => functionOf(t.resource));
    expect(lambdaTasks.length).toBeGreaterThan(25);
    const wrong = lambdaTasks
      .map((t) => ({ where: `${t.machine}: ${t.state}`, task: t.timeout, lambda: lambdaTimeout(functionOf(t.resource)!) }))
      .filter((t) => !(typeof t.task === 'number' && t.task > t.lambda && t.task <= t.lambda + 60));
    expect(wrong).toEqual([]);
  });

  it('every other Task has a timeout too (static or from the validated input)', () => {
    for (const t of tasks().filter((x) => !functionOf(x.resource))) {
      expect(t.def.TimeoutSeconds ?? t.def.TimeoutSecondsPath, `${t.machine}: ${t.state}`).toBeDefined();
      if (t.def.TimeoutSecondsPath) expect(t.def.TimeoutSecondsPath, `${t.machine}: ${t.state}`).toMatch(/^\$\.input\.derived\./);
    }
  });

  it('Lambda timeouts fit their callers: at most 900 s (Lambda), the HTTP API functions under 30 s (API Gateway’s integration limit)', () => {
    for (const [id, fn] of ofType('AWS::Lambda::Function') as [string, any][]) {
      expect(fn.Properties.Timeout, id).toBeLessThanOrEqual(900);
      if (id.startsWith('Api')) expect(fn.Properties.Timeout, id).toBeLessThan(30);
    }
  });

  it('keeps the state small (256 KiB per state): results are namespaced, a child execution returns only what is needed', () => {
    for (const t of tasks()) {
      const where = `${t.machine}: ${t.state}`;
      // The first step replaces the raw input by {input, accounts}; every other result goes under its own key.
      if (!(t.machine === 'migration.asl.yaml' && t.state === 'Validate the input')) expect(t.def.ResultPath, where).toMatch(/^\$\.[A-Za-z]/);
      // startExecution.sync:2 returns the child's whole description, its input (the parent state) included.
      if (String(t.resource).includes(':states:startExecution.sync')) expect(t.def.ResultSelector, where).toBeDefined();
      // The task-token request gets the state and the token only; its answer is what SendTaskSuccess sends.
      if (String(t.resource).endsWith('.waitForTaskToken')) expect(Object.keys(t.def.Parameters.Payload).sort(), where).toEqual(['state.$', 'taskToken.$']);
    }
  });
});

describe('no `*` action anywhere in the packaged template', () => {
  it('no Allow statement grants a wildcard action: roles, managed policies, key policies, trust and bucket policies', () => {
    // A Deny may be broad (osls's deployment bucket policy denies s3:* without TLS); a grant may not.
    const actions: { where: string; action: string }[] = [];
    const walk = (where: string, v: unknown) => {
      if (Array.isArray(v)) v.forEach((x) => walk(where, x));
      else if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if ('Effect' in o && ('Action' in o || 'NotAction' in o)) {
          if (o.Effect === 'Allow' && o.NotAction) actions.push({ where, action: `NotAction ${JSON.stringify(o.NotAction)}` });
          if (o.Effect === 'Allow') for (const a of [o.Action ?? []].flat()) actions.push({ where, action: String(a) });
          return;
        }
        Object.values(o).forEach((x) => walk(where, x));
      }
    };
    for (const [id, r] of Object.entries(template.Resources)) walk(id, r.Properties);
    expect(actions.length).toBeGreaterThan(100);
    expect(actions.filter((a) => a.action.includes('*') || a.action.startsWith('NotAction'))).toEqual([]);
  });
});
