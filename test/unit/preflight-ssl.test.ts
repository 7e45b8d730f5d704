// The replication-ssl preflight check: encrypted replication wherever the replica's engine documents a
// way (Aurora MySQL 2 ssl_encryption=1; Aurora MySQL 3 imported material or rds_set_binlog_source_ssl
// from 3.06), refused only where there is none, and the missing certificate verification said out loud.
import { describe, expect, it } from 'vitest';
import { validateMigrationInput } from '../../shared/input/validate.js';
import { dialectFor, withServer } from '../../shared/mysql/dialect.js';
import { sslChecks } from '../../shared/preflight/db-ssl-checks.js';
import { identityFromClusterEngineVersion } from '../../shared/mysql/detect.js';
import { inspectDatabases } from '../../shared/preflight/db-checks.js';
import { crossAccountState } from '../aws/mock-fixtures.js';

const input = (replication: Record<string, unknown>, reverseReplication = true) =>
  validateMigrationInput({
    migrationId: 'ssl-check',
    source: { endpoint: { host: 'src.example.com' }, adminSecret: 'env:X' },
    target: { endpoint: { host: 'tgt.example.com' }, adminSecret: 'env:Y' },
    replication,
    cutover: { reverseReplication },
  });
const aurora3 = (auroraVersion: string) => withServer({ engine: 'aurora-mysql-3', product: 'Aurora MySQL', version: '8.0.32', auroraVersion });
const d = dialectFor;

describe('replication.ssl preflight', () => {
  it('passes without ssl, saying replication is plain text', () => {
    const [check] = sslChecks(input({ ssl: false }), d('aurora-mysql-2'), d('aurora-mysql-2'));
    expect(check).toMatchObject({ id: 'replication-ssl', status: 'pass', message: expect.stringContaining('plain text') });
  });

  it('encrypts into Aurora MySQL 2 with ssl_encryption=1 (no material needed), warning that certificates are not verified', () => {
    const [check] = sslChecks(input({ ssl: true }, false), d('mysql-8'), d('aurora-mysql-2'));
    expect(check).toMatchObject({ status: 'warn' });
    expect(check!.message).toContain('target (aurora-mysql-2): ssl_encryption=1 of mysql.rds_set_external_master');
    expect(check!.message).toMatch(/certificates are not verified/);
    expect(check!.fix).toMatch(/Keep the replication path private/);
  });

  it('encrypts into Aurora MySQL 3.06+ with rds_set_binlog_source_ssl, or with ssl_encryption=1 once the material is imported', () => {
    expect(sslChecks(input({ ssl: true }), aurora3('3.06.0'), aurora3('3.06.0'))[0]!.message).toContain('mysql.rds_set_binlog_source_ssl(1)');
    expect(sslChecks(input({ ssl: true, sslMaterialImported: true }), aurora3('3.04.1'), aurora3('3.04.1'))[0]).toMatchObject({ status: 'warn', message: expect.stringContaining('with the imported material') });
    // Engine named in the input, version unknown: allowed, "Start replication" refuses an older 3.x itself.
    expect(sslChecks(input({ ssl: true }), d('aurora-mysql-3'), d('aurora-mysql-3'))[0]).toMatchObject({ status: 'warn', message: expect.stringContaining('an older 3.x is refused') });
  });

  it('fails an Aurora MySQL 3 before 3.06 without imported material, on both sides when replicating back, with every way out', () => {
    const [check] = sslChecks(input({ ssl: true }), aurora3('3.04.1'), aurora3('3.04.1'));
    expect(check!.status).toBe('fail');
    expect(check!.message).toContain('target (aurora-mysql-3)');
    expect(check!.message).toContain('source (reverse replication) (aurora-mysql-3)');
    expect(check!.message).toContain('Aurora MySQL 3.04.1');
    expect(check!.fix).toMatch(/3\.06 or newer.*rds_import_binlog_ssl_material.*sslMaterialImported.*replication\.ssl to false/);
    // Without reverse replication only the target matters.
    expect(sslChecks(input({ ssl: true }, false), aurora3('3.04.1'), d('mysql-8'))[0]!.status).toBe('warn');
  });
});

describe('replication.ssl judged from the cluster when the source database is out of reach (plan from outside the VPC)', () => {
  it('reads the Aurora version from the RDS EngineVersion', () => {
    expect(identityFromClusterEngineVersion('8.0.mysql_aurora.3.06.0')).toEqual({ engine: 'aurora-mysql-3', product: 'Aurora MySQL', version: '8.0', auroraVersion: '3.06.0' });
    expect(identityFromClusterEngineVersion('5.7.mysql_aurora.2.12.4')).toMatchObject({ engine: 'aurora-mysql-2', auroraVersion: '2.12.4' });
    // Aurora MySQL 1 and unknown formats: no guess.
    expect(identityFromClusterEngineVersion('5.6.mysql_aurora.1.23.4')).toBeNull();
    expect(identityFromClusterEngineVersion('5.6.10a')).toBeNull();
    expect(identityFromClusterEngineVersion(undefined)).toBeNull();
  });

  const unreached = (engineVersion: string) => {
    const state = crossAccountState();
    // No source endpoint was read (the cluster check ran, the database is not reachable from here): no connection is opened.
    return inspectDatabases({ ...state, preflight: { ok: true, checks: [], sourceCluster: { engineVersion, kmsKeyArn: null, parameterGroup: 'orders-binlog', instanceCount: 1 } } });
  };

  it('fails a clone of an Aurora MySQL 3.04 cluster without imported material, before anything is reached', async () => {
    const checks = await unreached('8.0.mysql_aurora.3.04.1');
    expect(checks.find((c) => c.id === 'db-source-reachable')?.status).toBe('warn');
    expect(checks.find((c) => c.id === 'replication-ssl')).toMatchObject({ status: 'fail', message: expect.stringContaining('Aurora MySQL 3.04.1'), fix: expect.stringContaining('3.06 or newer') });
  });

  it('warns for a 3.06 cluster that replication is encrypted but the source certificate is not verified', async () => {
    const check = (await unreached('8.0.mysql_aurora.3.06.0')).find((c) => c.id === 'replication-ssl');
    expect(check).toMatchObject({ status: 'warn', message: expect.stringMatching(/rds_set_binlog_source_ssl\(1\).*not verified/) });
  });
});
