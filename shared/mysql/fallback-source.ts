// Making the old source writable again at fallback: the inverse of the write block the cutover put on
// it. read_only (MySQL, MariaDB) is switched off; a security-group block (Aurora) is undone from the
// rules the cutover stored in its past-point-of-no-return marker on the target (the marker rows are
// the only record of what was removed).
import type { EC2Client } from '@aws-sdk/client-ec2';
import { sourceClientConfig } from '../aws/source-account.js';
import { FallbackNotReadyError } from '../errors.js';
import type { MigrationState } from '../state.js';
import type { Conn } from './connection.js';
import type { Dialect } from './dialect.js';
import { CUTOVER_LOG, readSwitchMarker } from './switch-log.js';
import { setReadOnly } from './replication.js';

/** The write-block plan the cutover stored before its point of no return, or null. */
async function cutoverBlockPlan(target: Conn, schema: string, migrationId: string): Promise<unknown> {
  return (await readSwitchMarker(target, schema, migrationId, CUTOVER_LOG, 'past-point-of-no-return'))?.blockState ?? null;
}

export type SourceEnabler = () => Promise<void>;

export async function sourceEnabler(state: MigrationState, source: Conn, sourceDialect: Dialect, target: Conn, ec2?: EC2Client): Promise<SourceEnabler> {
  const wb = state.input.cutover.writeBlock;
  const method = wb?.method ?? (sourceDialect.aurora ? 'security-group' : 'read-only');
  if (method === 'read-only') return async () => void (await setReadOnly(source, sourceDialect, false));
  if (!wb?.securityGroupId) {
    throw new FallbackNotReadyError('Fallback refused, nothing changed: the source was blocked by security group but cutover.writeBlock.securityGroupId is not in the input');
  }
  const plan = await cutoverBlockPlan(target, state.input.names.heartbeatSchema, state.input.migrationId);
  if (!plan) {
    throw new FallbackNotReadyError(
      `Fallback refused, nothing changed: the cutover's record of the inbound rules it removed from ${wb.securityGroupId} is missing on the target (${state.input.names.heartbeatSchema}.cutover_log); restore the rules by hand, then fall back.`,
    );
  }
  // Loaded only for a security-group block (see cut-over.ts).
  const [{ ec2Client }, { SecurityGroupBlocker }] = await Promise.all([import('../aws/ec2-client.js'), import('../aws/write-block-sg.js')]);
  const blocker = new SecurityGroupBlocker(ec2 ?? ec2Client(await sourceClientConfig(state.input)), wb.securityGroupId);
  return async () => {
    await blocker.undo(plan);
    // Aurora ignores read_only on the writer; anywhere else it may have been set too.
    if (sourceDialect.canSetReadOnly) await setReadOnly(source, sourceDialect, false);
  };
}
