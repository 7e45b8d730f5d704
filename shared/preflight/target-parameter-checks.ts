// Preflight: the cluster parameter group the clone or restored snapshot will get (in the target
// account). Given as target.dbClusterParameterGroupName, it must exist, belong to the source's engine
// family (or the restore fails after the share and key grant were made) and turn binary logging on:
// without binlogs the new cluster reports no "Binlog position from crash recovery" event (so
// replication could not start), nor could the fallback replicate from it; binlog_format is static, so
// finding out after the cluster exists is too late. Not given, crossmove creates one as a copy of the
// source's group (shared/aws/target-parameter-group.ts): this says what it will hold. Read-only.
import type { DBCluster, Parameter } from '@aws-sdk/client-rds';
import { findClusterParameter, findClusterParameterGroup, targetRdsClient } from '../aws/rds.js';
import { BINLOG_ON, madeForMigration, parameterGroupConflict, parameterGroupFamily, planCopiedParameterGroup } from '../aws/target-parameter-group.js';
import type { MigrationInput } from '../input/validate.js';
import type { TargetParameterGroupPlan } from '../state.js';
import { fail, pass, warn, type CheckOutcome } from './checks.js';

export { parameterGroupFamily };

const ID = 'target-parameter-group';

export interface TargetParameterGroupPreflight {
  checks: CheckOutcome[];
  plan?: TargetParameterGroupPlan;
}

export async function targetParameterGroupChecks(input: MigrationInput, source: DBCluster, sourceParameters: Parameter[]): Promise<TargetParameterGroupPreflight> {
  if (input.initialLoad.method === 'logical') return { checks: [] };
  const name = input.target.dbClusterParameterGroupName;
  if (!name) return copiedGroupChecks(input, source, sourceParameters);
  const rds = targetRdsClient(input);
  const group = await findClusterParameterGroup(rds, name);
  if (!group) {
    return { checks: [fail(ID, `target.dbClusterParameterGroupName ${name} does not exist in the target account and region.`, 'Create it (family of the source engine, binlog_format = ROW), name an existing cluster parameter group, or leave the field out (crossmove then creates a copy of the source\'s group).', 'ResourceNotFoundError')] };
  }
  const family = parameterGroupFamily(source.EngineVersion);
  if (family && group.DBParameterGroupFamily && group.DBParameterGroupFamily !== family) {
    return {
      checks: [
        fail(
          ID,
          `target.dbClusterParameterGroupName ${name} is of family ${group.DBParameterGroupFamily}, but the target cluster runs the source's engine ${source.EngineVersion} (family ${family}): the restore would be refused.`,
          `Give a cluster parameter group of family ${family}.`,
        ),
      ],
    };
  }
  const format = ((await findClusterParameter(rds, name, 'binlog_format'))?.ParameterValue ?? 'OFF').toUpperCase();
  if (!BINLOG_ON.has(format)) {
    return {
      checks: [
        fail(
          ID,
          `binlog_format is ${format} in target.dbClusterParameterGroupName ${name}: the new cluster would write no binlog, so it could not report the source's binlog position ("Binlog position from crash recovery") and replication could not start${input.cutover.reverseReplication ? ', nor could the fallback replicate from it after the cutover' : ''}.`,
          `Set binlog_format = ROW in ${name} (static: it applies when the new cluster's writer starts, so set it before the migration), or leave target.dbClusterParameterGroupName out: crossmove then creates ${input.names.targetClusterParameterGroupName} as a copy of the source's group.`,
          'BinlogDisabledError',
        ),
      ],
    };
  }
  return {
    checks: [pass(ID, `Target cluster parameter group ${name} (${group.DBParameterGroupFamily ?? 'family unknown'}) exists with binlog_format ${format}, so the new cluster reports its binlog position${input.cutover.reverseReplication ? ' and reverse replication can start' : ''}.`)],
    plan: { name, create: false, ...(group.DBParameterGroupFamily ? { family: group.DBParameterGroupFamily } : {}) },
  };
}

async function copiedGroupChecks(input: MigrationInput, source: DBCluster, sourceParameters: Parameter[]): Promise<TargetParameterGroupPreflight> {
  const sourceGroup = source.DBClusterParameterGroup ?? 'unknown';
  const plan = planCopiedParameterGroup(input, sourceGroup, source.EngineVersion, sourceParameters);
  if (!plan.family) {
    return { checks: [fail(ID, `The source engine version ${source.EngineVersion ?? 'unknown'} names no cluster parameter group family, so crossmove cannot create the target's group.`, 'Give target.dbClusterParameterGroupName: a cluster parameter group of the target account with binlog_format = ROW.')] };
  }
  const existing = await findClusterParameterGroup(targetRdsClient(input), plan.name);
  if (existing && !madeForMigration(existing.Description, input.migrationId)) {
    return { checks: [fail(ID, `${parameterGroupConflict(plan.name, input.migrationId)}.`, `Delete ${plan.name} or give target.dbClusterParameterGroupName.`, 'ResourceConflictError')] };
  }
  const binlog = plan.parameters!.find((p) => p.name === 'binlog_format')!.value;
  const checks: CheckOutcome[] = [
    pass(
      ID,
      `target.dbClusterParameterGroupName is not set: crossmove ${existing ? 'reuses' : 'creates'} cluster parameter group ${plan.name} (${plan.family}) in the target account as a copy of the source's ${sourceGroup} (${plan.parameters!.length} parameter(s), binlog_format ${binlog}), so the new cluster has binlogs on and keeps the source's settings.`,
    ),
  ];
  if (plan.notCopied!.length) {
    checks.push(
      warn(
        'target-parameter-group-not-copied',
        `Not copied from ${sourceGroup} into ${plan.name}: ${plan.notCopied!.map((p) => `${p.name} (${p.reason})`).join('; ')}.`,
        `Set these in ${plan.name} after the migration if the new primary needs them, or give a prepared target.dbClusterParameterGroupName.`,
      ),
    );
  }
  return { checks, plan };
}
