// "Fall back": the operator's action after a cutover (API or CLI), never part of the normal run. Picks
// the write blocker for the target, the way to re-enable the source, runs the critical section and
// points DNS back at the source.
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { Route53Client } from '@aws-sdk/client-route-53';
import { switchDnsBack } from '../../aws/dns.js';
import { targetClientConfig } from '../../aws/source-account.js';
import { sourceAdminCredentials, targetAdminCredentials } from '../../db-credentials.js';
import { sideAddresses } from '../../endpoints.js';
import { FallbackNotReadyError } from '../../errors.js';
import type { FallbackResult, MigrationState } from '../../state.js';
import type { Conn } from '../connection.js';
import { connectTarget } from '../connect.js';
import type { Dialect } from '../dialect.js';
import { runFallback } from '../fallback.js';
import { sourceEnabler } from '../fallback-source.js';
import { reverseUserName } from '../replication-user.js';
import { ReadOnlyBlocker, type WriteBlocker } from '../write-block.js';
import { withSides } from './sides.js';

interface FallbackOptions {
  /** How target writes are blocked. Default: read-only where the engine allows it; Aurora needs security-group + securityGroupId. */
  writeBlock?: {
    method?: 'read-only' | 'security-group';
    /** The TARGET cluster's VPC security group (target account) whose inbound MySQL rules are removed. */
    securityGroupId?: string;
    /** Application users whose sessions on the target are not killed. */
    keepUsers?: string[];
  };
}

/** The migration's final state (execution output) plus the operator's choices. */
export type FallbackState = MigrationState & { fallbackOptions?: FallbackOptions };

export type TargetBlockerFactory = (state: FallbackState, target: Conn, dialect: Dialect) => Promise<WriteBlocker>;

export const defaultTargetBlocker: TargetBlockerFactory = async (state, target, dialect) => {
  const wb = state.fallbackOptions?.writeBlock;
  const method = wb?.method ?? (dialect.canSetReadOnly ? 'read-only' : 'security-group');
  if (method === 'read-only') {
    if (!dialect.canSetReadOnly) {
      throw new FallbackNotReadyError(`Fallback refused, nothing changed: ${dialect.engine} cannot be made read-only; set fallbackOptions.writeBlock.method security-group with securityGroupId (the target cluster's security group)`);
    }
    return new ReadOnlyBlocker(target, () => connectTarget(state));
  }
  if (!wb?.securityGroupId) {
    throw new FallbackNotReadyError("Fallback refused, nothing changed: the security-group write block needs fallbackOptions.writeBlock.securityGroupId (the target cluster's VPC security group)");
  }
  // The target cluster's own port (a clone or restore keeps the source's).
  const port = state.clone?.port ?? state.input.target.endpoint?.port ?? 3306;
  // Loaded only for a security-group block: a read-only fallback's cold start does not evaluate the EC2 client.
  const [{ ec2Client }, { SecurityGroupBlocker }] = await Promise.all([import('../../aws/ec2-client.js'), import('../../aws/write-block-sg.js')]);
  return new SecurityGroupBlocker(ec2Client(targetClientConfig(state.input)), wb.securityGroupId, port);
};

function assertFallbackPossible(state: FallbackState): void {
  if (state.cutover?.ok !== true || state.cutover.rolledBack) {
    throw new FallbackNotReadyError(`Fallback refused, nothing changed: the state shows no successful cutover (cutover.ok ${state.cutover?.ok ?? 'missing'}); pass the migration's final output`);
  }
  if (!state.input.cutover.reverseReplication || state.reverse?.started !== true) {
    throw new FallbackNotReadyError(
      state.input.cutover.reverseReplication
        ? 'Fallback refused, nothing changed: reverse replication was not started ($.reverse missing: the migration ended with unfinished steps), so the source lacks the writes made on the target. Start the migration again with the same input: it resumes after the cutover and starts reverse replication; then fall back.'
        : 'Fallback refused, nothing changed: reverse replication is off (cutover.reverseReplication false), so the source lacks the writes made on the target. Move back by hand with a new migration in the other direction.',
    );
  }
}

export async function fallBackStep(
  state: FallbackState,
  opts: {
    blocker?: TargetBlockerFactory;
    beforeBlock?: () => Promise<void>;
    /** Test/bench seam, never set in production code paths (see FallbackDeps.afterFinalPosition). */
    afterFinalPosition?: () => Promise<void>;
    route53?: Route53Client;
    ec2?: EC2Client;
  } = {},
): Promise<FallbackResult> {
  assertFallbackPossible(state);
  const [sourceAdmin, targetAdmin] = await Promise.all([sourceAdminCredentials(state), targetAdminCredentials(state)]);
  const userName = state.input.replication.userName;
  const result = await withSides(state, { target: true, source: true }, async ({ source, target }) =>
    runFallback({
      source: source!.conn,
      target: target!.conn,
      sourceDialect: source!.dialect,
      targetDialect: target!.dialect,
      input: state.input,
      blocker: await (opts.blocker ?? defaultTargetBlocker)(state, target!.conn, target!.dialect),
      enableSource: await sourceEnabler(state, source!.conn, source!.dialect, target!.conn, opts.ec2),
      crossmoveUsers: [sourceAdmin.username, targetAdmin.username, userName, reverseUserName(userName)],
      keepUsers: state.fallbackOptions?.writeBlock?.keepUsers,
      beforeBlock: opts.beforeBlock,
      afterFinalPosition: opts.afterFinalPosition,
      addresses: sideAddresses(state),
    }),
  );
  return { ...result, dns: await switchDnsBack(state, opts.route53) };
}
