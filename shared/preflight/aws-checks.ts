// Read-only preflight of the AWS side: the source cluster (through the assumed source-account role),
// its KMS key and binlog parameter, and whether the target cluster identifier is free. Changes nothing.
import type { DBCluster, Parameter } from '@aws-sdk/client-rds';
import type { MigrationInput } from '../input/validate.js';
import type { Accounts, PreflightResult } from '../state.js';
import { clusterParameters, findCluster, madeByMigration, sourceRdsClient, targetRdsClient } from '../aws/rds.js';
import { conflictMessage } from '../aws/clone.js';
import { fail, pass, warn, type CheckOutcome } from './checks.js';
import { targetParameterGroupChecks } from './target-parameter-checks.js';
import { frozenSourceAwsChecks } from './frozen-source-checks.js';
import { isAccessDenied } from '../aws/frozen-source-access.js';

const BINLOG_FORMATS = new Set(['ROW', 'MIXED', 'STATEMENT']);

export interface AwsPreflight {
  checks: CheckOutcome[];
  sourceEndpoint?: PreflightResult['sourceEndpoint'];
  sourceCluster?: PreflightResult['sourceCluster'];
  targetParameterGroup?: PreflightResult['targetParameterGroup'];
}

// The checks that need EC2, KMS or RAM are loaded when they run, not when the function is imported:
// those clients are most of the preflight's cold import (npm run bench:bundle).
const networkChecksModule = () => import('./network-checks.js');

export async function awsPreflight(input: MigrationInput, accounts: Accounts): Promise<AwsPreflight> {
  const arn = input.source.clusterArn;
  // Endpoint-only sources (self-managed MySQL, local runs): only the target's network, when it is an
  // AWS cluster, is there to ask about (nothing at all in local runs).
  if (!arn) {
    const { networkPathChecks } = await networkChecksModule();
    return { checks: [...(await networkPathChecks(input, accounts, null)), ...(await frozenSourceAwsChecks(input, accounts))] };
  }
  const checks: CheckOutcome[] = [];
  const source = sourceRole(input);
  const targetIdentifier = () => unlessDenied(() => targetIdentifierChecks(input), (err) => deniedCheck('target-identifier', err, PREFLIGHT_ROLE));
  const rds = await sourceRdsClient(input);
  let cluster: DBCluster | null | undefined;
  try {
    cluster = await findCluster(rds, arn);
  } catch (err) {
    if (!isAccessDenied(err)) throw err;
    checks.push(deniedCheck('source-cluster', err, source));
    checks.push(...(await targetIdentifier()));
    return { checks };
  }
  if (!cluster) {
    checks.push(
      fail(
        'source-cluster',
        `Source cluster ${arn} does not exist or is not visible to ${input.source.accessRoleArn ?? 'the pipeline role'}.`,
        'Check source.clusterArn (account, region, name) and that the role may call rds:DescribeDBClusters on it.',
        'ResourceNotFoundError',
      ),
    );
    checks.push(...(await targetIdentifier()));
    return { checks };
  }
  const found = cluster;
  const [{ snapshotPathChecks }, { cloneLimitChecks }, { networkPathChecks }, { writeBlockChecks }] = await Promise.all([
    import('./snapshot-checks.js'),
    import('./clone-checks.js'),
    networkChecksModule(),
    import('./write-block-checks.js'),
  ]);
  checks.push(pass('source-cluster', `Source cluster ${found.DBClusterIdentifier} found.`));
  checks.push(statusCheck(found), engineCheck(found, input), instancesCheck(found));
  const kmsKeyArn = found.StorageEncrypted ? (found.KmsKeyId ?? null) : null;
  checks.push(...(await unlessDenied(() => keyChecks(input, accounts, kmsKeyArn), (err) => deniedCheck('source-kms-key', err, source))));
  checks.push(...(await unlessDenied(() => snapshotPathChecks(input, accounts, kmsKeyArn), (err) => deniedCheck('snapshot-path', err, source))));
  checks.push(...(await unlessDenied(() => cloneLimitChecks(input, accounts, found), (err) => deniedCheck('clone-limit', err, source))));
  // Read once: the binlog checks and the copy of the group the new cluster may get both need them.
  let sourceParameters: Parameter[] | null = [];
  try {
    if (found.DBClusterParameterGroup) sourceParameters = await clusterParameters(await sourceRdsClient(input), found.DBClusterParameterGroup);
  } catch (err) {
    if (!isAccessDenied(err)) throw err;
    // Unread, not empty: an empty list would read as every parameter at its default (binlogs off).
    sourceParameters = null;
    checks.push(deniedCheck('source-binlog-format', err, source));
  }
  if (sourceParameters) {
    checks.push(...binlogChecks(found, sourceParameters));
    checks.push(...enhancedBinlogChecks(input, found, sourceParameters));
  }
  checks.push(...(await targetIdentifier()));
  checks.push(...(await unlessDenied(() => targetKeyChecks(input), (err) => deniedCheck('target-kms-key', err, PREFLIGHT_ROLE))));
  let targetGroup: Awaited<ReturnType<typeof targetParameterGroupChecks>> = { checks: [] };
  if (sourceParameters) {
    try {
      targetGroup = await targetParameterGroupChecks(input, found, sourceParameters);
    } catch (err) {
      if (!isAccessDenied(err)) throw err;
      targetGroup = { checks: [deniedCheck('target-parameter-group', err, PREFLIGHT_ROLE)] };
    }
  }
  checks.push(...targetGroup.checks);
  checks.push(...networkChecks(input, accounts));
  checks.push(...(await networkPathChecks(input, accounts, found)));
  checks.push(...(await writeBlockChecks(input, found)));
  checks.push(...(await frozenSourceAwsChecks(input, accounts)));
  return {
    checks,
    sourceEndpoint: found.Endpoint ? { host: found.Endpoint, port: found.Port ?? 3306 } : undefined,
    sourceCluster: {
      engineVersion: found.EngineVersion ?? 'unknown',
      kmsKeyArn,
      parameterGroup: found.DBClusterParameterGroup ?? 'unknown',
      instanceCount: found.DBClusterMembers?.length ?? 0,
    },
    ...(targetGroup.plan ? { targetParameterGroup: targetGroup.plan } : {}),
  };
}

/** Who answers the target account's reads: the preflight function's own role. */
const PREFLIGHT_ROLE = "the preflight function's role (RunPreflight in serverless.yml; locally, your AWS credentials)";

/** Who answers the source account's reads: the role crossmove assumes there. */
function sourceRole(input: MigrationInput): string {
  return input.source.accessRoleArn
    ? `the source-account role ${input.source.accessRoleArn} (source-account/role.yaml; deploy its current version with the parameters this input needs)`
    : "the pipeline's own role (no source.accessRoleArn: same account)";
}

/**
 * AWS refused a read a check needs (AccessDenied): one failed check naming what was refused, as AWS
 * worded it (the action and the resource), and the role that needs it. The other checks still run, so
 * plan shows everything at once instead of stopping at a raw AccessDenied.
 */
function deniedCheck(id: string, err: unknown, role: string): CheckOutcome {
  return fail(id, `AWS refused a read this check needs: ${(err as Error).message}`, `Allow that action on that resource to ${role}, then run plan again.`);
}

async function unlessDenied(run: () => Promise<CheckOutcome[]>, denied: (err: unknown) => CheckOutcome): Promise<CheckOutcome[]> {
  try {
    return await run();
  } catch (err) {
    if (!isAccessDenied(err)) throw err;
    return [denied(err)];
  }
}

function statusCheck(cluster: DBCluster): CheckOutcome {
  return cluster.Status === 'available'
    ? pass('source-status', 'Source cluster is available.')
    : fail('source-status', `Source cluster ${cluster.DBClusterIdentifier} is ${cluster.Status}, not available.`, 'Wait until it is available (a cluster must be ACTIVE to be shared or cloned), then re-run.');
}

function engineCheck(cluster: DBCluster, input: MigrationInput): CheckOutcome {
  const id = cluster.DBClusterIdentifier;
  if (cluster.Engine !== 'aurora-mysql') {
    return fail('source-engine', `Source cluster ${id} runs engine ${cluster.Engine}; crossmove moves aurora-mysql clusters.`, 'Use source.endpoint with initialLoad.method logical for other MySQL-compatible sources.');
  }
  if (cluster.EngineMode === 'serverless') {
    // Whatever the initial load: the target is kept in sync by binlog replication from the source.
    return fail(
      'source-engine',
      `Source cluster ${id} is Aurora Serverless v1: it cannot be cloned across accounts, is past its end of life (31 March 2025), and is not a binlog replication source crossmove supports.`,
      'Upgrade the cluster to provisioned or Serverless v2 first (for example restore a snapshot of it as provisioned), then migrate that cluster.',
    );
  }
  const detected = cluster.EngineVersion?.startsWith('5.7') ? 'aurora-mysql-2' : cluster.EngineVersion?.startsWith('8.0') ? 'aurora-mysql-3' : undefined;
  if (input.source.engine && detected && input.source.engine !== detected) {
    return fail('source-engine', `source.engine is ${input.source.engine} but cluster ${id} runs ${cluster.EngineVersion} (${detected}).`, `Set source.engine to ${detected} or leave it out.`);
  }
  return pass('source-engine', `Source cluster runs ${cluster.Engine} ${cluster.EngineVersion}.`);
}

function instancesCheck(cluster: DBCluster): CheckOutcome {
  const n = cluster.DBClusterMembers?.length ?? 0;
  return n >= 1
    ? pass('source-instances', `Source cluster has ${n} instance(s).`)
    : fail('source-instances', `Source cluster ${cluster.DBClusterIdentifier} has no instance; a cluster needs at least one to be cloned or to serve binlogs.`, 'Add a writer instance to the source cluster.');
}

async function keyChecks(input: MigrationInput, accounts: Accounts, kmsKeyArn: string | null): Promise<CheckOutcome[]> {
  if (!kmsKeyArn) return [pass('source-kms-key', 'Source cluster is not encrypted.')];
  const { describeKey, sourceKmsClient } = await import('../aws/kms.js');
  const key = await describeKey(await sourceKmsClient(input), kmsKeyArn);
  const crossAccountClone = !accounts.sameAccount && input.initialLoad.method === 'clone';
  const out: CheckOutcome[] = [];
  if (key.KeyManager === 'AWS' && crossAccountClone) {
    out.push(
      fail(
        'source-kms-key',
        `Source cluster is encrypted with the AWS-managed key aws/rds (${kmsKeyArn}), which cannot be shared with another account, so the cluster cannot be cloned cross-account.`,
        'Use initialLoad.method snapshot (snapshot, copy with a customer managed key, share, restore) or logical.',
        'DefaultKmsKeyError',
      ),
    );
  } else if (key.KeyState && key.KeyState !== 'Enabled') {
    out.push(fail('source-kms-key', `Source KMS key ${kmsKeyArn} is ${key.KeyState}.`, 'Enable the key; the cluster cannot be cloned otherwise.'));
  } else {
    out.push(pass('source-kms-key', `Source cluster is encrypted with ${key.KeyManager === 'AWS' ? 'the AWS-managed' : 'customer managed'} key ${kmsKeyArn}.`));
  }
  if (crossAccountClone && !input.target.kmsKeyId) {
    // Without a target key the clone stays encrypted with the source account's key: it would break the
    // day the source account removes the key statement (cleanup) or disables the key.
    out.push(
      fail(
        'target-kms-key',
        `target.kmsKeyId is not set: the cross-account clone of encrypted cluster ${input.source.clusterArn} would stay encrypted with the source account key ${kmsKeyArn} and depend on it for ever.`,
        'Set target.kmsKeyId to an enabled customer managed key in the target account and region (the clone is re-encrypted with it).',
      ),
    );
  }
  return out;
}

/** A cross-account clone cannot inherit the source's network: its subnet group and security groups do not exist in the target account. */
function networkChecks(input: MigrationInput, accounts: Accounts): CheckOutcome[] {
  if (accounts.sameAccount || input.initialLoad.method !== 'clone') return [];
  const missing = [
    ...(input.target.dbSubnetGroupName ? [] : ['target.dbSubnetGroupName']),
    ...(input.target.vpcSecurityGroupIds?.length ? [] : ['target.vpcSecurityGroupIds']),
  ];
  if (!missing.length) {
    return [pass('target-network', `The clone goes into subnet group ${input.target.dbSubnetGroupName} with security groups ${input.target.vpcSecurityGroupIds!.join(', ')}.`)];
  }
  return [
    fail(
      'target-network',
      `${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not set: a cross-account clone cannot use the source cluster's DB subnet group and VPC security groups, they do not exist in account ${accounts.target}.`,
      'Set target.dbSubnetGroupName to a DB subnet group and target.vpcSecurityGroupIds to security groups (sg-...) of the target account, in the VPC the clone should live in.',
    ),
  ];
}

const parameterValue = (parameters: Parameter[], name: string) => parameters.find((p) => p.ParameterName === name)?.ParameterValue;

function binlogChecks(cluster: DBCluster, parameters: Parameter[]): CheckOutcome[] {
  const group = cluster.DBClusterParameterGroup;
  if (!group) return [fail('source-binlog-format', `Source cluster ${cluster.DBClusterIdentifier} reports no cluster parameter group.`, 'Attach a custom cluster parameter group with binlog_format ROW.', 'BinlogDisabledError')];
  // Not listed = engine default, which is OFF on Aurora MySQL.
  const value = (parameterValue(parameters, 'binlog_format') ?? 'OFF').toUpperCase();
  if (!BINLOG_FORMATS.has(value)) {
    return [
      fail(
        'source-binlog-format',
        `Binary logging is off on the source: binlog_format is ${value} in cluster parameter group ${group}.`,
        `Set binlog_format to ROW in ${group}${group.startsWith('default.') ? ' (a default group cannot be changed: create a custom one and attach it)' : ''}; it is static, so the writer must reboot before the migration.`,
        'BinlogDisabledError',
      ),
    ];
  }
  const pending = (cluster.DBClusterMembers ?? []).filter((m) => m.DBClusterParameterGroupStatus === 'pending-reboot');
  const out = [pass('source-binlog-format', `binlog_format is ${value} in ${group}.`)];
  if (pending.length) {
    out.push(
      warn(
        'source-parameters-pending-reboot',
        `Parameter changes are pending a reboot on ${pending.map((m) => m.DBInstanceIdentifier).join(', ')}.`,
        'If binlog_format was just changed, reboot the writer: binlogs are on only after it restarts.',
      ),
    );
  }
  if (value !== 'ROW') out.push(warn('source-binlog-row', `binlog_format is ${value}; ROW is the safe format for replication.`, `Set binlog_format to ROW in ${group}.`));
  return out;
}

/**
 * Enhanced binlog files are not on a clone or a restored snapshot (Aurora User Guide, "Setting up enhanced
 * binlog for Aurora MySQL": "Enhanced binlog files from the source DB cluster aren't available on a cloned
 * DB cluster", and they "aren't included in Aurora backups"): the new cluster starts its own binlog
 * sequence, so it cannot report where the source's binlog stood, and a position it reported would not
 * be one the source can stream from. A logical copy reads its coordinates on the source: unaffected.
 */
function enhancedBinlogChecks(input: MigrationInput, cluster: DBCluster, parameters: Parameter[]): CheckOutcome[] {
  const group = cluster.DBClusterParameterGroup;
  const method = input.initialLoad.method;
  // A logical copy reads on the source, except from a clone in the source account (frozenSource source-clone).
  const sourceClone = method === 'logical' && input.initialLoad.frozenSource.kind === 'source-clone';
  if (!group || (method === 'logical' && !sourceClone)) return [];
  const on = parameterValue(parameters, 'aurora_enhanced_binlog') === '1';
  const made = method === 'snapshot' ? 'snapshot' : 'clone';
  if (!on) return [pass('source-enhanced-binlog', `Enhanced binlog is off on the source (${group}): its binlog files come along with the ${made}.`)];
  return [
    fail(
      'source-enhanced-binlog',
      `The source uses enhanced binlog (aurora_enhanced_binlog = 1 in ${group}): enhanced binlog files are not available on a ${made === 'clone' ? 'cloned' : 'restored'} cluster, so the new cluster cannot report the source's binlog position ("Binlog position from crash recovery") to start replication from.`,
      `Turn enhanced binlog off on the source before the migration (aurora_enhanced_binlog = 0, binlog_backup = 1, binlog_replication_globaldb = 1 in ${group}, then reboot the writer; binlog files written after that are available on a clone or restore), or use ${sourceClone ? 'another initialLoad.frozenSource kind' : 'initialLoad.method logical'}.`,
      'BinlogDisabledError',
    ),
  ];
}

async function targetIdentifierChecks(input: MigrationInput): Promise<CheckOutcome[]> {
  // Only the clone/snapshot paths create the target cluster; a logical copy loads into an existing one.
  if (input.initialLoad.method === 'logical') return [];
  const id = input.names.targetClusterIdentifier;
  const existing = await findCluster(targetRdsClient(input), id);
  if (!existing) return [pass('target-identifier', `Target cluster identifier ${id} is free.`)];
  if (madeByMigration(existing, input.migrationId)) return [pass('target-identifier', `Target cluster ${id} exists from an earlier run of this migration; it will be reused.`)];
  return [fail('target-identifier', conflictMessage(id, input.migrationId) + '.', 'Set target.clusterIdentifier to an unused name.', 'ResourceConflictError')];
}

async function targetKeyChecks(input: MigrationInput): Promise<CheckOutcome[]> {
  const keyId = input.target.kmsKeyId;
  if (!keyId || input.initialLoad.method === 'logical') return [];
  const { findKey, targetKmsClient } = await import('../aws/kms.js');
  const key = await findKey(targetKmsClient(input), keyId);
  if (!key) {
    return [fail('target-kms-key', `target.kmsKeyId ${keyId} does not exist or is not visible to the pipeline account.`, 'Give the ARN of an enabled customer managed key in the target account and region.', 'ResourceNotFoundError')];
  }
  if (key.KeyState !== 'Enabled') return [fail('target-kms-key', `target.kmsKeyId ${keyId} is ${key.KeyState}.`, 'Enable the key or give another one.')];
  return [pass('target-kms-key', `Target key ${key.Arn ?? keyId} is enabled.`)];
}
