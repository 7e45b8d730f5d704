// The execution input: ONE schema for AWS and local runs (design.md, MUST).
// schema/migration-input.schema.json is generated from this file by `npm run schema`
// (a test fails when the published file is stale).
import { z } from 'zod';
import { RESERVED_SCHEMAS } from './names.js';

/** rds-mysql-8: RDS for MySQL 8.0/8.4 (an instance with the mysql.rds_* procedures); mysql-8: self-managed MySQL 8.0.23+. */
export const ENGINES = ['aurora-mysql-3', 'aurora-mysql-2', 'mysql-8', 'rds-mysql-8', 'mariadb'] as const;
export type Engine = (typeof ENGINES)[number];

const rdsClusterArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:cluster:[a-zA-Z][a-zA-Z0-9-]{0,62}$/,
    'must be an RDS cluster ARN: arn:aws:rds:REGION:ACCOUNT:cluster:NAME',
  );
const iamRoleArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]{1,512}$/, 'must be an IAM role ARN: arn:aws:iam::ACCOUNT:role/NAME');
/** A reference to a JSON secret {username, password}; the secret value itself never travels. */
const secretRef = z
  .string()
  .regex(
    /^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w\/+=.@-]+|env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/,
    'must be a Secrets Manager secret ARN, env:VARIABLE or file:PATH (JSON {"username","password"})',
  );
const rdsIdentifier = z
  .string()
  .regex(
    /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,62}(?<!-)$/,
    'must be an RDS identifier: 1-63 letters, digits or hyphens, starting with a letter, no double or trailing hyphen',
  );
const snsTopicArn = z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/, 'must be an SNS topic ARN');
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-east-1');

/**
 * A host name or an IPv4/IPv6 address, nothing else: it ends up in CHANGE MASTER TO / rds_set_external_*
 * and in connection strings, so quotes, spaces, semicolons and slashes are refused here, not escaped later.
 */
const host = z
  .string()
  .min(1, 'must not be empty')
  .max(253, 'must be at most 253 characters')
  .regex(
    /^([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?|\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/,
    'must be a host name (letters, digits, hyphens and dots) or an IP address; quotes, spaces and other characters are refused',
  );

/** Schemas the migration never copies or moves: the server's own, and crossmove's bookkeeping. */

/** A schema name as a DBA writes it; quotes, backticks, spaces, dots and slashes are refused (never escaped into SQL). */
const schemaName = z
  .string()
  .regex(/^[\p{L}\p{N}_$-]{1,64}$/u, 'must be a schema name: 1-64 letters, digits, _, $ or -')
  // The same rule twice: as a pattern for the published JSON Schema, and case-insensitively here.
  .regex(new RegExp(`^(?!(${RESERVED_SCHEMAS.join('|')})$)`), `must not be a system schema or crossmove's own (${RESERVED_SCHEMAS.join(', ')})`)
  .refine((name) => !RESERVED_SCHEMAS.includes(name.toLowerCase()), {
    message: `must not be a system schema or crossmove's own (${RESERVED_SCHEMAS.join(', ')})`,
  });

/** A MySQL user name (the USER of a session), without host. */
const userName = z.string().regex(/^[\p{L}\p{N}_.$+-]{1,80}$/u, 'must be a user name: 1-80 letters, digits, _, ., $, + or - (no host part, no quotes)');

const endpoint = z.strictObject({
  host,
  port: z.number().int().min(1).max(65535).default(3306),
});

const sourceSchema = z
  .strictObject({
    clusterArn: rdsClusterArn.optional(),
    endpoint: endpoint.optional(),
    adminSecret: secretRef,
    accessRoleArn: iamRoleArn.optional(),
    externalId: z.string().min(2).max(1224).optional(),
    engine: z.enum(ENGINES).optional(),
    /**
     * Snapshot path across accounts: a customer managed key of the SOURCE account in the TARGET's region.
     * The source snapshot is first copied with it in the source account when it cannot be shared as it is
     * (encrypted with aws/rds) or copied to another region once shared (an encrypted shared snapshot is
     * copied only within its own region); the target account is then let use this key, not the cluster's.
     */
    snapshotKmsKeyId: z
      .string()
      .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[\w-]+$/, 'must be a KMS key ARN arn:aws:kms:<target region>:<source account>:key/<id>')
      .optional(),
  });

const targetSchema = z.strictObject({
  clusterIdentifier: rdsIdentifier.optional(),
  endpoint: endpoint.optional(),
  /**
   * The target's admin: required for a logical copy. Clone and snapshot need none: crossmove sets a new
   * master password on the new cluster and keeps it in its own secret (crossmove/<migrationId>/target-admin).
   */
  adminSecret: secretRef.optional(),
  engine: z.enum(ENGINES).optional(),
  region: region.optional(),
  instanceClass: z.string().regex(/^db\.[a-z0-9-]+\.[a-z0-9]+$/, 'must be an instance class such as db.r6g.large').default('db.r6g.large'),
  kmsKeyId: z.string().min(1).optional(),
  dbClusterParameterGroupName: z.string().min(1).optional(),
  vpcSecurityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id sg-...')).optional(),
  dbSubnetGroupName: z.string().min(1).optional(),
});

/** The RDS MySQL/MariaDB instance a read replica is made of (initialLoad.frozenSource kind rds-replica). */
const rdsInstanceArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:db:[a-zA-Z][a-zA-Z0-9-]{0,62}$/, 'must be an RDS DB instance ARN: arn:aws:rds:REGION:ACCOUNT:db:NAME');

const FROZEN_SOURCE_KINDS = ['auto', 'live', 'named-replica', 'rds-replica', 'source-clone'] as const;

/**
 * Logical copy only: what the copy reads, so that it sees one consistent point however long it runs.
 *   auto           live when the copy fits in about 10 minutes or runs locally; else source-clone for an
 *                  Aurora source, rds-replica when sourceInstanceArn is given
 *   live           the source itself through one consistent snapshot (one process: local, or one Lambda invocation)
 *   named-replica  a replica of the source (endpoint) whose SQL thread crossmove stops, then starts again
 *   rds-replica    a read replica of the RDS instance sourceInstanceArn, made in the source account, stopped, deleted by cleanup
 *   source-clone   an Aurora clone of source.clusterArn in the source account, deleted by cleanup
 */
const frozenSourceSchema = z.strictObject({
  kind: z.enum(FROZEN_SOURCE_KINDS).default('auto'),
  /** named-replica: where the replica listens. */
  endpoint: endpoint.optional(),
  /** named-replica: its admin (default source.adminSecret). */
  adminSecret: secretRef.optional(),
  /** named-replica: its engine (detected when omitted). */
  engine: z.enum(ENGINES).optional(),
  /** rds-replica: the RDS MySQL/MariaDB source instance. */
  sourceInstanceArn: rdsInstanceArn.optional(),
  /** rds-replica / source-clone: the instance class of the replica or the clone's instance (default: the source's). */
  instanceClass: z.string().regex(/^db\.[a-z0-9-]+\.[a-z0-9]+$/, 'must be an instance class such as db.r6g.large').optional(),
});

export const initialLoadSchema = z.strictObject({
  method: z.enum(['clone', 'snapshot', 'logical']),
  /**
   * Logical copy only: schemas to copy. Omitted: every non-system schema. An empty list is refused
   * rather than read as "all": a list that says nothing must not copy everything.
   */
  schemas: z
    .array(schemaName)
    .min(1, 'must list at least one schema; omit initialLoad.schemas to copy every non-system schema')
    .refine((list) => new Set(list).size === list.length, 'must not list a schema twice')
    .optional(),
  /** Logical copy only: chunk workers at once (the Map's MaxConcurrency; a live copy's connections). */
  parallelism: z.number().int().min(1).max(64).default(4),
  /** Logical copy only: rows per sub-chunk (one target transaction) at most. */
  chunkRows: z.number().int().min(100).default(50_000),
  /** Logical copy only: bytes per sub-chunk (one target transaction), by the rows actually read. */
  chunkBytes: z.number().int().min(64 * 1024).max(1024 ** 3).default(32 * 1024 * 1024),
  frozenSource: frozenSourceSchema.default({ kind: 'auto' }),
});

const replicationSchema = z.strictObject({
  binlogRetentionHours: z.number().int().min(1).max(2160).default(72),
  ssl: z.boolean().default(true),
  /**
   * Aurora MySQL 3 replica with ssl: the source's CA and a client certificate were imported on it
   * (mysql.rds_import_binlog_ssl_material), so crossmove passes ssl_encryption=1. Not needed from 3.06:
   * without it crossmove encrypts with mysql.rds_set_binlog_source_ssl(1). Aurora MySQL 2 needs none.
   */
  sslMaterialImported: z.boolean().default(false),
  maxLagSeconds: z.number().positive().max(3600).default(1),
  pollSeconds: z.number().int().min(1).max(3600).default(60),
  /** Consecutive checks under the limit before lag counts as caught up. */
  requiredConsecutiveChecks: z.number().int().min(1).max(100).default(3),
  /** Give up waiting for the target to catch up after this long. */
  maxCatchUpHours: z.number().positive().max(24 * 90).default(24 * 30),
  /** Host the target uses to reach the source (default: source endpoint host / cluster endpoint). */
  sourceHostForTarget: host.optional(),
  userName: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,32}$/, 'must be 1-32 letters, digits or underscores')
    .default('crossmove_repl'),
});

const cutoverSchema = z.strictObject({
  approval: z.enum(['manual', 'auto']).default('manual'),
  approvalTimeoutHours: z.number().positive().max(24 * 365).default(72),
  catchUpTimeoutSeconds: z.number().int().min(1).max(240).default(30),
  writeBlock: z
    .strictObject({
      method: z.enum(['security-group', 'read-only']),
      /** security-group: the source's VPC security group whose inbound MySQL rules are removed. */
      securityGroupId: z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id sg-...').optional(),
      /** Users whose sessions are not killed (besides crossmove's own). */
      keepUsers: z.array(userName).default([]),
      /** security-group: rules that let these groups in are never removed (crossmove's Lambdas, the target's replication path). */
      keepSecurityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id sg-...')).default([]),
    })
    .optional(),
  /**
   * What the cutover relies on besides the exact position: diff (default) compares the data before the
   * approval, while replicating (the top-level verify section), and inside the write block re-checks
   * only what that comparison left open; none skips the comparison. The old checksum/counts scanned
   * every table inside the write block (time growing with the data) and are rejected.
   */
  verify: z
    .enum(['diff', 'none'], {
      error: (issue) =>
        issue.input === 'checksum' || issue.input === 'counts'
          ? `${String(issue.input)} is no longer supported: it scanned every table inside the write block, so the cutover grew with the data. Use diff (the default: rows compared before the approval while replicating, only what is left re-checked in the block) or none`
          : 'must be diff or none',
    })
    .default('diff'),
  dns: z
    .strictObject({
      hostedZoneId: z.string().regex(/^[A-Z0-9]{1,32}$/, 'must be a Route 53 hosted zone id'),
      recordName: host,
      ttl: z.number().int().min(0).max(172800).default(5),
    })
    .optional(),
  reverseReplication: z.boolean().default(true),
  /** Create on the target the users/grants that exist only on the source (Aurora 3 does not replicate DCL). */
  applyMissingGrants: z.boolean().default(false),
});

/** The data comparison (chunked diff at one binlog position on both sides, while replicating). */
export const verifySchema = z.strictObject({
  /** Comparison workers at once (a Map over worker slots; inline Maps run at most 40). */
  parallelism: z.number().int().min(1).max(40).default(4),
  /** Rows read per second on each side by all workers together; 0 = no limit. */
  maxRowsPerSecond: z.number().int().min(0).default(0),
  /** Pause while the replica's heartbeat lag is above this. */
  maxLagSeconds: z.number().positive().max(3600).default(5),
  /** Longest one consistent read is kept open before a new sync point is taken. */
  maxSnapshotSeconds: z.number().int().min(5).max(3600).default(300),
  /** Target time of one sub-chunk's hash query (sizes adapt to it). */
  chunkSeconds: z.number().positive().max(30).default(0.5),
  maxRowsPerChunk: z.number().int().min(100).max(200_000).default(20_000),
  /** Differing rows kept with their primary key per table and kind (all are counted). */
  reportRows: z.number().int().min(1).max(1000).default(20),
  /** Rows still changing during the comparison that the cutover re-checks by key inside its write block. */
  maxRecheckInBlock: z.number().int().min(0).max(100_000).default(10_000),
  /** Only these tables: schema.table or schema.* (default: every table the migration moves). */
  tables: z.array(z.string().regex(/^[^.\s]+\.([^.\s]+|\*)$/, 'must be schema.table or schema.*')).optional(),
});

export const migrationInputSchema = z
  .strictObject({
    migrationId: z
      .string()
      .regex(/^[a-z0-9-]{1,40}$/, 'must be 1-40 lowercase letters, digits or hyphens ([a-z0-9-]{1,40})')
      .regex(/^(?!-)(?!.*--)(?!.*-$)/, 'must not start or end with a hyphen or contain two in a row (it derives RDS identifiers)'),
    source: sourceSchema,
    target: targetSchema,
    initialLoad: initialLoadSchema.optional(),
    replication: replicationSchema.default(replicationSchema.parse({})),
    cutover: cutoverSchema.default(cutoverSchema.parse({})),
    verify: verifySchema.default(verifySchema.parse({})),
    notify: z.strictObject({ topicArn: snsTopicArn }).optional(),
  });

export type MigrationInputParsed = z.output<typeof migrationInputSchema>;
