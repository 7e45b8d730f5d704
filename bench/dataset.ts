// For the benchmarks: the same generated dataset on several servers, written outside the binlog so
// that a replica can start from the source's position afterwards without a copy step. Several tables
// of mixed column types (a VIRTUAL generated column included), sizes weighted so that the first
// tables are the largest, filled in batches of 250,000 rows.
import type { MariaDbServer } from '../local/mariadb.js';

export interface Dataset {
  schema: string;
  tables: { name: string; rows: number }[];
  rows: number;
}

export function tableDefinition(schema: string, name: string): string {
  return `CREATE TABLE \`${schema}\`.\`${name}\` (
    id BIGINT UNSIGNED NOT NULL PRIMARY KEY, account INT NOT NULL, amount DECIMAL(12,2) NOT NULL, ratio DOUBLE NULL,
    note VARCHAR(60) NULL, status ENUM('new','paid','shipped','void') NOT NULL, created DATETIME(6) NOT NULL, flags BIT(8) NOT NULL,
    payload VARBINARY(32) NULL, amount_x2 DECIMAL(13,2) AS (amount * 2) VIRTUAL, KEY by_account (account)) ENGINE=InnoDB`;
}

const FILL = (schema: string, name: string, from: number, to: number) =>
  `INSERT INTO \`${schema}\`.\`${name}\` (id, account, amount, ratio, note, status, created, flags, payload)
   SELECT seq, seq MOD 50000, (seq MOD 100000) / 100, IF(seq MOD 11 = 0, NULL, seq / 7e0), CONCAT('note ', seq, ' ', LEFT(MD5(seq), 12)),
          ELT(1 + seq MOD 4, 'new', 'paid', 'shipped', 'void'), '2024-01-01 00:00:00' + INTERVAL seq * 1003 MICROSECOND, seq MOD 256,
          IF(seq MOD 5 = 0, NULL, UNHEX(MD5(seq)))
     FROM seq_${from}_to_${to}`;

export async function createDataset(servers: MariaDbServer[], schema: string, rows: number, tableCount: number, log: (m: string) => void = () => undefined): Promise<Dataset> {
  const weights = Array.from({ length: tableCount }, (_, i) => tableCount - i);
  const total = weights.reduce((a, b) => a + b, 0);
  const tables = weights.map((w, i) => ({ name: `t${i + 1}`, rows: Math.max(1, Math.round((rows * w) / total)) }));
  const started = Date.now();
  await Promise.all(
    servers.map(async (server) => {
      const c = await server.connect();
      try {
        await c.query('SET SESSION sql_log_bin = 0');
        await c.query(`CREATE DATABASE IF NOT EXISTS \`${schema}\``);
        await c.query(`USE \`${schema}\``);
        for (const t of tables) {
          await c.query(tableDefinition(schema, t.name));
          for (let from = 1; from <= t.rows; from += 250_000) await c.query(FILL(schema, t.name, from, Math.min(t.rows, from + 249_999)));
        }
        await c.query(`ANALYZE TABLE ${tables.map((t) => `\`${schema}\`.\`${t.name}\``).join(', ')}`);
      } finally {
        await c.end();
      }
    }),
  );
  log(`dataset: ${rows.toLocaleString('en-US')} rows in ${tables.length} tables of ${schema} on ${servers.length} servers in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return { schema, tables, rows: tables.reduce((n, t) => n + t.rows, 0) };
}
