// "Cut over": picks the write blocker for the source's engine and runs the critical section.
import { CutoverNotReadyError, CutoverRollbackFailedError } from '../../errors.js';
import { sourceClientConfig } from '../../aws/source-account.js';
import { sourceAdminCredentials, targetAdminCredentials } from '../../db-credentials.js';
import { logStep } from '../../logger.js';
import { redact } from '../../redact.js';
import type { CutoverResult, MigrationState } from '../../state.js';
import { closeQuietly, type Conn } from '../connection.js';
import { connectSource } from '../connect.js';
import { readCutoverMarker } from '../switch-log.js';
import { finishCutoverWithoutSource, runCutover } from '../cutover.js';
import { assertAttemptEnded } from '../switch-plan.js';
import type { Dialect } from '../dialect.js';
import { reverseUserName } from '../replication-user.js';
import type { SecurityGroupBlocker } from '../../aws/write-block-sg.js';
import { ReadOnlyBlocker, type WriteBlocker } from '../write-block.js';
import { openSource, openTarget, type Side } from './sides.js';
import { q } from '../connection.js';
import { applierIntegrityProblems, unsettledBeyondRecheck } from '../../verify/cutover-check.js';
import { applierLockName } from '../../verify/sync-point.js';
import { sideAddresses } from '../../endpoints.js';
import { assertNoOtherWritablePrimary } from '../primary-guard.js';

export type BlockerFactory = (state: MigrationState, source: Conn, dialect: Dialect) => Promise<WriteBlocker>;
/** The security-group blocker, made without a source connection (crash recovery runs it before connecting). */
export type SgBlockerFactory = (state: MigrationState) => Promise<SecurityGroupBlocker>;

/** Security groups whose rules the block never removes (input.cutover.writeBlock.keepSecurityGroupIds, default none). */
function keepSecurityGroupIds(state: MigrationState): string[] {
  const ids = (state.input.cutover.writeBlock as { keepSecurityGroupIds?: unknown } | undefined)?.keepSecurityGroupIds;
  return Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : [];
}

export const defaultSgBlocker: SgBlockerFactory = async (state) => {
  const wb = state.input.cutover.writeBlock;
  if (!wb?.securityGroupId) {
    throw new CutoverNotReadyError('Cutover refused, nothing changed: the security-group write block needs cutover.writeBlock.securityGroupId (the source cluster\'s VPC security group)');
  }
  const config = await sourceClientConfig(state.input);
  // The rules are on the cluster's own port (from preflight), which an explicit source.endpoint (a
  // tunnel, a proxy) need not share.
  const port = state.preflight?.sourceEndpoint?.port ?? state.input.source.endpoint?.port ?? 3306;
  // Loaded only for a security-group block: a read-only cutover's cold start does not evaluate the EC2 client.
  const [{ ec2Client }, { SecurityGroupBlocker }] = await Promise.all([import('../../aws/ec2-client.js'), import('../../aws/write-block-sg.js')]);
  return new SecurityGroupBlocker(ec2Client(config), wb.securityGroupId, port, keepSecurityGroupIds(state));
};

/** The write block the input asks for; without one, what the source's engine allows (read by the dialect, or from the input's engine). */
function blockMethod(state: MigrationState, dialect?: Dialect): 'read-only' | 'security-group' {
  const wb = state.input.cutover.writeBlock;
  const aurora = dialect ? dialect.aurora : /^aurora/.test(state.input.source.engine ?? '') || Boolean(state.input.source.clusterArn && !state.input.source.endpoint);
  return wb?.method ?? (aurora ? 'security-group' : 'read-only');
}

type SideAddresses = ReturnType<typeof sideAddresses>;

async function chooseBlocker(state: MigrationState, source: Conn, dialect: Dialect, sg: SgBlockerFactory): Promise<WriteBlocker> {
  const method = blockMethod(state, dialect);
  if (method === 'read-only') {
    if (!dialect.canSetReadOnly) {
      throw new CutoverNotReadyError(`Cutover refused, nothing changed: ${dialect.engine} cannot be made read-only; set cutover.writeBlock.method to security-group with securityGroupId`);
    }
    return new ReadOnlyBlocker(source, () => connectSource(state));
  }
  return sg(state);
}

function isSgPlan(plan: unknown): boolean {
  return typeof plan === 'object' && plan !== null && typeof (plan as { groupId?: unknown }).groupId === 'string' && Array.isArray((plan as { rules?: unknown }).rules);
}

/**
 * A previous attempt that died with the network closed may have locked this Lambda out of the source:
 * its security-group rules are restored from the target's marker BEFORE connecting to the source.
 */
async function restoreNetworkFirst(state: MigrationState, target: Side, sg: SgBlockerFactory, addresses: SideAddresses): Promise<void> {
  const marker = await readCutoverMarker(target.conn, state.input.names.heartbeatSchema, state.input.migrationId);
  if (marker?.phase !== 'in-progress' || !isSgPlan(marker.blockState)) return;
  assertAttemptEnded(marker, state.input, 'cutover');
  // Reopening the source's network makes it writable for the application again: never while the
  // target takes writes itself (it should still be the source's replica).
  await assertNoOtherWritablePrimary(
    { name: 'source', address: addresses.source },
    { name: 'target', address: addresses.target, conn: target.conn, dialect: target.dialect, replicaOfBecoming: true },
    "restore the source's inbound rules (undo a crashed cutover's write block)",
  );
  logStep('cutover: a previous attempt left the source network closed: restoring its inbound rules before connecting', {
    groupId: (marker.blockState as { groupId: string }).groupId,
  });
  try {
    await (await sg(state)).undo(marker.blockState);
  } catch (err) {
    throw new CutoverRollbackFailedError(
      redact(`A previous cutover attempt stopped midway and restoring the source's inbound rules failed: ${(err as Error).message}. Act now: restore the rules and start replication on the target by hand.`),
    );
  }
}

export async function cutOverStep(
  state: MigrationState,
  opts: {
    blocker?: BlockerFactory;
    sgBlocker?: SgBlockerFactory;
    beforeBlock?: () => Promise<void>;
    /** Test/bench seam, never set in production code paths (see CutoverDeps.afterFinalPosition). */
    afterFinalPosition?: () => Promise<void>;
  } = {},
): Promise<CutoverResult> {
  const [sourceAdmin, targetAdmin] = await Promise.all([sourceAdminCredentials(state), targetAdminCredentials(state)]);
  const userName = state.input.replication.userName;
  const sg = opts.sgBlocker ?? defaultSgBlocker;
  let target: Side | null = null;
  let source: Side | null = null;
  try {
    const addresses = sideAddresses(state);
    target = await openTarget(state);
    await restoreNetworkFirst(state, target, sg, addresses);
    try {
      source = await openSource(state);
    } catch (err) {
      // Past the point of no return only the target is needed: a source out of reach must not keep
      // the application from its new primary.
      const finished = await finishCutoverWithoutSource(target.conn, target.dialect, state.input, err as Error, {
        addresses,
        ...(blockMethod(state) === 'security-group' ? { sourceNetworkBlock: { method: 'security-group', inPlace: async () => (await sg(state)).inPlace() } } : {}),
      });
      if (finished) return finished;
      throw err;
    }
    await beforeTheBlock(state, target);
    const blocker = opts.blocker ? await opts.blocker(state, source.conn, source.dialect) : await chooseBlocker(state, source.conn, source.dialect, sg);
    return await runCutover({
      source: source.conn,
      target: target.conn,
      sourceDialect: source.dialect,
      targetDialect: target.dialect,
      input: state.input,
      blocker,
      crossmoveUsers: [sourceAdmin.username, targetAdmin.username, userName, reverseUserName(userName)],
      beforeBlock: opts.beforeBlock,
      afterFinalPosition: opts.afterFinalPosition,
      addresses,
    });
  } finally {
    await closeQuietly(source?.conn);
    await closeQuietly(target?.conn);
  }
}

/**
 * The data comparison's side of the cutover, before anything changes: the applier lock (a comparison
 * worker pausing replication for a sync point never overlaps the critical section; held until this
 * step's target connection closes) and, with cutover.verify diff, the replication settings under which
 * the replica could have dropped a change since the comparison (a refusal: fix and retry). A cutover
 * that already passed its point of no return is finished whatever these say.
 */
async function beforeTheBlock(state: MigrationState, target: Side): Promise<void> {
  const marker = await readCutoverMarker(target.conn, state.input.names.heartbeatSchema, state.input.migrationId);
  // An attempt that died midway (in-progress) is undone or finished by runCutover first: a refusal here
  // would leave the source blocked and could not say "nothing changed". The retry after it checks these.
  if (marker?.phase === 'past-point-of-no-return' || marker?.phase === 'done' || marker?.phase === 'in-progress') return;
  const lock = applierLockName(state.input.migrationId);
  const [got] = await q<{ got: number | null }>(target.conn, 'SELECT GET_LOCK(?, 30) AS got', [lock]);
  if (Number(got?.got) !== 1) throw new CutoverNotReadyError(`Cutover refused, nothing changed: another crossmove session holds ${lock} for more than 30 s (a data comparison pausing replication?)`);
  if (state.input.cutover.verify !== 'diff') return;
  const problems = await applierIntegrityProblems(target.conn, target.dialect);
  if (problems.length) {
    throw new CutoverNotReadyError(
      `Cutover refused, nothing changed: the target's replication may have skipped or rewritten changes since the data comparison (${problems.join('; ')}). Remove these settings, compare again (crossmove verify) and retry.`,
    );
  }
  const unsettled = await unsettledBeyondRecheck(target.conn, state.input);
  if (unsettled !== null) {
    throw new CutoverNotReadyError(
      `Cutover refused, nothing changed: ${unsettled} rows were still changing while the data was compared, more than the write block re-checks (verify.maxRecheckInBlock ${state.input.verify.maxRecheckInBlock}). Raise verify.maxRecheckInBlock or start the migration again when the writes are calmer, so the comparison settles them.`,
    );
  }
}
