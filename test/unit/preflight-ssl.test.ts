import { describe, expect, it } from 'vitest';
import { validateMigrationInput } from '../../shared/input/validate.js';
import { sslChecks } from '../../shared/preflight/db-ssl-checks.js';

const input = (replication: Record<string, unknown>, reverseReplication = true) =>
  validateMigrationInput({
    migrationId: 'ssl-check',
    source: { endpoint: { host: 'src.example.com' }, adminSecret: 'env:X' },
    target: { endpoint: { host: 'tgt.example.com' }, adminSecret: 'env:Y' },
    replication,
    cutover: { reverseReplication },
  });

describe('replication.ssl preflight', () => {
  it('passes without ssl, and with ssl where the engine can encrypt replication', () => {
    expect(sslChecks(input({ ssl: false }), 'aurora-mysql-2', 'aurora-mysql-2')[0]!.status).toBe('pass');
    expect(sslChecks(input({ ssl: true }), 'mysql-8', 'mariadb')[0]!.status).toBe('pass');
    expect(sslChecks(input({ ssl: true, sslMaterialImported: true }), 'aurora-mysql-3', 'aurora-mysql-3')[0]!.status).toBe('pass');
  });

  it('fails Aurora MySQL 2 with ssl, naming the side and the fix', () => {
    const [check] = sslChecks(input({ ssl: true }), 'mysql-8', 'aurora-mysql-2');
    expect(check).toMatchObject({ id: 'replication-ssl', status: 'fail' });
    expect(check!.message).toContain('target (aurora-mysql-2)');
    expect(check!.fix).toContain('replication.ssl to false');
  });

  it('fails Aurora MySQL 3 with ssl until the material is imported, on both sides when replicating back', () => {
    const [check] = sslChecks(input({ ssl: true }), 'aurora-mysql-3', 'aurora-mysql-3');
    expect(check!.status).toBe('fail');
    expect(check!.message).toContain('rds_import_binlog_ssl_material');
    expect(check!.message).toContain('source (reverse replication) (aurora-mysql-3)');
    // Without reverse replication only the target matters.
    expect(sslChecks(input({ ssl: true }, false), 'aurora-mysql-2', 'mysql-8')[0]!.status).toBe('pass');
  });
});
