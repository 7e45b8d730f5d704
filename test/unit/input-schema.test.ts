import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { InputValidationError } from '../../shared/errors.js';
import { inputJsonSchemaText } from '../../shared/input/json-schema.js';
import { notAnInputIssue, validateMigrationInput } from '../../shared/input/validate.js';
import { RESERVED_SCHEMAS } from '../../shared/input/names.js';
import { MARKER_SCHEMA, SYSTEM_SCHEMAS } from '../../shared/initial-load/inspect.js';

const example = () => parse(readFileSync('examples/clone-cross-account.yaml', 'utf8'));

function issuesOf(raw: unknown): string[] {
  try {
    validateMigrationInput(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(InputValidationError);
    return (err as InputValidationError).issues.map((i) => i.field);
  }
  throw new Error('expected the input to be rejected');
}

describe('execution input', () => {
  it('accepts the published example, fills defaults and derives names from migrationId', () => {
    const input = validateMigrationInput(example());
    expect(input.initialLoad.method).toBe('clone');
    expect(input.replication.requiredConsecutiveChecks).toBe(3);
    expect(input.names.targetClusterIdentifier).toBe('orders-prod-moved');
    expect(input.names.targetWriterIdentifier).toBe('orders-prod-moved-writer');
    expect(input.names.resourceShareName).toBe('crossmove-orders-2026-12');
    expect(input.names.replicationSecretName).toBe('crossmove/orders-2026-12/replication-user');
  });

  it('accepts the cross-region snapshot example and names the shareable copy; refuses a snapshot key that is not a KMS key ARN', () => {
    const raw = parse(readFileSync('examples/snapshot-cross-region.yaml', 'utf8'));
    const input = validateMigrationInput(raw);
    expect(input.source.snapshotKmsKeyId).toBe('arn:aws:kms:eu-west-1:111111111111:key/5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b');
    expect(input.names.sourceShareableSnapshotIdentifier).toBe('crossmove-orders-eu-2026-12-shareable');
    expect(issuesOf({ ...raw, source: { ...raw.source, snapshotKmsKeyId: 'alias/crossmove' } })).toEqual(['source.snapshotKmsKeyId']);
  });

  it('accepts the local example and defaults an endpoint-only source to the logical copy', () => {
    const raw = parse(readFileSync('examples/local.yaml', 'utf8'));
    delete raw.initialLoad;
    const input = validateMigrationInput(raw);
    expect(input.initialLoad.method).toBe('logical');
    expect(input.names.targetClusterIdentifier).toBe('crossmove-local-rehearsal');
  });

  it('names every offending field at once', () => {
    const raw = example();
    raw.migrationId = 'Orders_2026';
    raw.source.clusterArn = 'arn:aws:rds:us-east-1:1111:db:orders';
    raw.source.engine = 'postgres';
    raw.target.adminSecret = 'my-password';
    raw.source.accessRoleArn = 'role/crossmove';
    raw.replication.binlogRetentionHours = 5000;
    raw.cutover.writeBlock = { method: 'security-group' };
    expect(issuesOf(raw).sort()).toEqual(
      [
        'cutover.writeBlock.securityGroupId',
        'migrationId',
        'replication.binlogRetentionHours',
        'source.accessRoleArn',
        'source.clusterArn',
        'source.engine',
        'target.adminSecret',
      ].sort(),
    );
  });

  it('rejects unknown fields, a missing secret and a source with neither ARN nor endpoint', () => {
    const raw = example();
    raw.target.colour = 'blue';
    delete raw.source.adminSecret;
    delete raw.source.clusterArn;
    expect(issuesOf(raw)).toEqual(expect.arrayContaining(['target', 'source.adminSecret', 'source.clusterArn']));
  });

  it('rejects hyphen patterns that would make invalid RDS identifiers', () => {
    for (const id of ['-orders', 'orders-', 'a--b', 'x'.repeat(41)]) {
      expect(issuesOf({ ...example(), migrationId: id })).toEqual(['migrationId']);
    }
  });

  it('requires a cluster ARN for the clone and snapshot paths', () => {
    const raw = example();
    delete raw.source.clusterArn;
    raw.source.endpoint = { host: 'db.example.com' };
    expect(issuesOf(raw)).toEqual(['source.clusterArn']);
  });

  it('cutover.verify: diff by default, none accepted; the old in-block scans are rejected with what to use', () => {
    const input = validateMigrationInput(example());
    expect(input.cutover.verify).toBe('diff');
    expect(input.verify).toMatchObject({ parallelism: 4, maxRowsPerSecond: 0, maxLagSeconds: 5, maxRowsPerChunk: 20_000, reportRows: 20, maxRecheckInBlock: 10_000 });
    expect(validateMigrationInput({ ...example(), cutover: { verify: 'none' } }).cutover.verify).toBe('none');
    for (const old of ['checksum', 'counts']) {
      const err = (() => {
        try {
          validateMigrationInput({ ...example(), cutover: { verify: old } });
        } catch (e) {
          return e as InputValidationError;
        }
        throw new Error('accepted');
      })();
      expect(err.issues).toEqual([{ field: 'cutover.verify', message: expect.stringMatching(new RegExp(`^${old} is no longer supported: .*Use diff .* or none$`)) }]);
    }
    expect(issuesOf({ ...example(), cutover: { verify: 'rows' } })).toEqual(['cutover.verify']);
  });

  it('verify: bounded parallelism (an inline Map runs at most 40), tables as schema.table or schema.*', () => {
    expect(issuesOf({ ...example(), verify: { parallelism: 41 } })).toEqual(['verify.parallelism']);
    expect(issuesOf({ ...example(), verify: { tables: ['orders'] } })).toEqual(['verify.tables.0']);
    expect(validateMigrationInput({ ...example(), verify: { tables: ['shop.orders', 'audit.*'] } }).verify.tables).toEqual(['shop.orders', 'audit.*']);
    expect(validateMigrationInput({ ...example(), verify: { parallelism: 8 } }).derived.diffRoundsPerWindow).toBe(Math.floor(16_000 / (13 + 7 * 8)));
  });

  it('takes the logical copy\'s frozen source with each kind\'s own fields, and derives the copy window figures', () => {
    const local = () => parse(readFileSync('examples/local.yaml', 'utf8'));
    const defaults = validateMigrationInput(local()).initialLoad;
    expect(defaults.frozenSource).toEqual({ kind: 'auto' });
    expect(defaults.chunkBytes).toBe(32 * 1024 * 1024);
    const named = { ...local(), initialLoad: { method: 'logical', parallelism: 8, frozenSource: { kind: 'named-replica', endpoint: { host: 'replica.internal' } } } };
    const input = validateMigrationInput(named);
    expect(input.initialLoad.frozenSource.endpoint).toEqual({ host: 'replica.internal', port: 3306 });
    // 13 + 7 x 8 events a round: 289 rounds under 20,000; about 30 days of 15-minute rounds in windows.
    expect(input.derived.copyRoundsPerWindow).toBe(289);
    expect(input.derived.maxCopyWindows).toBe(Math.ceil((30 * 86_400) / (289 * 930)));
    expect(input.derived.copyWindowTimeoutSeconds).toBe(289 * (2 * 930 + 120) + 3600);
    // A local run's engine times a Task with a JS timer: never beyond 2^31 ms, whatever the parallelism.
    for (const parallelism of [1, 2, 64]) {
      const d = validateMigrationInput({ ...local(), initialLoad: { method: 'logical', parallelism } }).derived;
      expect(d.copyWindowTimeoutSeconds * 1000).toBeLessThan(2 ** 31);
      expect(d.copyWindowTimeoutSeconds).toBeGreaterThan(d.copyRoundsPerWindow * 930);
    }

    expect(issuesOf({ ...local(), initialLoad: { method: 'logical', frozenSource: { kind: 'named-replica' } } })).toEqual(['initialLoad.frozenSource.endpoint']);
    expect(issuesOf({ ...local(), initialLoad: { method: 'logical', frozenSource: { kind: 'rds-replica' } } })).toEqual(['initialLoad.frozenSource.sourceInstanceArn']);
    expect(issuesOf({ ...local(), initialLoad: { method: 'logical', frozenSource: { kind: 'rds-replica', sourceInstanceArn: 'arn:aws:rds:us-east-1:111111111111:cluster:x' } } })).toEqual(['initialLoad.frozenSource.sourceInstanceArn']);
    expect(issuesOf({ ...local(), initialLoad: { method: 'logical', frozenSource: { kind: 'source-clone' } } })).toEqual(['source.clusterArn']);
    expect(issuesOf({ ...local(), initialLoad: { method: 'logical', frozenSource: { kind: 'live', endpoint: { host: 'r' } } } })).toEqual(['initialLoad.frozenSource.endpoint']);
    expect(issuesOf({ ...example(), initialLoad: { method: 'clone', frozenSource: { kind: 'source-clone' } } })).toEqual(['initialLoad.frozenSource']);
    expect(issuesOf({ ...local(), initialLoad: { method: 'logical', chunkBytes: 1000 } })).toEqual(['initialLoad.chunkBytes']);
  });

  it('accepts host names, IPv4 and IPv6 addresses; refuses anything that could leave a quoted SQL string or a URL', () => {
    const local = () => parse(readFileSync('examples/local.yaml', 'utf8'));
    for (const host of ['127.0.0.1', 'localhost', 'db-1.cluster-abc.eu-west-1.rds.amazonaws.com', 'db.example.com.', '::1', 'fd00::12:1', 'my_host']) {
      const raw = local();
      raw.target.endpoint.host = host;
      raw.replication.sourceHostForTarget = host;
      expect(validateMigrationInput(raw).target.endpoint!.host).toBe(host);
    }
    for (const host of ["127.0.0.1'", 'db.example.com; DROP', 'a b', 'db.example.com/x', '`db`', 'user@db', '-db', '', 'x'.repeat(254)]) {
      const raw = local();
      raw.target.endpoint.host = host;
      raw.replication.sourceHostForTarget = host;
      expect(issuesOf(raw).sort()).toEqual(['replication.sourceHostForTarget', 'target.endpoint.host']);
    }
  });

  it('initialLoad.schemas: names as DBAs write them; system, crossmove-owned (any case), duplicate, injection-shaped names and an empty list refused', () => {
    const logical = (schemas: unknown) => ({ ...parse(readFileSync('examples/local.yaml', 'utf8')), initialLoad: { method: 'logical', schemas } });
    expect(validateMigrationInput(logical(['shop', 'shop-eu', 'Bestellungen_2026', 'café', 'a$b'])).initialLoad.schemas).toHaveLength(5);
    for (const bad of [[], ['mysql'], ['MySQL'], ['Crossmove'], ['crossmove_load'], ['sys'], ['shop', 'shop'], ['shop`; DROP DATABASE shop; --'], ['a.b'], ['x'.repeat(65)], ['']]) {
      expect(issuesOf(logical(bad))[0]).toMatch(/^initialLoad\.schemas/);
    }
    // A clone copies the whole cluster: a schema list there would be silently ignored.
    expect(issuesOf({ ...example(), initialLoad: { method: 'clone', schemas: ['shop'] } })).toEqual(['initialLoad.schemas']);
  });

  it('reserves every schema the servers and crossmove own (the copy, the heartbeat)', () => {
    const names = validateMigrationInput(example()).names;
    expect(RESERVED_SCHEMAS).toEqual(expect.arrayContaining([...SYSTEM_SCHEMAS, MARKER_SCHEMA, names.heartbeatSchema]));
  });

  it('writeBlock.keepUsers: user names only (no host part, no quotes)', () => {
    const withKeep = (keepUsers: string[]) => {
      const raw = example();
      raw.cutover.writeBlock = { ...raw.cutover.writeBlock, keepUsers };
      return raw;
    };
    expect(validateMigrationInput(withKeep(['app', 'etl.batch', 'svc-reports'])).cutover.writeBlock?.keepUsers).toEqual(['app', 'etl.batch', 'svc-reports']);
    for (const bad of ["app' OR '1'='1", "app'@'%", 'a b', '']) expect(issuesOf(withKeep([bad]))).toEqual(['cutover.writeBlock.keepUsers.0']);
  });

  it('an empty input, null, a list or a string: one issue saying what the input must be', () => {
    for (const raw of [undefined, null, [], [{ migrationId: 'x' }], 'orders', 42]) {
      expect(notAnInputIssue(raw)?.message).toMatch(/^must be a YAML mapping or JSON object with migrationId/);
      expect(issuesOf(raw)).toEqual(['(input)']);
    }
    expect(notAnInputIssue({})).toBeNull();
  });

  it('the published JSON Schema refuses what the validator refuses (its patterns are the same rules)', () => {
    const schema = JSON.parse(inputJsonSchemaText());
    const props = schema.properties;
    const patterns = (node: any): RegExp[] => [node.pattern, ...(node.allOf ?? []).map((n: any) => n.pattern)].filter(Boolean).map((p: string) => new RegExp(p, 'u'));
    const ok = (node: any, value: string) => patterns(node).every((r) => r.test(value));
    const host = props.target.properties.endpoint.properties.host;
    expect(ok(host, 'db.example.com')).toBe(true);
    expect(ok(host, "127.0.0.1', MASTER_PASSWORD='x")).toBe(false);
    expect(ok(props.replication.properties.sourceHostForTarget, 'a b')).toBe(false);
    const schemaItem = props.initialLoad.properties.schemas.items;
    expect(ok(schemaItem, 'shop')).toBe(true);
    expect(ok(schemaItem, 'mysql')).toBe(false);
    expect(ok(schemaItem, 'shop`; DROP')).toBe(false);
    expect(props.initialLoad.properties.schemas.minItems).toBe(1);
    expect(ok(props.cutover.properties.writeBlock.properties.keepUsers.items, "app' OR '1'='1")).toBe(false);
  });

  it('publishes an up-to-date JSON Schema (run `npm run schema` after changing shared/input/schema.ts)', () => {
    expect(readFileSync('schema/migration-input.schema.json', 'utf8')).toBe(inputJsonSchemaText());
  });
});
