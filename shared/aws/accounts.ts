// Which accounts and regions a migration spans. The source account and region come from
// source.clusterArn; the target account is whoever runs the pipeline (STS), asked only when AWS is
// involved, so endpoint-only (local) runs make no AWS call at all.
import type { FieldIssue } from '../errors.js';
import type { MigrationInput } from '../input/validate.js';
import type { Accounts } from '../state.js';
import { accountOfArn, regionOfArn, targetClientConfig } from './source-account.js';
import type { ClientConfig } from './source-account.js';

export async function resolveAccounts(input: MigrationInput, whoAmI?: (config: ClientConfig) => Promise<string>): Promise<Accounts> {
  const arn = input.source.clusterArn;
  if (!arn) return { source: null, target: null, sameAccount: true, sourceRegion: null, targetRegion: null };
  const source = accountOfArn(arn)!;
  const sourceRegion = regionOfArn(arn)!;
  const config = targetClientConfig(input);
  const targetRegion = config.region ?? sourceRegion;
  // STS loaded only here: an endpoint-only input never needs it.
  const ask = whoAmI ?? (await import('./sts.js')).callerAccount;
  const target = await ask({ ...config, region: targetRegion });
  return { source, target, sameAccount: source === target, sourceRegion, targetRegion };
}

/** Rules that need the accounts (so they cannot live in the zod schema). Nothing has been changed yet. */
export function accountIssues(input: MigrationInput, accounts: Accounts): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (!input.source.clusterArn) return issues;
  const role = input.source.accessRoleArn;
  if (!accounts.sameAccount && !role) {
    issues.push({
      field: 'source.accessRoleArn',
      message: `required: the source cluster is in account ${accounts.source}, the pipeline runs in ${accounts.target}; deploy source-account/role.yaml in ${accounts.source} and give its role ARN`,
    });
  }
  if (role && accountOfArn(role) !== accounts.source) {
    issues.push({ field: 'source.accessRoleArn', message: `must be a role in the source account ${accounts.source} (got account ${accountOfArn(role)})` });
  }
  if (role && !input.source.externalId) {
    issues.push({ field: 'source.externalId', message: 'required with source.accessRoleArn (the role trusts the pipeline only with this external id)' });
  }
  if (input.initialLoad.method === 'clone' && accounts.targetRegion !== accounts.sourceRegion) {
    issues.push({
      field: 'initialLoad.method',
      message: `clone works only within one region (source ${accounts.sourceRegion}, target ${accounts.targetRegion}); use snapshot for a cross-region move`,
    });
  }
  return issues;
}
