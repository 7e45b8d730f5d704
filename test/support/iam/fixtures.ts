// The test deployment the simulations evaluate: the pipeline's stack in TGT (packaged template), the
// source-account role in SRC deployed with the parameters crossAccountState uses, and the resource-side
// policies AWS evaluates for the cross-account calls.
import { SOURCE_ARN, SOURCE_KEY, SOURCE_SECRET, SOURCE_SG, REGION, SRC, TGT, ASSUMED_KEY_ID } from '../../aws/mock-fixtures.js';
import { targetStatements } from '../../../shared/aws/key-policy.js';
import { defaultKeyPolicy, type ResourcePolicyLookup, type SimulationSetup } from './simulate.js';
import { packagedRoles, recordedCalls, sourceAccessRole, type PackagedRoles, type SourceRole } from './roles.js';
import type { AwsStub } from 'aws-sdk-client-mock';
import type { RecordedCall, RequestFacts } from './requests.js';

const SNAPSHOT_KEY = `arn:aws:kms:eu-west-1:${SRC}:key/5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b`;
const SHARE_ARN = `arn:aws:ram:${REGION}:${SRC}:resource-share/7ab63972-b505-7e2a-420d-6f5d3EXAMPLE`;

/** source-account/role.yaml as the README tells the source account to deploy it (every optional part on). */
export const SOURCE_ROLE_PARAMETERS = {
  TargetAccountId: TGT,
  ExternalId: 'orders-2026-12-3f9c',
  SourceClusterArn: SOURCE_ARN,
  SourceKmsKeyArn: SOURCE_KEY,
  SnapshotKmsKeyArn: SNAPSHOT_KEY,
  AdminSecretArn: SOURCE_SECRET,
  WriteBlockSecurityGroupId: SOURCE_SG,
  AllowSourceShutdown: 'true',
};

export const FACTS: RequestFacts = {
  resourceShareNames: { [SHARE_ARN]: 'crossmove-orders-2026-12', [`arn:aws:ram:${REGION}:${SRC}:resource-share/x`]: 'crossmove-orders-2026-12' },
};

/** The source keys' policies once "Let the target use the KMS key" added its statements (shared/aws/key-policy.ts). */
function sourceKeyPolicy(): any {
  const policy = defaultKeyPolicy(SRC);
  return { ...policy, Statement: [...policy.Statement, ...targetStatements('CrossmoveTargetAccessorders202612', TGT)] };
}

/**
 * What AWS evaluates on the resource side of the pipeline's calls:
 * - sts:AssumeRole of the source role: its trust policy (role.yaml);
 * - a source-account KMS key used by the target account (through RDS): the key policy with crossmove's statement;
 * - the source cluster (RAM share) and the source snapshot (restore attribute) used from the target
 *   account: shared by their owner, no policy document; the caller's identity policy is what is evaluated.
 */
export function crossAccountResources(source: SourceRole): ResourcePolicyLookup {
  return (request, call) => {
    if (request.action === 'sts:AssumeRole' && request.resource === source.principal.arn) return source.trustPolicy;
    const owner = request.resource.split(':')[4];
    if (request.action.startsWith('kms:') && owner === SRC && call.account === TGT) return sourceKeyPolicy();
    if (owner === SRC && call.account === TGT && (request.action.startsWith('rds:') || request.action.startsWith('ram:AcceptResourceShareInvitation'))) return 'shared';
    return undefined;
  };
}

export interface Deployment {
  packaged: PackagedRoles;
  source: SourceRole;
  /** The simulation of calls made by `functionKey` (target-account calls with its role, source-account ones with the source role). */
  setupFor: (functionKey: string) => SimulationSetup;
  /** The calls the mocks recorded, attributed to `functionKey` or to the source role by their credentials. */
  callsOf: (functionKey: string, mocks: Record<string, AwsStub<any, any, any>>) => Promise<RecordedCall[]>;
}

export async function testDeployment(): Promise<Deployment> {
  const packaged = await packagedRoles(TGT);
  const source = sourceAccessRole(SRC, REGION, SOURCE_ROLE_PARAMETERS);
  return {
    packaged,
    source,
    setupFor: (functionKey) => ({
      principalFor: (call) => (call.account === SRC ? source.principal : packaged.functionRole(functionKey)),
      facts: FACTS,
      resourcePolicy: crossAccountResources(source),
    }),
    callsOf: (functionKey, mocks) =>
      recordedCalls(
        mocks,
        (key) => (key === ASSUMED_KEY_ID ? SRC : TGT),
        (account) => (account === SRC ? `${functionKey} (source role)` : functionKey),
      ),
  };
}
