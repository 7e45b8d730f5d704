// The roles the simulation evaluates, resolved with test values: every function's role from the packaged
// template (`npm run package`), and the source account's role from source-account/role.yaml (a
// CloudFormation template of its own, deployed with the parameters below).
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { AwsStub } from 'aws-sdk-client-mock';
import { PACKAGE_REGION, PACKAGE_STAGE, packagedTemplate, type Template } from './packaged-template.js';
import { TemplateResolver, rolesOf, type RolePolicies } from './cloudformation.js';
import type { Principal } from './simulate.js';
import type { RecordedCall } from './requests.js';

export interface PackagedRoles {
  template: Template;
  resolver: TemplateResolver;
  roles: Record<string, RolePolicies>;
  /** The role a function runs with (serverless.yml functions.<key>.role). */
  functionRole: (functionKey: string) => Principal;
  stage: string;
  region: string;
  account: string;
}

const logicalId = (key: string) => `${key[0]!.toUpperCase()}${key.slice(1)}`;

export async function packagedRoles(account: string): Promise<PackagedRoles> {
  const template = await packagedTemplate();
  const resolver = new TemplateResolver(template, { region: PACKAGE_REGION, account, stackName: `crossmove-${PACKAGE_STAGE}` });
  const roles = rolesOf(template, resolver);
  return {
    template,
    resolver,
    roles,
    stage: PACKAGE_STAGE,
    region: PACKAGE_REGION,
    account,
    functionRole: (functionKey) => {
      const fn = template.Resources[`${logicalId(functionKey)}LambdaFunction`];
      if (!fn) throw new Error(`the packaged template has no function ${functionKey}`);
      const roleId = fn.Properties.Role?.['Fn::GetAtt']?.[0];
      const role = roles[roleId];
      if (!role) throw new Error(`${functionKey}: role ${JSON.stringify(fn.Properties.Role)} is not a role of the template`);
      return { arn: role.roleArn, account, policies: role.policies };
    },
  };
}

export interface SourceRole {
  principal: Principal;
  trustPolicy: any;
  template: Template;
  resolver: TemplateResolver;
}

const sourceRoleTemplate = (): Template => parse(readFileSync(new URL('../../../source-account/role.yaml', import.meta.url), 'utf8')) as Template;

/** Why CloudFormation would refuse to deploy source-account/role.yaml with these parameters (its Rules); empty: it deploys. */
export function sourceRoleRefusals(account: string, region: string, parameters: Record<string, string>): string[] {
  return new TemplateResolver(sourceRoleTemplate(), { region, account, parameters }).ruleFailures();
}

/** source-account/role.yaml deployed in `account` with these parameters; throws what CloudFormation would refuse (its Rules). */
export function sourceAccessRole(account: string, region: string, parameters: Record<string, string>): SourceRole {
  const template = sourceRoleTemplate();
  const resolver = new TemplateResolver(template, { region, account, parameters });
  const refused = resolver.ruleFailures();
  if (refused.length) throw new Error(`CloudFormation would refuse source-account/role.yaml with ${JSON.stringify(parameters)}: ${refused.join('; ')}`);
  const role = rolesOf(template, resolver).SourceAccessRole!;
  const trustPolicy = resolver.resolve(template.Resources.SourceAccessRole!.Properties.AssumeRolePolicyDocument);
  return { principal: { arn: role.roleArn, account, policies: role.policies }, trustPolicy, template, resolver };
}

type Credentials = { accessKeyId: string };
type MockedClient = { config: { credentials: () => Promise<Credentials>; region: () => Promise<string> | string } };

/** The calls aws-sdk-client-mock recorded, with the region and account of the client that sent each
 * (the account from its credentials: `accountOf(accessKeyId)`). */
export async function recordedCalls(
  mocks: Record<string, AwsStub<any, any, any>>,
  accountOf: (accessKeyId: string) => string,
  callerOf: (account: string) => string,
): Promise<RecordedCall[]> {
  const out: RecordedCall[] = [];
  for (const [service, mock] of Object.entries(mocks)) {
    for (const call of mock.calls()) {
      const client = call.thisValue as MockedClient;
      const credentials = await client.config.credentials();
      const region = typeof client.config.region === 'function' ? await client.config.region() : client.config.region;
      const account = accountOf(credentials.accessKeyId);
      const command = call.args[0] as { input: Record<string, any>; constructor: { name: string } };
      out.push({ service, operation: command.constructor.name.replace(/Command$/, ''), input: command.input, region, account, caller: callerOf(account) });
    }
  }
  return out;
}

/** The simulation of calls made by the stack's own functions (caller = function key), with the stack's
 * notifications topic encrypted by its key: publishing to it also needs the key (through SNS). */
export function stackSimulation(packaged: PackagedRoles): import('./simulate.js').SimulationSetup {
  const p = 'aws';
  const topic = `arn:${p}:sns:${packaged.region}:${packaged.account}:crossmove-${packaged.stage}-notifications`;
  const keyId = packaged.template.Resources.NotificationsKey ? packaged.resolver.resolve({ 'Fn::GetAtt': ['NotificationsKey', 'Arn'] }) : undefined;
  const keyPolicy = keyId ? packaged.resolver.resolve(packaged.template.Resources.NotificationsKey!.Properties.KeyPolicy) : undefined;
  return {
    principalFor: (call) => packaged.functionRole(call.caller),
    facts: { topicKeys: keyId ? { [topic]: keyId } : {} },
    resourcePolicy: (request) => (keyId && request.resource === keyId ? keyPolicy : undefined),
  };
}

/** Every action a deployed role's policies grant (sorted, once each). */
export function grantedActions(principal: Principal): string[] {
  const actions = principal.policies.flatMap((p) => (p.policy.Statement ?? []).flatMap((s: any) => (Array.isArray(s.Action) ? s.Action : [s.Action])));
  return [...new Set<string>(actions)].sort();
}
