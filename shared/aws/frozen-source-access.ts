// RDS in the SOURCE account for the logical copy's frozen source ("Prepare/Check the frozen source",
// its preflight and its cleanup): the assumed role's client, whose refusals (AccessDenied) become
// FrozenSourceAccessDeniedError naming the call, the resource, the role and the redeployment of
// source-account/role.yaml that grants it. A role deployed for another kind refuses exactly these
// calls, and the raw AWS error does not say which template parameter is missing.
import type { RDSClient } from '@aws-sdk/client-rds';
import type { MigrationInput } from '../input/validate.js';
import { FrozenSourceAccessDeniedError } from '../errors.js';
import { errorName } from './call.js';
import { sourceRdsClient } from './rds.js';
import { accountOfArn, regionOfArn } from './source-account.js';

export type MadeFrozenSourceKind = 'rds-replica' | 'source-clone';

/** The names AWS gives a refused call: RDS (query protocol) `AccessDenied`; JSON services `AccessDeniedException`. */
const DENIED = new Set(['AccessDenied', 'AccessDeniedException']);

export const isAccessDenied = (err: unknown): boolean => DENIED.has(errorName(err));

type FrozenInput = Pick<MigrationInput, 'source' | 'migrationId' | 'initialLoad'>;

/** The template parameters a kind needs, with this input's values. */
function redeployHint(input: FrozenInput, kind: MadeFrozenSourceKind): string {
  const needs = kind === 'rds-replica'
    ? `SourceInstanceArn=${input.initialLoad.frozenSource.sourceInstanceArn ?? '<initialLoad.frozenSource.sourceInstanceArn>'}`
    : `SourceClusterArn=${input.source.clusterArn ?? '<source.clusterArn>'}`;
  return `redeploy source-account/role.yaml with FrozenSource=${kind} and ${needs} (docs/deploying.md, "The source-account role per source kind")`;
}

/** The resource a refused command names: the one AWS's message gives, else the command's identifier as an ARN. */
function resourceOf(command: { input?: Record<string, unknown> }, awsMessage: string, where: { region?: string; account?: string }): string {
  const said = awsMessage.match(/on resource: (\S+)/)?.[1];
  if (said) return said;
  const i = command.input ?? {};
  const arnOf = (type: string, id: unknown) => (typeof id === 'string' ? (id.startsWith('arn:') ? id : `arn:aws:rds:${where.region ?? '?'}:${where.account ?? '?'}:${type}:${id}`) : undefined);
  return arnOf('db', i.DBInstanceIdentifier) ?? arnOf('cluster', i.DBClusterIdentifier) ?? arnOf(i.SourceType === 'db-cluster' ? 'cluster' : 'db', i.SourceIdentifier) ?? '*';
}

/** `client` with its AccessDenied refusals explained (the calls themselves unchanged). */
function explainingDenials(client: RDSClient, input: FrozenInput, kind: MadeFrozenSourceKind, region: string | undefined): RDSClient {
  const send = client.send.bind(client) as (command: any, ...rest: any[]) => Promise<any>;
  const role = input.source.accessRoleArn;
  const account = accountOfArn(role) ?? accountOfArn(input.source.clusterArn) ?? accountOfArn(input.initialLoad.frozenSource.sourceInstanceArn);
  const wrapped = Object.create(client) as RDSClient;
  (wrapped as any).send = async (command: any, ...rest: any[]) => {
    try {
      return await send(command, ...rest);
    } catch (err) {
      if (!isAccessDenied(err)) throw err;
      const call = `rds:${String(command?.constructor?.name ?? 'Unknown').replace(/Command$/, '')}`;
      const awsMessage = (err as Error).message ?? '';
      const resource = resourceOf(command, awsMessage, { region, account });
      const who = role ? `the source-account role ${role}` : "the pipeline's own role (no source.accessRoleArn: the source is in this account)";
      const fix = role ? redeployHint(input, kind) : `grant ${call} on ${resource} to the function's role (serverless.yml), as source-account/role.yaml does for FrozenSource=${kind}`;
      throw new FrozenSourceAccessDeniedError(
        `initialLoad.frozenSource kind ${kind}: ${who} may not call ${call} on ${resource} (${errorName(err)}: ${awsMessage}). Nothing was changed by this call; ${fix}, then start the migration again (what was made is reused).`,
        { cause: err },
      );
    }
  };
  return wrapped;
}

/** RDS in the source account for this kind's frozen source: the instance's region for a read replica, the cluster's for a clone. */
export async function frozenSourceRdsClient(input: FrozenInput, kind: MadeFrozenSourceKind): Promise<RDSClient> {
  const region = kind === 'rds-replica' ? regionOfArn(input.initialLoad.frozenSource.sourceInstanceArn) : regionOfArn(input.source.clusterArn);
  const client = await sourceRdsClient(input, region);
  return explainingDenials(client, input, kind, region ?? (await client.config.region()));
}
