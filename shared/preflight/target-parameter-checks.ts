// Preflight: the cluster parameter group the clone or restored snapshot will get
// (target.dbClusterParameterGroupName, in the target account). It must exist and belong to the source's
// engine family (or the restore fails after the share and key grant were made), and with reverse
// replication it must turn binary logging on: the fallback replicates from the target's binlog, and
// binlog_format is static, so finding out after the cutover is too late. Read-only.
import type { DBCluster } from '@aws-sdk/client-rds';
import { findClusterParameter, findClusterParameterGroup, targetRdsClient } from '../aws/rds.js';
import type { MigrationInput } from '../input/validate.js';
import { fail, pass, type CheckOutcome } from './checks.js';

const ID = 'target-parameter-group';
const BINLOG_ON = new Set(['ROW', 'MIXED', 'STATEMENT']);

/** aurora-mysql8.0 for 8.0.mysql_aurora.3.x, aurora-mysql5.7 for 5.7.mysql_aurora.2.x. */
export function parameterGroupFamily(engineVersion: string | undefined): string | null {
  const major = /^(\d+\.\d+)\./.exec(engineVersion ?? '')?.[1];
  return major ? `aurora-mysql${major}` : null;
}

export async function targetParameterGroupChecks(input: MigrationInput, source: DBCluster): Promise<CheckOutcome[]> {
  const name = input.target.dbClusterParameterGroupName;
  // Without one the target gets the default group; db-target-binlogs says what that means for reverse replication.
  if (!name || input.initialLoad.method === 'logical') return [];
  const rds = targetRdsClient(input);
  const group = await findClusterParameterGroup(rds, name);
  if (!group) {
    return [fail(ID, `target.dbClusterParameterGroupName ${name} does not exist in the target account and region.`, 'Create it (family of the source engine, binlog_format = ROW) or name an existing cluster parameter group.', 'ResourceNotFoundError')];
  }
  const family = parameterGroupFamily(source.EngineVersion);
  if (family && group.DBParameterGroupFamily && group.DBParameterGroupFamily !== family) {
    return [
      fail(
        ID,
        `target.dbClusterParameterGroupName ${name} is of family ${group.DBParameterGroupFamily}, but the target cluster runs the source's engine ${source.EngineVersion} (family ${family}): the restore would be refused.`,
        `Give a cluster parameter group of family ${family}.`,
      ),
    ];
  }
  const format = ((await findClusterParameter(rds, name, 'binlog_format'))?.ParameterValue ?? 'OFF').toUpperCase();
  if (input.cutover.reverseReplication && !BINLOG_ON.has(format)) {
    return [
      fail(
        ID,
        `cutover.reverseReplication is true but binlog_format is ${format} in target.dbClusterParameterGroupName ${name}: the target would write no binlog, so the fallback replication could not start after the cutover.`,
        `Set binlog_format = ROW in ${name} (static: it applies when the new cluster's writer starts, so set it before the migration), or set cutover.reverseReplication to false.`,
      ),
    ];
  }
  return [pass(ID, `Target cluster parameter group ${name} (${group.DBParameterGroupFamily ?? 'family unknown'}) exists${input.cutover.reverseReplication ? ` with binlog_format ${format}, so reverse replication can start` : ''}.`)];
}
