// Killing the application's sessions at the cutover, on real MariaDB: every application session ends
// (idle, running a statement, in an open transaction), crossmove's own and the spared ones stay, and
// the kills go to the server in one statement: one round trip per KILL cost milliseconds per
// application connection while writes were blocked (about 0.5 s for 64 sysbench clients here).
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMariaDb, type MariaDbServer } from '../../local/mariadb.js';
import { dialectFor } from '../../shared/mysql/dialect.js';
import { killAppSessions } from '../../shared/mysql/sessions.js';
import { sql } from './fixtures.js';

const APP = { user: 'kill_app', password: 'kill-app-pw-1' };
const dialect = dialectFor('mariadb');

describe('killing the application sessions (MariaDB)', () => {
  let server: MariaDbServer;

  beforeAll(async () => {
    server = await startMariaDb({ serverId: 955 });
    await sql(server, `CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v INT); INSERT INTO app.t VALUES (1, 0)`);
    await sql(server, `CREATE USER '${APP.user}'@'%' IDENTIFIED BY '${APP.password}'; GRANT SELECT, INSERT, UPDATE ON app.* TO '${APP.user}'@'%'`);
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function appSessions(n: number): Promise<mysql.Connection[]> {
    const conns = await Promise.all(Array.from({ length: n }, () => mysql.createConnection({ host: server.host, port: server.port, ...APP, database: 'app' })));
    for (const c of conns) c.on('error', () => undefined);
    return conns;
  }

  const questions = async (c: mysql.Connection) => {
    const [[row]] = (await c.query("SHOW SESSION STATUS LIKE 'Questions'")) as unknown as [{ Value: string }[]];
    return Number(row!.Value);
  };

  it('ends every application session in one statement, whatever it is doing, and spares crossmove\'s own', async () => {
    const idle = await appSessions(40);
    const [inTransaction, running] = await appSessions(2);
    await inTransaction!.query('BEGIN');
    await inTransaction!.query('UPDATE t SET v = v + 1 WHERE id = 1');
    const statement = running!.query('SELECT SLEEP(30)').catch((e: Error) => e);
    const admin = await server.connect();
    const spared = await server.connect();
    try {
      const before = await questions(admin);
      const outcome = await killAppSessions(admin, dialect, [], { spareIds: [spared.threadId], deadline: Date.now() + 20_000 });
      // The SHOW above, the PROCESSLIST read, the kills, the check that they are gone, this SHOW.
      const sent = (await questions(admin)) - before;
      expect(outcome).toMatchObject({ killed: 42, gone: true });
      expect(sent).toBeLessThan(10);
      expect(await statement).toBeInstanceOf(Error);
      const [left] = (await admin.query('SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?', [APP.user])) as unknown as [unknown[]];
      expect(left).toEqual([]);
      await expect(spared.query('SELECT 1')).resolves.toBeDefined();
      // The open transaction was rolled back.
      const [[row]] = (await admin.query('SELECT v FROM app.t WHERE id = 1')) as unknown as [{ v: number }[]];
      expect(row!.v).toBe(0);
    } finally {
      await admin.end();
      await spared.end();
      for (const c of [...idle, inTransaction!, running!]) c.destroy();
    }
  });

  it('skips a session that ended meanwhile and kills the others', async () => {
    const conns = await appSessions(3);
    const admin = await server.connect();
    try {
      const [gone] = (await admin.query('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE ID = ?', [conns[0]!.threadId])) as unknown as [{ id: number }[]];
      await conns[0]!.end();
      await dialect.killMany!(admin, [Number(gone[0]!.id), conns[1]!.threadId!, conns[2]!.threadId!]);
      await expect(conns[1]!.query('SELECT 1')).rejects.toThrow();
      await expect(conns[2]!.query('SELECT 1')).rejects.toThrow();
    } finally {
      await admin.end();
      for (const c of conns) c.destroy();
    }
  });
});
