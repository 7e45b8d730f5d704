// The cluster parameter group of the clone or restored cluster ("Clone the cluster", "Restore the
// snapshot"). Its binary logging must be on: the new cluster's writer reports the source's binlog
// position ("Binlog position from crash recovery is <file> <position>") from the binlog recovery of its
// first start, and that happens only with binlogs on in the new cluster's own group. The Aurora User
// Guide says so for the snapshot copy ("Setting up binary log replication for Aurora MySQL", step 3:
// "Be sure to retain the same DB parameter group for your restored DB cluster as your original DB
// cluster. Doing this ensures that the copy of your DB cluster has binary logging enabled", then the
// event). A cluster created without a group gets the engine's default one, where binlog_format is OFF,
// and a cross-account clone cannot use the source's group (it is in the other account).
//
// So: a group given in target.dbClusterParameterGroupName must have binlogs on (preflight and, again,
// here before the cluster is made); without one crossmove creates `crossmove-<migrationId>` in the target
// account as a copy of the source group's own settings (binlog_format included), so the new cluster also
// keeps the source's character sets, time zone, lower_case_table_names and so on instead of silently
// getting the defaults. What the preflight decided (state.preflight.targetParameterGroup) is applied here.
import type { Parameter } from '@aws-sdk/client-rds';
import { BinlogDisabledError, PreflightFailedError, ResourceConflictError } from '../errors.js';
import type { MigrationInput } from '../input/validate.js';
import { logStep } from '../logger.js';
import type { MigrationState, TargetParameterGroupPlan } from '../state.js';
import { errorName } from './call.js';
import { findClusterParameter, findClusterParameterGroup, targetRdsClient } from './rds.js';
import { createClusterParameterGroup, setClusterParameters } from './rds-changes.js';

export const BINLOG_ON = new Set(['ROW', 'MIXED', 'STATEMENT']);

/**
 * Enhanced binlog's switches are not copied: with them the new cluster would start with enhanced binlog,
 * and "you can turn off binlog_backup and binlog_replication_globaldb only when you use enhanced binlog"
 * (Aurora User Guide, "Setting up enhanced binlog for Aurora MySQL"). A source with enhanced binlog on is
 * refused by the preflight anyway (source-enhanced-binlog).
 */
const ENHANCED_BINLOG_PARAMETERS = new Set(['aurora_enhanced_binlog', 'binlog_backup', 'binlog_replication_globaldb']);

/** aurora-mysql8.0 for 8.0.mysql_aurora.3.x, aurora-mysql5.7 for 5.7.mysql_aurora.2.x. */
export function parameterGroupFamily(engineVersion: string | undefined): string | null {
  const major = /^(\d+\.\d+)\./.exec(engineVersion ?? '')?.[1];
  return major ? `aurora-mysql${major}` : null;
}

/** The description marks a group as this migration's (the group is untagged). */
function parameterGroupDescription(migrationId: string, sourceGroup: string, clusterIdentifier: string): string {
  return `crossmove ${migrationId}: copy of ${sourceGroup} (binlogs on) for cluster ${clusterIdentifier}`;
}
export function madeForMigration(description: string | undefined, migrationId: string): boolean {
  return (description ?? '').startsWith(`crossmove ${migrationId}: `);
}

/** The group crossmove would create: the source group's own (user-set) settings, binlogs on. Pure. */
export function planCopiedParameterGroup(input: MigrationInput, sourceGroup: string, engineVersion: string | undefined, sourceParameters: Parameter[]): TargetParameterGroupPlan {
  const parameters: { name: string; value: string }[] = [];
  const notCopied: { name: string; reason: string }[] = [];
  for (const p of sourceParameters) {
    const name = p.ParameterName;
    // Engine defaults are what the new group has anyway; moto omits Source (treated as set by the user).
    if (!name || p.ParameterValue === undefined || p.Source === 'engine-default' || p.Source === 'system') continue;
    if (p.IsModifiable === false) notCopied.push({ name, reason: 'not modifiable' });
    else if (ENHANCED_BINLOG_PARAMETERS.has(name)) notCopied.push({ name, reason: 'enhanced binlog stays off on the new cluster (turn it on after the migration if wanted)' });
    else if (p.ParameterValue.startsWith('arn:')) notCopied.push({ name, reason: `names a resource of the source account (${p.ParameterValue}); set a target-account one after the migration if needed` });
    else parameters.push({ name, value: p.ParameterValue });
  }
  const binlog = parameters.find((p) => p.name === 'binlog_format');
  if (!binlog || !BINLOG_ON.has(binlog.value.toUpperCase())) {
    const rest = parameters.filter((p) => p.name !== 'binlog_format');
    parameters.length = 0;
    parameters.push(...rest, { name: 'binlog_format', value: 'ROW' });
  }
  return {
    name: input.names.targetClusterParameterGroupName,
    create: true,
    family: parameterGroupFamily(engineVersion) ?? undefined,
    copiedFrom: sourceGroup,
    parameters,
    notCopied,
  };
}

/**
 * Makes sure the group the new cluster will use exists with binlogs on, and returns its name. Idempotent:
 * a group this migration made is found by its description and its parameters are set again.
 */
export async function ensureTargetParameterGroup(state: Pick<MigrationState, 'input' | 'preflight'>): Promise<string> {
  const { input } = state;
  const rds = targetRdsClient(input);
  const given = input.target.dbClusterParameterGroupName;
  if (given) {
    const format = ((await findClusterParameter(rds, given, 'binlog_format'))?.ParameterValue ?? 'OFF').toUpperCase();
    if (!BINLOG_ON.has(format)) {
      throw new BinlogDisabledError(
        `binlog_format is ${format} in target.dbClusterParameterGroupName ${given}: the new cluster would write no binlog, so it could not report the source's binlog position ("Binlog position from crash recovery") and replication could not start. Set binlog_format = ROW in ${given}, or leave target.dbClusterParameterGroupName out (crossmove then creates ${input.names.targetClusterParameterGroupName} as a copy of the source's group); nothing was created.`,
      );
    }
    return given;
  }
  const plan = state.preflight?.targetParameterGroup;
  if (!plan?.create || !plan.family || !plan.copiedFrom) {
    throw new PreflightFailedError('The target cluster parameter group was not planned: "Run preflight checks" must run before the new cluster is created');
  }
  const existing = await findClusterParameterGroup(rds, plan.name);
  if (existing && !madeForMigration(existing.Description, input.migrationId)) throw new ResourceConflictError(parameterGroupConflict(plan.name, input.migrationId));
  if (!existing) {
    const description = parameterGroupDescription(input.migrationId, plan.copiedFrom, input.names.targetClusterIdentifier);
    logStep('create the target cluster parameter group (copy of the source group, binlogs on)', { name: plan.name, family: plan.family, copiedFrom: plan.copiedFrom });
    try {
      await createClusterParameterGroup(rds, { name: plan.name, family: plan.family, description });
    } catch (err) {
      if (errorName(err) !== 'DBParameterGroupAlreadyExistsFault') throw err;
      // A concurrent attempt created it: ours only if its description says so.
      const again = await findClusterParameterGroup(rds, plan.name);
      if (!again || !madeForMigration(again.Description, input.migrationId)) throw new ResourceConflictError(parameterGroupConflict(plan.name, input.migrationId));
    }
  }
  await setClusterParameters(rds, plan.name, plan.parameters ?? []);
  return plan.name;
}

export function parameterGroupConflict(name: string, migrationId: string): string {
  return `Cluster parameter group ${name} already exists in the target account and was not made by crossmove for migration ${migrationId}; give it as target.dbClusterParameterGroupName if it is meant for the new cluster (binlog_format must be on), or delete it`;
}
