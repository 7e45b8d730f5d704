// For the comparison tests: a replicated MariaDB pair whose tables were created and filled identically
// on both sides outside the binlog (fast, no copy step), then replication started from the source's
// position, and an application that keeps inserting, updating and deleting from several connections.
import mysql from 'mysql2/promise';
import { startMariaDb, type MariaDbServer } from '../../local/mariadb.js';
import { ensureHeartbeatTable } from '../../shared/mysql/heartbeat.js';
import { openConnection } from '../../shared/mysql/connection.js';
import type { MigrationState } from '../../shared/state.js';
import { verifySchema } from '../../shared/input/schema.js';
import { installAuroraEmulation } from '../support/aurora-emulation.js';
import { stateFor, until, useLocalSecrets } from './fixtures.js';

export interface DiffPair {
  source: MariaDbServer;
  target: MariaDbServer;
  state: MigrationState;
  /** Runs statements on one side without writing them to its binlog (a planted difference). */
  plant(side: 'source' | 'target', sql: string[]): Promise<void>;
  /** Runs statements on the source through replication. */
  write(sql: string[]): Promise<void>;
  /** Waits until the target executed everything the source has now. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

export async function diffPair(
  serverId: number,
  setup: string[],
  opts: { targetEngine?: 'mariadb' | 'aurora-mysql-2' | 'aurora-mysql-3'; state?: Record<string, any> } = {},
): Promise<DiffPair> {
  useLocalSecrets();
  const [source, target] = await Promise.all([startMariaDb({ serverId }), startMariaDb({ serverId: serverId + 1 })]);
  const run = async (server: MariaDbServer, sql: string[], logged: boolean) => {
    const c = await server.connect();
    try {
      if (!logged) await c.query('SET SESSION sql_log_bin = 0');
      await c.query("SET SESSION time_zone = '+00:00'");
      for (const s of sql) await c.query(s);
    } finally {
      await c.end();
    }
  };
  const prepared = ['CREATE DATABASE IF NOT EXISTS app', 'USE app', ...setup];
  await Promise.all([run(source, prepared, false), run(target, prepared, false)]);
  for (const server of [source, target]) {
    const c = await openConnection({ host: server.host, port: server.port }, server.admin);
    await c.query('SET SESSION sql_log_bin = 0');
    await ensureHeartbeatTable(c, 'crossmove');
    await c.end();
  }
  if (opts.targetEngine && opts.targetEngine !== 'mariadb') {
    const c = await target.connect();
    await installAuroraEmulation(c, opts.targetEngine === 'aurora-mysql-2' ? 2 : 3);
    await c.end();
  }
  const s = await source.connect();
  const [[status]] = (await s.query('SHOW MASTER STATUS')) as any;
  await s.end();
  const t = await target.connect();
  await t.query(
    `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${source.port}, MASTER_USER='${source.admin.username}', MASTER_PASSWORD='${source.admin.password}', MASTER_LOG_FILE='${status.File}', MASTER_LOG_POS=${status.Position}, MASTER_USE_GTID=no, MASTER_CONNECT_RETRY=1`,
  );
  await t.query('START SLAVE');
  await t.end();
  const { verify, ...rest } = opts.state ?? {};
  const state = stateFor(source, target, {
    ...(opts.targetEngine ? { target: { engine: opts.targetEngine } } : {}),
    ...rest,
  });
  state.input.verify = verifySchema.parse(verify ?? {});
  const pair: DiffPair = {
    source,
    target,
    state,
    plant: (side, sql) => run(side === 'source' ? source : target, ['USE app', ...sql], false),
    write: (sql) => run(source, ['USE app', ...sql], true),
    caughtUp: async () => {
      const c = await source.connect();
      const [[m]] = (await c.query('SHOW MASTER STATUS')) as any;
      await c.end();
      await until(async () => {
        const d = await target.connect();
        try {
          const [[r]] = (await d.query('SHOW SLAVE STATUS')) as any;
          // Aurora 3's emulated wire renders the Source_* names.
          return (r.Relay_Master_Log_File ?? r.Relay_Source_Log_File) === m.File && Number(r.Exec_Master_Log_Pos ?? r.Exec_Source_Log_Pos) >= Number(m.Position);
        } finally {
          await d.end();
        }
      }, 30_000, 20);
    },
    stop: async () => void (await Promise.all([source.stop(), target.stop()])),
  };
  await pair.caughtUp();
  return pair;
}

/** A deterministic pseudo-random sequence (the writers' choices are reproducible). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Several connections inserting, updating and deleting on the source until stopped. */
export class MixedWriters {
  private running = true;
  private loops: Promise<void>[] = [];
  writes = 0;
  errors: string[] = [];

  constructor(
    private readonly server: MariaDbServer,
    private readonly statement: (random: () => number, worker: number, n: number) => string,
    private readonly connections = 3,
  ) {}

  start(): this {
    for (let w = 0; w < this.connections; w++) {
      this.loops.push(
        (async () => {
          const c = await mysql.createConnection({ host: this.server.host, port: this.server.port, user: this.server.admin.username, password: this.server.admin.password, database: 'app' });
          await c.query("SET SESSION time_zone = '+00:00'");
          const random = rng(1000 + w);
          for (let n = 0; this.running; n++) {
            try {
              await c.query(this.statement(random, w, n));
              this.writes++;
            } catch (err) {
              const m = (err as Error).message;
              if (!/Duplicate entry|Deadlock/.test(m)) this.errors.push(m);
            }
            await new Promise((r) => setTimeout(r, 2));
          }
          await c.end();
        })(),
      );
    }
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}
