// The switch's one marker log (shared/mysql/switch-log.ts) on a real MariaDB: both directions read back
// what they wrote with the row's age (the in-progress lease of a crashed attempt depends on it, and the
// fallback's copy of the store lacked it in its type), rows another side wrote are never taken for this
// side's, and a fallback_log an older version made (no side/server_id columns) keeps its rows readable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import type { MariaDbServer } from '../../local/mariadb.js';
import {
  CUTOVER_LOG,
  FALLBACK_LOG,
  readCutoverMarker,
  readFallbackMarker,
  readSwitchMarker,
  switchMarkerStore,
  writeCutoverMarker,
  writeFallbackMarker,
} from '../../shared/mysql/switch-log.js';
import type { Conn } from '../../shared/mysql/connection.js';
import { startServers } from './fixtures.js';

let server: MariaDbServer;
let conn: Connection;
const c = () => conn as unknown as Conn;

beforeAll(async () => {
  [server] = await startServers(1, 121);
  conn = await server!.connect();
}, 120_000);

afterAll(async () => {
  await conn?.end();
  await server?.stop();
});

describe('switch marker log', () => {
  it('both directions read back the newest marker with its age; clear writes a rolled-back row', async () => {
    await writeCutoverMarker(c(), 'crossmove', 'log-a', { phase: 'in-progress', result: null, blockState: { groupId: 'sg-1' } });
    await writeFallbackMarker(c(), 'crossmove', 'log-a', { phase: 'past-point-of-no-return', result: null, blockState: null });
    const cut = await readCutoverMarker(c(), 'crossmove', 'log-a');
    const back = await readFallbackMarker(c(), 'crossmove', 'log-a');
    expect(cut).toMatchObject({ phase: 'in-progress', blockState: { groupId: 'sg-1' } });
    expect(back).toMatchObject({ phase: 'past-point-of-no-return', blockState: null });
    expect(cut!.ageMs).toBeGreaterThanOrEqual(0);
    expect(back!.ageMs).toBeGreaterThanOrEqual(0);

    const store = switchMarkerStore(c(), 'crossmove', 'log-a', FALLBACK_LOG);
    await store.clear();
    expect((await store.read())?.phase).toBe('rolled-back');
    // The other direction's log is untouched.
    expect((await readCutoverMarker(c(), 'crossmove', 'log-a'))?.phase).toBe('in-progress');
  });

  it("a row another side wrote (replicated back) is not this side's; a phase filter finds the older row", async () => {
    await writeCutoverMarker(c(), 'crossmove', 'log-b', { phase: 'past-point-of-no-return', result: null, blockState: { rules: 2 } });
    await conn.query(`INSERT INTO crossmove.cutover_log (migration_id, phase, server_id, side, at) VALUES ('log-b', 'done', 7, 'target:someone-else', NOW(6))`);
    expect((await readCutoverMarker(c(), 'crossmove', 'log-b'))?.phase).toBe('past-point-of-no-return');
    await writeCutoverMarker(c(), 'crossmove', 'log-b', { phase: 'done', result: null, blockState: null });
    const ponr = await readSwitchMarker(c(), 'crossmove', 'log-b', CUTOVER_LOG, 'past-point-of-no-return');
    expect(ponr?.blockState).toEqual({ rules: 2 });
  });

  it('a fallback_log made by an older version (no side column) is upgraded and its rows still count', async () => {
    await conn.query('CREATE DATABASE IF NOT EXISTS old_layout');
    await conn.query(`CREATE TABLE old_layout.fallback_log (
       seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, migration_id VARCHAR(64) NOT NULL, phase VARCHAR(32) NOT NULL,
       result TEXT NULL, block_state TEXT NULL, at DATETIME(6) NOT NULL, KEY (migration_id, seq)) ENGINE=InnoDB`);
    await conn.query(`INSERT INTO old_layout.fallback_log (migration_id, phase, at) VALUES ('log-c', 'in-progress', NOW(6))`);
    expect((await readFallbackMarker(c(), 'old_layout', 'log-c'))?.phase).toBe('in-progress');
    await writeFallbackMarker(c(), 'old_layout', 'log-c', { phase: 'done', result: null, blockState: null });
    expect((await readFallbackMarker(c(), 'old_layout', 'log-c'))?.phase).toBe('done');
    const [cols] = await conn.query(`SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'old_layout' AND TABLE_NAME = 'fallback_log' ORDER BY ORDINAL_POSITION`);
    expect((cols as { c: string }[]).map((r) => r.c)).toContain('side');
  });

  it('no log yet: nothing recorded (null), never an error', async () => {
    expect(await readCutoverMarker(c(), 'no_such_schema', 'log-d')).toBeNull();
    expect(await readFallbackMarker(c(), 'crossmove', 'log-d')).toBeNull();
  });
});
