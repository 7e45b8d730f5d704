// The logical copy adds plain secondary keys after loading the rows (as myloader does): the tables on
// the target must end up defined exactly like the source's, keys included, with the same data.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RowDataPacket } from 'mysql2/promise';
import { startMariaDb, type MariaDbServer } from '../../local/mariadb.js';
import { logicalCopy } from '../../shared/initial-load/index.js';
import { fixedBudget } from '../../shared/chunks/budget.js';
import { planCopy } from '../../shared/initial-load/copy-plan.js';
import { runCopyWorker } from '../../shared/initial-load/copy-worker.js';
import { finishCopy } from '../../shared/initial-load/copy-finish.js';

let source: MariaDbServer;
let target: MariaDbServer;
const side = (s: MariaDbServer) => ({ endpoint: { host: s.host, port: s.port }, credentials: s.admin });

const DDL = `
CREATE DATABASE keyed; USE keyed;
CREATE TABLE people (
  id INT PRIMARY KEY, email VARCHAR(100) NOT NULL, last VARCHAR(60), first VARCHAR(60), city VARCHAR(60), bio TEXT,
  score INT, full_name VARCHAR(121) AS (CONCAT(first, ' ', last)) VIRTUAL,
  UNIQUE KEY uq_email (email),
  KEY ix_name (last, first),
  KEY ix_city_prefix (city(10)) COMMENT 'prefix, with a comma',
  KEY ix_score_desc (score DESC),
  FULLTEXT KEY ft_bio (bio),
  CONSTRAINT ck_score CHECK (score >= 0)
) ENGINE=InnoDB;
CREATE TABLE parents (id INT PRIMARY KEY, name VARCHAR(30), KEY ix_pname (name));
CREATE TABLE children (id INT PRIMARY KEY, parent_id INT, tag VARCHAR(20), KEY ix_tag (tag), CONSTRAINT fk_parent FOREIGN KEY (parent_id) REFERENCES parents (id));
CREATE TABLE heap (a INT, b VARCHAR(20), KEY ix_a (a));
INSERT INTO people (id, email, last, first, city, bio, score) SELECT seq, CONCAT('p', seq, '@example.com'), CONCAT('Last', seq % 97), 'Ann', CONCAT('City ', seq % 13), REPEAT('words ', seq % 5), seq % 1000 FROM seq_1_to_3000;
INSERT INTO parents SELECT seq, CONCAT('parent ', seq) FROM seq_1_to_50;
INSERT INTO children SELECT seq, 1 + seq % 50, CONCAT('t', seq % 7) FROM seq_1_to_500;
INSERT INTO heap SELECT seq % 10, 'x' FROM seq_1_to_200;
`;

async function describeTables(server: MariaDbServer): Promise<Record<string, { create: string; checksum: string }>> {
  const c = await server.connect('keyed');
  const out: Record<string, { create: string; checksum: string }> = {};
  for (const t of ['people', 'parents', 'children', 'heap']) {
    const [[create]] = (await c.query(`SHOW CREATE TABLE ${t}`)) as [RowDataPacket[], unknown];
    const [[sum]] = (await c.query(`CHECKSUM TABLE ${t}`)) as [RowDataPacket[], unknown];
    out[t] = { create: String(create!['Create Table']).replace(/ AUTO_INCREMENT=\d+/, ''), checksum: String(sum!.Checksum) };
  }
  await c.end();
  return out;
}

beforeAll(async () => {
  [source, target] = await Promise.all([startMariaDb({ serverId: 81 }), startMariaDb({ serverId: 82 })]);
  const c = await source.connect();
  await c.query(DDL);
  await c.end();
});
afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
});

it('ends with the same table definitions (every key) and the same data as the source', async () => {
  const result = await logicalCopy({ migrationId: 'keys-test', source: side(source), target: side(target), parallelism: 3, chunkRows: 500, schemas: ['keyed'] });
  expect(result.rows).toBe(3000 + 50 + 500 + 200);
  const [src, tgt] = await Promise.all([describeTables(source), describeTables(target)]);
  expect(tgt).toEqual(src);
  expect(src.people!.create).toContain('KEY `ix_name` (`last`,`first`)');
  // A second call reuses the finished copy.
  const again = await logicalCopy({ migrationId: 'keys-test', source: side(source), target: side(target), parallelism: 3, chunkRows: 500, schemas: ['keyed'] });
  expect(again.reused).toBe(true);
});

it('starts a table\'s secondary keys once its rows are all copied, before "Finish the copy", which still ends with every key', async () => {
  const early = await startMariaDb({ serverId: 83 });
  try {
    const migrationId = 'early-keys';
    const from = side(source);
    await planCopy({ migrationId, from, source: from, target: side(early), frozen: { kind: 'live', position: null, fingerprint: null }, schemas: ['keyed'], parallelism: 2, chunkBytes: 64 * 1024, maxRows: 500 });
    await runCopyWorker({ migrationId, worker: 1, lanes: 2, from, target: side(early), frozen: { kind: 'live', fingerprint: null }, budget: fixedBudget(Number.POSITIVE_INFINITY), liveMustFinish: false });
    // No "Finish the copy" yet: the copy's workers started the ALTERs themselves.
    const c = await early.connect('keyed');
    const keyNames = async () => {
      const [rows] = await c.query<RowDataPacket[]>("SELECT DISTINCT INDEX_NAME AS k FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'keyed' AND TABLE_NAME IN ('people', 'heap')");
      return rows.map((r) => String(r.k)).sort();
    };
    const deadline = Date.now() + 20_000;
    while (!(await keyNames()).includes('ix_name') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await keyNames()).toEqual(expect.arrayContaining(['ix_name', 'ix_a']));
    await c.end();
    await finishCopy({ migrationId, from, target: side(early), parallel: 2, waitMs: Number.POSITIVE_INFINITY, attempts: 1 });
    const [src, tgt] = await Promise.all([describeTables(source), describeTables(early)]);
    expect(tgt).toEqual(src);
  } finally {
    await early.stop();
  }
});
