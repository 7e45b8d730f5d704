// Resolves the CloudFormation intrinsic functions in a template's policies with test values, as
// CloudFormation would at deploy time: Ref (parameters, pseudo parameters, resources), Fn::GetAtt,
// Fn::Sub (both forms), Fn::Join, Fn::Split, Fn::Select, Fn::If with the template's Conditions, and
// AWS::NoValue (the property or list item disappears). An unknown reference throws: a policy that
// names something the test did not give a value for must not be silently simulated as something else.
import type { Template } from './packaged-template.js';

export interface StackEnv {
  partition?: string;
  region: string;
  account: string;
  stackName?: string;
  /** Template parameters by name (source-account/role.yaml). */
  parameters?: Record<string, string>;
}

const NO_VALUE = Symbol('AWS::NoValue');

/** What Ref and Fn::GetAtt return for each resource of the template (the attributes policies use). */
export function resourceValues(template: Template, env: StackEnv): { refs: Record<string, string>; atts: Record<string, string> } {
  const p = env.partition ?? 'aws';
  const refs: Record<string, string> = {};
  const atts: Record<string, string> = {};
  for (const [id, r] of Object.entries(template.Resources)) {
    const props = r.Properties ?? {};
    const named = (key: string, fallback: string) => (typeof props[key] === 'string' ? (props[key] as string) : fallback);
    switch (r.Type) {
      case 'AWS::IAM::Role': {
        const name = named('RoleName', `${env.stackName ?? 'stack'}-${id}`);
        refs[id] = name;
        atts[`${id}.Arn`] = `arn:${p}:iam::${env.account}:role/${name}`;
        break;
      }
      case 'AWS::DynamoDB::Table': {
        const name = named('TableName', id);
        refs[id] = name;
        atts[`${id}.Arn`] = `arn:${p}:dynamodb:${env.region}:${env.account}:table/${name}`;
        break;
      }
      case 'AWS::SNS::Topic': {
        const arn = `arn:${p}:sns:${env.region}:${env.account}:${named('TopicName', id)}`;
        refs[id] = arn;
        atts[`${id}.TopicArn`] = arn;
        break;
      }
      case 'AWS::KMS::Key': {
        // A fixed, well-formed key id per logical id.
        const keyId = `0000${createKeyId(id)}`.slice(-8) + '-1111-4222-8333-444455556666';
        refs[id] = keyId;
        atts[`${id}.KeyId`] = keyId;
        atts[`${id}.Arn`] = `arn:${p}:kms:${env.region}:${env.account}:key/${keyId}`;
        break;
      }
      case 'AWS::KMS::Alias':
        refs[id] = named('AliasName', `alias/${id}`);
        break;
      case 'AWS::Lambda::Function': {
        const name = named('FunctionName', id);
        refs[id] = name;
        atts[`${id}.Arn`] = `arn:${p}:lambda:${env.region}:${env.account}:function:${name}`;
        break;
      }
      case 'AWS::StepFunctions::StateMachine': {
        const arn = `arn:${p}:states:${env.region}:${env.account}:stateMachine:${named('StateMachineName', id)}`;
        refs[id] = arn;
        atts[`${id}.Arn`] = arn;
        atts[`${id}.Name`] = named('StateMachineName', id);
        break;
      }
      case 'AWS::CloudWatch::Alarm': {
        const name = named('AlarmName', id);
        refs[id] = name;
        atts[`${id}.Arn`] = `arn:${p}:cloudwatch:${env.region}:${env.account}:alarm:${name}`;
        break;
      }
      case 'AWS::ApiGatewayV2::Api':
        refs[id] = 'a1b2c3d4e5';
        break;
      default:
        refs[id] = id;
    }
  }
  return { refs, atts };
}

function createKeyId(id: string): string {
  let h = 0;
  for (const c of id) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h.toString(16);
}

export class TemplateResolver {
  private readonly refs: Record<string, string>;
  private readonly atts: Record<string, string>;
  private readonly pseudo: Record<string, string>;

  constructor(
    private readonly template: Template,
    readonly env: StackEnv,
  ) {
    ({ refs: this.refs, atts: this.atts } = resourceValues(template, env));
    this.pseudo = {
      'AWS::Partition': env.partition ?? 'aws',
      'AWS::Region': env.region,
      'AWS::AccountId': env.account,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': env.stackName ?? 'stack',
    };
  }

  /** The value CloudFormation would deploy; properties and list items that resolve to NoValue are dropped. */
  resolve<T = any>(value: unknown): T {
    const out = this.walk(value);
    return (out === NO_VALUE ? undefined : out) as T;
  }

  condition(name: string): boolean {
    const c = this.template.Conditions?.[name];
    if (c === undefined) throw new Error(`unknown condition ${name}`);
    return this.evalCondition(c);
  }

  /**
   * The AssertDescription of every template Rule whose assertion fails with these parameters: CloudFormation
   * refuses to create such a stack before anything is made (Rules use the condition functions).
   */
  ruleFailures(): string[] {
    const rules = ((this.template as any).Rules ?? {}) as Record<string, { RuleCondition?: unknown; Assertions: { Assert: unknown; AssertDescription?: string }[] }>;
    const failures: string[] = [];
    for (const [name, rule] of Object.entries(rules)) {
      if (rule.RuleCondition !== undefined && !this.evalCondition(rule.RuleCondition)) continue;
      for (const a of rule.Assertions) if (!this.evalCondition(a.Assert)) failures.push(`${name}: ${a.AssertDescription ?? 'assertion failed'}`);
    }
    return failures;
  }

  private evalCondition(c: any): boolean {
    if (c['Fn::Equals']) {
      const [a, b] = c['Fn::Equals'].map((x: unknown) => this.walk(x));
      return a === b;
    }
    if (c['Fn::Not']) return !this.evalCondition(c['Fn::Not'][0]);
    if (c['Fn::And']) return c['Fn::And'].every((x: unknown) => this.evalCondition(x));
    if (c['Fn::Or']) return c['Fn::Or'].some((x: unknown) => this.evalCondition(x));
    if (c.Condition) return this.condition(c.Condition);
    throw new Error(`unsupported condition ${JSON.stringify(c)}`);
  }

  private ref(name: string): string | typeof NO_VALUE {
    if (name === 'AWS::NoValue') return NO_VALUE;
    if (name in this.pseudo) return this.pseudo[name]!;
    if (this.template.Resources[name]) return this.refs[name]!;
    const params = (this.template as any).Parameters ?? {};
    if (name in params) {
      const given = this.env.parameters?.[name];
      if (given !== undefined) return given;
      if (params[name].Default !== undefined) return String(params[name].Default);
      throw new Error(`parameter ${name} has no test value and no default`);
    }
    throw new Error(`Ref to unknown ${name}`);
  }

  private getAtt(id: string, attr: string): string {
    const v = this.atts[`${id}.${attr}`];
    if (v === undefined) throw new Error(`Fn::GetAtt ${id}.${attr}: no test value`);
    return v;
  }

  private sub(text: string, vars: Record<string, unknown>): string {
    return text.replace(/\$\{([^}!]+)\}/g, (_m, name: string) => {
      if (name in vars) return String(vars[name]);
      if (name.includes('.')) {
        const [id, attr] = name.split('.', 2) as [string, string];
        return this.getAtt(id, attr);
      }
      const v = this.ref(name);
      if (v === NO_VALUE) throw new Error(`Fn::Sub of AWS::NoValue in ${text}`);
      return v;
    });
  }

  private walk(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.walk(v)).filter((v) => v !== NO_VALUE);
    if (!value || typeof value !== 'object') return value;
    const obj = value as Record<string, any>;
    const keys = Object.keys(obj);
    if (keys.length === 1) {
      const [k] = keys as [string];
      const arg = obj[k];
      switch (k) {
        case 'Ref':
          return this.ref(arg);
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? arg : String(arg).split('.');
          return this.getAtt(id, attr);
        }
        case 'Fn::Sub': {
          if (typeof arg === 'string') return this.sub(arg, {});
          const vars = Object.fromEntries(Object.entries(arg[1] ?? {}).map(([n, v]) => [n, this.walk(v)]));
          return this.sub(arg[0], vars);
        }
        case 'Fn::Join':
          return (this.walk(arg[1]) as unknown[]).join(arg[0]);
        case 'Fn::Split':
          return String(this.walk(arg[1])).split(arg[0]);
        case 'Fn::Select':
          return (this.walk(arg[1]) as unknown[])[Number(this.walk(arg[0]))];
        case 'Fn::If':
          return this.walk(this.condition(arg[0]) ? arg[1] : arg[2]);
      }
      if (k.startsWith('Fn::')) throw new Error(`unsupported intrinsic ${k}`);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      const r = this.walk(v);
      if (r !== NO_VALUE) out[k] = r;
    }
    return out;
  }
}

export interface RolePolicies {
  roleArn: string;
  /** The role's identity policies: inline policies and the managed policies that attach themselves to it. */
  policies: { name: string; policy: any }[];
}

/** Every IAM role of the template with its resolved identity policies. */
export function rolesOf(template: Template, resolver: TemplateResolver): Record<string, RolePolicies> {
  const out: Record<string, RolePolicies> = {};
  const values = resourceValues(template, resolver.env);
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::IAM::Role') continue;
    if (r.Condition && !resolver.condition(r.Condition)) continue;
    const props = resolver.resolve(r.Properties);
    out[id] = {
      // RoleName may be a parameter (role.yaml): the resolved name, else the generated one.
      roleArn: typeof props.RoleName === 'string' ? `arn:${resolver.env.partition ?? 'aws'}:iam::${resolver.env.account}:role/${props.RoleName}` : values.atts[`${id}.Arn`]!,
      policies: (props.Policies ?? []).map((p: any) => ({ name: p.PolicyName, policy: p.PolicyDocument })),
    };
  }
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::IAM::ManagedPolicy' && r.Type !== 'AWS::IAM::Policy') continue;
    for (const role of r.Properties.Roles ?? []) {
      const roleId = role.Ref as string;
      out[roleId]?.policies.push({ name: id, policy: resolver.resolve(r.Properties.PolicyDocument) });
    }
  }
  return out;
}
