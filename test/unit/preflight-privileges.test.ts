// The admin-secret privilege check reads SHOW GRANTS lines as each engine prints them. The Aurora lines
// are the master user's privileges listed in the Aurora User Guide ("Master user account privileges"),
// printed the way MySQL 8 prints them (static privileges, then dynamic ones, then the role).
import { describe, expect, it } from 'vitest';
import { parseGrants, privilegeCheck, sourceNeeds, targetNeeds } from '../../shared/preflight/db-privilege-checks.js';
import { validateMigrationInput } from '../../shared/input/validate.js';
import { dialectFor } from '../../shared/mysql/dialect.js';

const AURORA3_MASTER = [
  'GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, REFERENCES, INDEX, ALTER, SHOW DATABASES, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION SLAVE, REPLICATION CLIENT, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER, EVENT, TRIGGER, CREATE ROLE, DROP ROLE ON *.* TO `admin`@`%` WITH GRANT OPTION',
  'GRANT APPLICATION_PASSWORD_ADMIN,CONNECTION_ADMIN,ROLE_ADMIN,SET_USER_ID,XA_RECOVER_ADMIN ON *.* TO `admin`@`%` WITH GRANT OPTION',
  'GRANT `rds_superuser_role`@`%` TO `admin`@`%`',
];
const AURORA2_MASTER = [
  "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, REFERENCES, INDEX, ALTER, SHOW DATABASES, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION SLAVE, REPLICATION CLIENT, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER, EVENT, TRIGGER, LOAD FROM S3, SELECT INTO S3 ON *.* TO 'admin'@'%' WITH GRANT OPTION",
];
// RDS for MySQL 8.0's master user (RDS User Guide, "Master user account privileges"): no SUPER, no
// SYSTEM_VARIABLES_ADMIN; replication and KILL go through the mysql.rds_* procedures.
const RDS_MYSQL8_MASTER = [
  'GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, REFERENCES, INDEX, ALTER, SHOW DATABASES, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION SLAVE, REPLICATION CLIENT, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER, EVENT, TRIGGER ON *.* TO `admin`@`%` WITH GRANT OPTION',
];
// MariaDB 10.11, as SHOW GRANTS printed them on this machine.
const MARIADB_ROOT = ['GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION', 'GRANT PROXY ON ``@`%` TO `root`@`localhost` WITH GRANT OPTION'];
const MARIADB_REPORTING = ["GRANT SELECT, SHOW VIEW ON *.* TO `reporting`@`%` IDENTIFIED BY PASSWORD '*0A88F3311775A9D6F16062BD12D3C40947A115E2'"];
const MARIADB_DBA = [
  "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, PROCESS, REFERENCES, INDEX, ALTER, SHOW DATABASES, REPLICATION SLAVE, BINLOG MONITOR, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER, EVENT, TRIGGER, CONNECTION ADMIN, READ_ONLY ADMIN, REPLICATION SLAVE ADMIN ON *.* TO `dba`@`%` IDENTIFIED BY PASSWORD '*0A88F3311775A9D6F16062BD12D3C40947A115E2' WITH GRANT OPTION",
];

const aurora = (reverseReplication: boolean) =>
  validateMigrationInput({
    migrationId: 'orders-1',
    source: { clusterArn: 'arn:aws:rds:us-east-1:111111111111:cluster:orders', adminSecret: 'env:S' },
    target: { adminSecret: 'env:T' },
    initialLoad: { method: 'clone' },
    cutover: { reverseReplication },
  });
const local = () =>
  validateMigrationInput({
    migrationId: 'orders-1',
    source: { endpoint: { host: '127.0.0.1', port: 3306 }, adminSecret: 'env:S' },
    target: { endpoint: { host: '127.0.0.1', port: 3307 }, adminSecret: 'env:T' },
    initialLoad: { method: 'logical' },
  });

describe('admin secrets hold what the migration does', () => {
  it('the Aurora MySQL 3 and 2 and RDS for MySQL 8 master users pass on both sides (nothing asked that RDS withholds)', () => {
    for (const [lines, engine] of [
      [AURORA3_MASTER, 'aurora-mysql-3'],
      [AURORA2_MASTER, 'aurora-mysql-2'],
      [RDS_MYSQL8_MASTER, 'rds-mysql-8'],
    ] as const) {
      expect(privilegeCheck('source', 'admin', parseGrants([...lines]), sourceNeeds(aurora(true), dialectFor(engine))).status).toBe('pass');
      expect(privilegeCheck('target', 'admin', parseGrants([...lines]), targetNeeds(aurora(true), dialectFor(engine))).status).toBe('pass');
    }
  });

  it('MariaDB root and a DBA granted exactly what is used pass; a password hash is never read as a privilege', () => {
    expect(privilegeCheck('source', 'root', parseGrants(MARIADB_ROOT), sourceNeeds(local(), dialectFor('mariadb'))).status).toBe('pass');
    // The same RDS master user on a self-managed MySQL 8 lacks what crossmove then does itself.
    const selfManaged = privilegeCheck('source', 'admin', parseGrants(RDS_MYSQL8_MASTER), sourceNeeds(local(), dialectFor('mysql-8')));
    expect(selfManaged.status).toBe('fail');
    expect(selfManaged.message).toContain('SUPER or READ_ONLY ADMIN or SYSTEM_VARIABLES_ADMIN for blocking writes (read_only)');
    const dba = parseGrants(MARIADB_DBA);
    expect([...dba.global].some((p) => p.includes('PASSWORD'))).toBe(false);
    expect(privilegeCheck('source', 'dba', dba, sourceNeeds(local(), dialectFor('mariadb'))).status).toBe('pass');
    expect(privilegeCheck('target', 'dba', dba, targetNeeds(local(), dialectFor('mariadb'))).status).toBe('pass');
  });

  it('a reporting user fails naming the field, each missing privilege and what it is for', () => {
    const check = privilegeCheck('source', 'reporting', parseGrants(MARIADB_REPORTING), sourceNeeds(local(), dialectFor('mariadb')));
    expect(check.status).toBe('fail');
    expect(check.message).toMatch(/^source\.adminSecret is the secret of user reporting/);
    expect(check.message).toContain('CREATE USER for the replication user');
    expect(check.message).toContain('REPLICATION SLAVE WITH GRANT OPTION');
    expect(check.message).not.toContain('SELECT for reading the data');
    expect(check.fix).toContain('source.adminSecret');
  });

  it('replication without GRANT OPTION fails; heartbeat rights on its own schema are enough', () => {
    const lines = [
      'GRANT SELECT, PROCESS, REPLICATION SLAVE, BINLOG MONITOR, SHOW VIEW, CREATE USER, EVENT, TRIGGER, CONNECTION ADMIN, READ_ONLY ADMIN ON *.* TO `m`@`%`',
      'GRANT CREATE, INSERT, UPDATE, DROP ON `crossmove`.* TO `m`@`%`',
    ];
    const check = privilegeCheck('source', 'm', parseGrants(lines), sourceNeeds(local(), dialectFor('mariadb')));
    expect(check.status).toBe('fail');
    expect(check.message).toContain('REPLICATION SLAVE WITH GRANT OPTION for granting it replication');
    expect(check.message).not.toContain('heartbeat');
    const withGrant = privilegeCheck('source', 'm', parseGrants([lines[0]!.replace(/`%`$/, '`%` WITH GRANT OPTION'), lines[1]!]), sourceNeeds(local(), dialectFor('mariadb')));
    expect(withGrant.status).toBe('pass');
  });

  it('a user whose privileges may come through a role is warned, never refused (SHOW GRANTS does not expand roles)', () => {
    const check = privilegeCheck('source', 'app', parseGrants([...MARIADB_REPORTING, 'GRANT `dba_role` TO `app`@`%`']), sourceNeeds(local(), dialectFor('mariadb')));
    expect(check.status).toBe('warn');
    expect(check.message).toContain('through a role');
  });
});
