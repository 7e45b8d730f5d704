// Which columns the logical copy treats as computed: the catalog shapes of MySQL 8 / Aurora 3 (EXTRA
// DEFAULT_GENERATED on ordinary columns with expression defaults) and of MariaDB (checked on a real server).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MariaDbServer } from '../../local/mariadb.js';
import { describeTables, isGenerated } from '../../shared/initial-load/inspect.js';
import { startServers } from './fixtures.js';

describe('isGenerated (catalog rows as MySQL 8 reports them)', () => {
  it('copies DEFAULT CURRENT_TIMESTAMP and DEFAULT (expr) columns (EXTRA DEFAULT_GENERATED, no expression)', () => {
    expect(isGenerated('DEFAULT_GENERATED', '')).toBe(false);
    expect(isGenerated('DEFAULT_GENERATED on update CURRENT_TIMESTAMP', '')).toBe(false);
    expect(isGenerated('', '')).toBe(false);
    expect(isGenerated('auto_increment', null)).toBe(false);
  });
  it('skips virtual and stored generated columns', () => {
    expect(isGenerated('VIRTUAL GENERATED', '(`a` + 1)')).toBe(true);
    expect(isGenerated('STORED GENERATED', '(`a` * 2)')).toBe(true);
    expect(isGenerated('PERSISTENT GENERATED', null)).toBe(true);
  });
});

describe('describeTables on MariaDB', () => {
  let server: MariaDbServer;
  beforeAll(async () => {
    [server] = await startServers(1, 91);
  });
  afterAll(async () => server?.stop());

  it('copies default-expression columns and skips generated ones', async () => {
    const c = await server.connect();
    try {
      await c.query('CREATE DATABASE g');
      await c.query(
        `CREATE TABLE g.t (id INT PRIMARY KEY, a INT, made DATETIME DEFAULT CURRENT_TIMESTAMP, u CHAR(36) DEFAULT (UUID()),
           v INT AS (a + 1) VIRTUAL, s INT AS (a * 2) STORED)`,
      );
      const [t] = await describeTables(c, ['g']);
      expect(t!.columns).toEqual(['id', 'a', 'made', 'u']);
    } finally {
      await c.end();
    }
  });
});
