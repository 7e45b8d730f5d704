// "Cut over": picks the write blocker for the source's engine and runs the critical section.
import { EC2Client } from '@aws-sdk/client-ec2';
import { CutoverNotReadyError } from '../../errors.js';
import { sourceClientConfig } from '../../aws/source-account.js';
import { sourceAdminCredentials, targetAdminCredentials } from '../../db-credentials.js';
import type { CutoverResult, MigrationState } from '../../state.js';
import type { Conn } from '../connection.js';
import { runCutover } from '../cutover.js';
import type { Dialect } from '../dialect.js';
import { reverseUserName } from '../replication-user.js';
import { SecurityGroupBlocker } from '../write-block-sg.js';
import { ReadOnlyBlocker, type WriteBlocker } from '../write-block.js';
import { withSides } from './sides.js';

export type BlockerFactory = (state: MigrationState, source: Conn, dialect: Dialect) => Promise<WriteBlocker>;

export const defaultBlocker: BlockerFactory = async (state, source, dialect) => {
  const wb = state.input.cutover.writeBlock;
  const method = wb?.method ?? (dialect.aurora ? 'security-group' : 'read-only');
  if (method === 'read-only') {
    if (!dialect.canSetReadOnly) {
      throw new CutoverNotReadyError(`Cutover refused, nothing changed: ${dialect.engine} cannot be made read-only; set cutover.writeBlock.method to security-group with securityGroupId`);
    }
    return new ReadOnlyBlocker(source);
  }
  if (!wb?.securityGroupId) {
    throw new CutoverNotReadyError('Cutover refused, nothing changed: the security-group write block needs cutover.writeBlock.securityGroupId (the source cluster\'s VPC security group)');
  }
  const config = await sourceClientConfig(state.input);
  return new SecurityGroupBlocker(new EC2Client({ ...config }), wb.securityGroupId);
};

export async function cutOverStep(state: MigrationState, opts: { blocker?: BlockerFactory; beforeBlock?: () => Promise<void> } = {}): Promise<CutoverResult> {
  const [sourceAdmin, targetAdmin] = await Promise.all([sourceAdminCredentials(state), targetAdminCredentials(state)]);
  const userName = state.input.replication.userName;
  return withSides(state, { target: true, source: true }, async ({ source, target }) =>
    runCutover({
      source: source!.conn,
      target: target!.conn,
      sourceDialect: source!.dialect,
      targetDialect: target!.dialect,
      input: state.input,
      blocker: await (opts.blocker ?? defaultBlocker)(state, source!.conn, source!.dialect),
      crossmoveUsers: [sourceAdmin.username, targetAdmin.username, userName, reverseUserName(userName)],
      beforeBlock: opts.beforeBlock,
    }),
  );
}
