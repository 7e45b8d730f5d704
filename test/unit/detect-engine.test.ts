// Engine detection and the per-engine choices that follow from it, for the MySQL servers this machine
// cannot run: no MySQL server is installable here (Debian 12 ships none; npm packages that "ship MySQL"
// download it at run time), so Aurora MySQL, RDS for MySQL and self-managed MySQL are played by a
// connection that answers each statement the way that server documents it (VERSION(), aurora_version()
// and its errors, @@basedir, information_schema). MariaDB and the Aurora emulation are detected for
// real in test/db/replication.test.ts and test/db/aurora-dialect.test.ts.
import { describe, expect, it } from 'vitest';
import type { Conn } from '../../shared/mysql/connection.js';
import { detectServer } from '../../shared/mysql/detect.js';
import { dialectFor, resolveDialect, withServer } from '../../shared/mysql/dialect.js';
import { replicationAuth } from '../../shared/mysql/replication-user.js';
import { validateMigrationInput } from '../../shared/input/validate.js';
import { retentionBudgetChecks } from '../../shared/preflight/db-binlog-checks.js';

interface FakeServer {
  version: string;
  /** aurora_version()'s answer; undefined = MySQL's "no such function" (1046 without a default database). */
  auroraVersion?: string;
  basedir?: string;
  rdsProcedures?: number;
  nativePlugin?: 'ACTIVE' | 'DISABLED' | null;
}

/** A mysql2-like connection answering like the server described; records what it was sent. */
function fake(server: FakeServer): { conn: Conn; sent: string[] } {
  const sent: string[] = [];
  const conn = {
    query: async (o: { sql: string }) => {
      sent.push(o.sql);
      if (/^SELECT VERSION\(\)/.test(o.sql)) return [[{ v: server.version }]];
      if (/aurora_version\(\)/.test(o.sql)) {
        if (server.auroraVersion) return [[{ v: server.auroraVersion }]];
        throw Object.assign(new Error('No database selected'), { errno: 1046, code: 'ER_NO_DB_ERROR' });
      }
      if (/@@global\.basedir/.test(o.sql)) return [[{ basedir: server.basedir ?? '/usr/', procs: server.rdsProcedures ?? 0 }]];
      if (/information_schema\.PLUGINS/.test(o.sql)) return [server.nativePlugin ? [{ s: server.nativePlugin }] : []];
      throw new Error(`unexpected statement: ${o.sql}`);
    },
  } as unknown as Conn;
  return { conn, sent };
}

const AURORA_3 = { version: '8.0.28', auroraVersion: '3.04.1', basedir: '/rdsdbbin/oscar-8.0.mysql_aurora.3.04.1/', rdsProcedures: 40 };
const AURORA_2 = { version: '5.7.12', auroraVersion: '2.11.2', basedir: '/rdsdbbin/oscar-5.7.mysql_aurora.2.11.2/', rdsProcedures: 40 };
const RDS_MYSQL_8 = { version: '8.0.35', basedir: '/rdsdbbin/mysql-8.0.35.R2/', rdsProcedures: 30 };

describe('engine detection (MySQL paths played by a scripted connection: no MySQL server is installable here)', () => {
  it('Aurora MySQL by aurora_version(), not by its plain VERSION()', async () => {
    expect(await detectServer(fake(AURORA_3).conn)).toEqual({ engine: 'aurora-mysql-3', product: 'Aurora MySQL', version: '8.0.28', auroraVersion: '3.04.1' });
    expect((await detectServer(fake(AURORA_2).conn)).engine).toBe('aurora-mysql-2');
  });

  it('RDS for MySQL 8 (which has mysql.rds_* procedures too) is not Aurora', async () => {
    expect(await detectServer(fake(RDS_MYSQL_8).conn)).toMatchObject({ engine: 'rds-mysql-8', product: 'RDS for MySQL', auroraVersion: null });
    expect((await detectServer(fake({ version: '8.4.3', rdsProcedures: 30 }).conn)).engine).toBe('rds-mysql-8');
  });

  it('self-managed MySQL 8.0.23+ and 8.4 are mysql-8', async () => {
    expect((await detectServer(fake({ version: '8.0.23' }).conn)).engine).toBe('mysql-8');
    expect((await detectServer(fake({ version: '8.4.0-log' }).conn)).engine).toBe('mysql-8');
  });

  it('refuses MySQL 5.7 and MySQL 8.0 before 8.0.23, saying why and what to do', async () => {
    const refusal = (s: FakeServer) => detectServer(fake(s).conn).then(() => null, (e: Error) => e);
    const v57 = await refusal({ version: '5.7.44-log' });
    expect(v57).toMatchObject({ name: 'UnsupportedEngineError', message: expect.stringMatching(/MySQL 5\.7\.44-log.*CHANGE REPLICATION SOURCE TO.*Upgrade it to MySQL 8\.0\.23/) });
    expect(await refusal({ version: '5.7.41', rdsProcedures: 30 })).toMatchObject({ message: expect.stringContaining('RDS for MySQL 5.7.41') });
    expect(await refusal({ version: '8.0.22' })).toMatchObject({ name: 'UnsupportedEngineError', message: expect.stringContaining('older than 8.0.23') });
    expect(await refusal({ version: '5.6.10', auroraVersion: '1.23.4' })).toMatchObject({ message: expect.stringContaining('Aurora MySQL 1.23.4') });
  });

  it('MariaDB by VERSION(), without asking for RDS traits', async () => {
    const { conn, sent } = fake({ version: '10.11.19-MariaDB-0+deb12u1-log' });
    expect((await detectServer(conn)).engine).toBe('mariadb');
    expect(sent.some((s) => s.includes('basedir'))).toBe(false);
  });

  it('an engine named in the input is used as given, without detection', async () => {
    const { conn, sent } = fake(RDS_MYSQL_8);
    expect((await resolveDialect(conn, 'mysql-8')).engine).toBe('mysql-8');
    expect(sent).toEqual([]);
    const detected = await resolveDialect(conn, undefined);
    expect(detected).toMatchObject({ engine: 'rds-mysql-8', managed: true, maxRetentionHours: 168, server: { version: '8.0.35' } });
  });
});

describe('what the detected engine decides', () => {
  const input = (hours: number) =>
    validateMigrationInput({
      migrationId: 'retention-cap',
      source: { endpoint: { host: 'src.example.com' }, adminSecret: 'env:X' },
      target: { endpoint: { host: 'tgt.example.com' }, adminSecret: 'env:Y' },
      initialLoad: { method: 'logical' },
      replication: { binlogRetentionHours: hours },
    });
  const maxCheck = (dialect: ReturnType<typeof dialectFor>, hours: number) => retentionBudgetChecks(input(hours), dialect, 0).find((c) => c.id === 'db-binlog-retention-max');

  it("checks RDS for MySQL's 168 h binlog retention cap (it went unchecked when RDS MySQL was taken for Aurora 3)", async () => {
    const rds = await resolveDialect(fake(RDS_MYSQL_8).conn, undefined);
    expect(maxCheck(rds, 240)).toMatchObject({ status: 'fail', message: expect.stringContaining('RDS for MySQL keeps binlogs at most 168 h') });
    expect(maxCheck(rds, 168)).toBeUndefined();
    expect(maxCheck(await resolveDialect(fake(AURORA_3).conn, undefined), 2000)).toBeUndefined();
  });

  it('knows the Aurora MySQL 2 cap from its version: 168 h before 2.11, 2160 h after; a warning when the version is unknown', () => {
    const aurora2 = (auroraVersion: string) => withServer({ engine: 'aurora-mysql-2', product: 'Aurora MySQL', version: '5.7.12', auroraVersion });
    expect(maxCheck(aurora2('2.10.3'), 500)).toMatchObject({ status: 'fail', message: expect.stringContaining('Aurora MySQL 2.10.3 caps binlog retention at 168 h') });
    expect(maxCheck(aurora2('2.11.2'), 500)).toBeUndefined();
    expect(maxCheck(dialectFor('aurora-mysql-2'), 500)).toMatchObject({ status: 'warn' });
  });

  it('creates the replication user with mysql_native_password (hash sent, never the password) where the server has it', async () => {
    const password = 'Cm1-not-a-real-password-0123456789';
    for (const [dialect, server] of [
      [dialectFor('aurora-mysql-3'), AURORA_3],
      [dialectFor('aurora-mysql-2'), AURORA_2],
      [dialectFor('rds-mysql-8'), { ...RDS_MYSQL_8, nativePlugin: 'ACTIVE' as const }],
      [dialectFor('mysql-8'), { version: '8.0.36', nativePlugin: 'ACTIVE' as const }],
    ] as const) {
      const auth = await replicationAuth(fake(server).conn, dialect, password);
      expect(auth).toMatchObject({ plugin: 'mysql_native_password', sql: 'IDENTIFIED WITH mysql_native_password AS ?' });
      expect(auth.value).toMatch(/^\*[0-9A-F]{40}$/);
    }
  });

  it('falls back to caching_sha2_password where mysql_native_password is off or gone (MySQL 8.4+)', async () => {
    for (const nativePlugin of ['DISABLED', null] as const) {
      const auth = await replicationAuth(fake({ version: '8.4.3', nativePlugin }).conn, dialectFor('mysql-8'), 'pw-0123456789abcdef');
      expect(auth).toEqual({ plugin: 'caching_sha2_password', sql: 'IDENTIFIED WITH caching_sha2_password BY ?', value: 'pw-0123456789abcdef' });
    }
  });
});
