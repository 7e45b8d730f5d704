// The database half of the preflight against real MariaDB servers: each check with a passing and a
// failing (or warning) case, and a recorder on the connections proving that inspectDatabases only
// reads (SELECT, SHOW, CALL mysql.rds_show_configuration).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, freePort, type MariaDbServer } from '../../local/mariadb.js';
import type { Conn } from '../../shared/mysql/connection.js';
import { inspectDatabases } from '../../shared/preflight/db-checks.js';
import type { CheckOutcome } from '../../shared/preflight/checks.js';
import { expectedInitialLoadHours } from '../../shared/preflight/db-binlog-checks.js';
import { installAuroraEmulation, removeAuroraEmulation, useAuroraAdminSecret } from '../support/aurora-emulation.js';
import { startMariaDb } from '../../local/mariadb.js';
import type { MigrationState } from '../../shared/state.js';
import { startServers, stateFor, useLocalSecrets } from './fixtures.js';

let source: MariaDbServer;
let target: MariaDbServer;
let noBinlog: MariaDbServer;
let base: MigrationState;
const READ_ONLY = /^\s*(SELECT|SHOW|CALL mysql\.rds_show_configuration\b)/i;

async function sql(server: MariaDbServer, ...statements: string[]): Promise<void> {
  const c = await server.connect();
  try {
    for (const s of statements) await c.query(s);
  } finally {
    await c.end();
  }
}

/** Records every statement; optionally rewrites the answer of SELECT VERSION() (to stand for another engine). */
function recorder(log: string[], opts: { version?: Partial<Record<'source' | 'target', string>> } = {}) {
  return (conn: Conn, side: 'source' | 'target'): Conn =>
    new Proxy(conn, {
      get(obj, prop, receiver) {
        if (prop !== 'query') {
          const v = Reflect.get(obj, prop, receiver);
          return typeof v === 'function' ? v.bind(obj) : v;
        }
        return async (...args: any[]) => {
          const text = typeof args[0] === 'string' ? args[0] : args[0].sql;
          log.push(`${side}: ${text}`);
          const version = opts.version?.[side];
          if (version && /SELECT VERSION\(\) AS v/.test(text)) return [[{ v: version }], []];
          return (obj.query as any)(...args);
        };
      },
    });
}

function byId(checks: CheckOutcome[], id: string): CheckOutcome {
  const c = checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id} in ${checks.map((x) => x.id).join(', ')}`);
  return c;
}

function withInput(state: MigrationState, patch: (input: any) => void): MigrationState {
  const input = structuredClone(state.input);
  patch(input);
  return { ...state, input };
}

beforeAll(async () => {
  useLocalSecrets();
  [[source, target], noBinlog] = await Promise.all([startServers(2, 61), startMariaDb({ serverId: 63, config: { 'skip-log-bin': 1 } })]);
  await sql(
    source,
    'CREATE DATABASE app',
    'CREATE TABLE app.accounts (id INT PRIMARY KEY, balance DECIMAL(12,2)) ENGINE=InnoDB',
    "INSERT INTO app.accounts VALUES (1, 10), (2, 20)",
    "CREATE USER 'app_rw'@'%' IDENTIFIED BY 'app-rw-secret-1'",
    "GRANT SELECT, INSERT ON app.* TO 'app_rw'@'%'",
  );
  await sql(target, 'CREATE DATABASE app', "CREATE USER 'app_rw'@'%' IDENTIFIED BY 'app-rw-secret-1'", "GRANT SELECT, INSERT ON app.* TO 'app_rw'@'%'");
  base = stateFor(source, target, { cutover: { dns: { hostedZoneId: 'Z123', recordName: 'db.example.com', ttl: 30 } } });
});

afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop(), noBinlog?.stop()]);
});

describe('inspectDatabases (real MariaDB)', () => {
  it('passes every check on a well-prepared source and target, sending only reads', async () => {
    const log: string[] = [];
    const checks = await inspectDatabases(base, { wrap: recorder(log) });
    expect(checks.filter((c) => c.status !== 'pass')).toEqual([]);
    expect(checks.map((c) => c.id).sort()).toEqual(
      [
        'db-binlog-retention-budget',
        'db-engine-versions',
        // The logical copy's source: which frozen source applies, and tables copied whole.
        'db-initial-load-source',
        'db-primary-keys',
        'db-same-server',
        'db-schemas',
        'db-source-binlog-format',
        'db-source-binlog-retention',
        'db-source-engine',
        'db-source-log-bin',
        'db-source-privileges',
        'db-source-reachable',
        'db-table-engines',
        'db-target-binlogs',
        'db-target-empty',
        'db-target-engine',
        'db-target-privileges',
        'db-target-reachable',
        'db-users',
        'db-whole-table-copy',
        'dns-ttl',
        'replication-ssl',
      ].sort(),
    );
    expect(log.length).toBeGreaterThan(8);
    expect(log.some((s) => s.startsWith('target:'))).toBe(true);
    expect(log.map((s) => s.replace(/^\w+: /, '')).filter((s) => !READ_ONLY.test(s))).toEqual([]);
  });

  it('binlog_format STATEMENT: warns with the fix; log_bin off: fails with BinlogDisabledError', async () => {
    await sql(source, "SET GLOBAL binlog_format = 'STATEMENT'");
    try {
      const c = byId(await inspectDatabases(base), 'db-source-binlog-format');
      expect(c).toMatchObject({ status: 'warn' });
      expect(c.message).toMatch(/STATEMENT/);
      expect(c.fix).toMatch(/ROW/);
    } finally {
      await sql(source, "SET GLOBAL binlog_format = 'ROW'");
    }
    const off = await inspectDatabases(stateFor(noBinlog, target));
    expect(byId(off, 'db-source-log-bin')).toMatchObject({ status: 'fail', error: 'BinlogDisabledError' });
    expect(byId(off, 'db-source-log-bin').message).toMatch(/log_bin = OFF/);
  });

  it('retention shorter than binlogRetentionHours warns (crossmove raises it); a budget shorter than the initial load fails', async () => {
    await sql(source, 'SET GLOBAL binlog_expire_logs_seconds = 3600');
    try {
      const checks = await inspectDatabases(base);
      expect(byId(checks, 'db-source-binlog-retention')).toMatchObject({ status: 'warn' });
      expect(byId(checks, 'db-source-binlog-retention').message).toMatch(/1 h, shorter than replication.binlogRetentionHours \(72 h\)/);
    } finally {
      await sql(source, 'SET GLOBAL binlog_expire_logs_seconds = 0');
    }
    const short = await inspectDatabases(withInput(base, (i) => (i.replication.binlogRetentionHours = 1)));
    expect(byId(short, 'db-binlog-retention-budget')).toMatchObject({ status: 'fail' });
    expect(byId(short, 'db-binlog-retention-budget').fix).toMatch(/binlogRetentionHours to at least 2/);
    expect(expectedInitialLoadHours('clone', 0)).toBe(2);
    expect(expectedInitialLoadHours('snapshot', 1024 ** 4)).toBeGreaterThan(expectedInitialLoadHours('snapshot', 0));
  });

  it('engine versions: an older target fails, MariaDB <-> MySQL warns, a newer target warns only with reverse replication', async () => {
    const run = (version: string, reverse = true) =>
      inspectDatabases(withInput(base, (i) => (i.cutover.reverseReplication = reverse)), { wrap: recorder([], { version: { target: version } }) });
    const older = byId(await run('10.6.18-MariaDB'), 'db-engine-versions');
    expect(older).toMatchObject({ status: 'fail' });
    expect(older.message).toMatch(/older than the source/);
    expect(byId(await run('8.0.36'), 'db-engine-versions')).toMatchObject({ status: 'warn' });
    expect(byId(await run('11.4.2-MariaDB'), 'db-engine-versions')).toMatchObject({ status: 'warn' });
    expect(byId(await run('11.4.2-MariaDB', false), 'db-engine-versions')).toMatchObject({ status: 'pass' });
  });

  it('reachability: a closed port and a wrong password fail with different fixes (and no password in the message)', async () => {
    const closed = await freePort();
    const checks = await inspectDatabases(withInput(base, (i) => (i.source.endpoint = { host: '127.0.0.1', port: closed })));
    const r = byId(checks, 'db-source-reachable');
    expect(r).toMatchObject({ status: 'fail' });
    expect(r.message).toMatch(new RegExp(`127.0.0.1:${closed}.*ECONNREFUSED`));
    expect(r.fix).toMatch(/inbound TCP/);
    process.env.P8_WRONG_PW = JSON.stringify({ username: 'admin', password: 'definitely-wrong-pw-42' });
    const bad = byId(await inspectDatabases(withInput(base, (i) => (i.source.adminSecret = 'env:P8_WRONG_PW'))), 'db-source-reachable');
    expect(bad).toMatchObject({ status: 'fail' });
    expect(bad.message).toMatch(/logging in as admin failed.*Access denied/);
    expect(JSON.stringify(bad)).not.toContain('definitely-wrong-pw-42');
  });

  it('users that exist only on the source are listed (never their password hashes)', async () => {
    expect(byId(await inspectDatabases(base), 'db-users')).toMatchObject({ status: 'pass' });
    await sql(source, "CREATE USER 'reporting'@'%' IDENTIFIED BY 'reporting-secret-9'", "GRANT SELECT ON app.* TO 'reporting'@'%'", "GRANT DELETE ON app.* TO 'app_rw'@'%'");
    try {
      const c = byId(await inspectDatabases(base), 'db-users');
      expect(c).toMatchObject({ status: 'warn' });
      expect(c.message).toContain("exist only on the source: 'reporting'@'%'");
      expect(c.message).toContain("have fewer grants on the target: 'app_rw'@'%'");
      expect(c.fix).toMatch(/applyMissingGrants/);
      expect(JSON.stringify(c)).not.toMatch(/reporting-secret-9|\*[0-9A-F]{40}/);
    } finally {
      await sql(source, "DROP USER 'reporting'@'%'", "REVOKE DELETE ON app.* FROM 'app_rw'@'%'");
    }
  });

  it('tables without a primary key warn; non-InnoDB tables fail with their names and the ALTER to run', async () => {
    await sql(source, 'CREATE TABLE app.events (at DATETIME, what TEXT) ENGINE=InnoDB', 'CREATE TABLE app.legacy (id INT PRIMARY KEY) ENGINE=MyISAM');
    try {
      const checks = await inspectDatabases(base);
      const pk = byId(checks, 'db-primary-keys');
      expect(pk).toMatchObject({ status: 'warn' });
      expect(pk.message).toContain('app.events');
      expect(pk.message).not.toContain('app.accounts');
      const engines = byId(checks, 'db-table-engines');
      expect(engines).toMatchObject({ status: 'fail' });
      expect(engines.message).toContain('app.legacy (MyISAM)');
      expect(engines.fix).toContain('ALTER TABLE `app`.`legacy` ENGINE=InnoDB');
    } finally {
      await sql(source, 'DROP TABLE app.events, app.legacy');
    }
  });

  it('logical copy: a table that already exists on the target fails (it would be overwritten)', async () => {
    await sql(target, 'CREATE TABLE app.accounts (id INT PRIMARY KEY)');
    try {
      const c = byId(await inspectDatabases(base), 'db-target-empty');
      expect(c).toMatchObject({ status: 'fail' });
      expect(c.message).toContain('app.accounts');
    } finally {
      await sql(target, 'DROP TABLE app.accounts');
    }
  });

  it("reverse replication needs the target's binlogs: fails on a target without log_bin, passes when not requested", async () => {
    const onNoBinlog = stateFor(source, noBinlog);
    const c = byId(await inspectDatabases(onNoBinlog), 'db-target-binlogs');
    expect(c).toMatchObject({ status: 'fail' });
    expect(c.fix).toMatch(/binlog_format = ROW/);
    expect(byId(await inspectDatabases(withInput(onNoBinlog, (i) => (i.cutover.reverseReplication = false))), 'db-target-binlogs')).toMatchObject({ status: 'pass' });
    // Clone path (no target yet): the new cluster's group has binlogs on either way (crossmove's copy of
    // the source's without a given one; a given one without binlogs fails target-parameter-group).
    const clone = withInput(base, (i) => {
      i.target.endpoint = undefined;
      i.initialLoad = { ...i.initialLoad, method: 'clone' };
    });
    expect(byId(await inspectDatabases(clone), 'db-target-binlogs')).toMatchObject({ status: 'pass', message: expect.stringContaining(`cluster parameter group ${clone.input.names.targetClusterParameterGroupName}, a copy of the source's with binlogs on`) });
    expect(byId(await inspectDatabases(withInput(clone, (i) => (i.target.dbClusterParameterGroupName = 'binlog-row'))), 'db-target-binlogs')).toMatchObject({ status: 'pass' });
  });

  it('DNS TTL above 60 s warns', async () => {
    expect(byId(await inspectDatabases(base), 'dns-ttl')).toMatchObject({ status: 'pass' });
    const c = byId(await inspectDatabases(withInput(base, (i) => (i.cutover.dns.ttl = 300))), 'dns-ttl');
    expect(c).toMatchObject({ status: 'warn' });
    expect(c.message).toMatch(/300 s/);
  });

  it('Aurora MySQL 3 source, as its master user: detected by aurora_version(), retention read with CALL mysql.rds_show_configuration (NULL warns, 72 h passes), still only reads', async () => {
    const c = await source.connect();
    await installAuroraEmulation(c, 3);
    try {
      const adminSecret = useAuroraAdminSecret();
      const aurora = withInput(base, (i) => (i.source.adminSecret = adminSecret));
      const log: string[] = [];
      const checks = await inspectDatabases(aurora, { wrap: recorder(log) });
      expect(byId(checks, 'db-source-engine')).toMatchObject({ status: 'pass', message: expect.stringContaining('Aurora MySQL 3.06.0') });
      expect(byId(checks, 'db-source-binlog-retention')).toMatchObject({ status: 'warn' });
      expect(byId(checks, 'db-source-binlog-retention').message).toMatch(/NULL/);
      expect(byId(checks, 'db-source-binlog-retention').fix).toMatch(/rds_set_configuration\('binlog retention hours', 72\)/);
      expect(log).toContain('source: CALL mysql.rds_show_configuration');
      expect(log.map((s) => s.replace(/^\w+: /, '')).filter((s) => !READ_ONLY.test(s))).toEqual([]);
      await c.query("CALL mysql.rds_set_configuration('binlog retention hours', 72)");
      expect(byId(await inspectDatabases(aurora), 'db-source-binlog-retention')).toMatchObject({ status: 'pass' });
    } finally {
      await removeAuroraEmulation(c);
      await c.query('SET GLOBAL binlog_expire_logs_seconds = 0');
      await c.end();
    }
  });

  it('a retention that cannot be read warns with what it needs, and the budget check still runs', async () => {
    // Aurora named in the input, no rds_* procedures on the server: the CALL fails.
    const checks = await inspectDatabases(withInput(base, (i) => (i.source.engine = 'aurora-mysql-3')));
    expect(byId(checks, 'db-source-binlog-retention')).toMatchObject({ status: 'warn', message: expect.stringMatching(/^Could not check binlog retention: .*rds_show_configuration/), fix: expect.stringContaining('CALL mysql.rds_show_configuration on Aurora') });
    expect(byId(checks, 'db-binlog-retention-budget')).toMatchObject({ status: 'pass' });
  });

  it('a check the admin user lacks privileges for warns (naming the MySQL error) instead of failing the preflight', async () => {
    await sql(source, "CREATE USER 'limited'@'%' IDENTIFIED BY 'limited-pw-55'", "GRANT SELECT ON app.* TO 'limited'@'%'");
    process.env.P8_LIMITED = JSON.stringify({ username: 'limited', password: 'limited-pw-55' });
    try {
      const c = byId(await inspectDatabases(withInput(base, (i) => (i.source.adminSecret = 'env:P8_LIMITED'))), 'db-users');
      expect(c).toMatchObject({ status: 'warn' });
      expect(c.message).toMatch(/Could not check users and grants: .*(denied|1142)/i);
      expect(JSON.stringify(c)).not.toContain('limited-pw-55');
    } finally {
      await sql(source, "DROP USER 'limited'@'%'");
    }
  });

  it('never reports the admin password', async () => {
    const all = JSON.stringify(await inspectDatabases(base));
    expect(all).not.toContain(ADMIN_PASSWORD);
  });
});
