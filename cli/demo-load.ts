// The application the demo keeps running during the migration: the built-in write loop (a non-admin
// user inserting ~200 rows/s into app.writes) or, with --workload sysbench, sysbench's stock OLTP
// transactions from N client threads through one endpoint that follows the cutover like a DNS name.
// Both count what they had acknowledged and is missing afterwards.
import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { MariaDbServer } from '../local/mariadb.js';
import { backendOf, SwitchableEndpoint } from '../local/switchable-endpoint.js';
import { checkLedger, clientWindows, errorsByKind, ackTimes, ledgerKeys } from '../local/sysbench-ledger.js';
import { createSysbenchUser, prepareSysbench, SYSBENCH_SCHEMA, SYSBENCH_USER, SysbenchLoad, type SysbenchRun } from '../local/sysbench.js';
import { prepareLoadSchema, WriteLoad } from '../local/write-load.js';

export type Workload = 'writes' | 'sysbench';

export interface SysbenchFigures {
  threads: number;
  /** Acknowledged transactions per second over the run. */
  tps: number;
  /** The write-unavailability window each client thread saw at the switch. */
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** Transactions present on the target that no client sent a COMMIT for. */
  halfCommitted: number;
  errors: Record<string, number>;
}

export interface DemoLoad {
  readonly workload: Workload;
  /** The schema the application writes to (its tables are part of the report). */
  readonly schema: string;
  /** The application follows DNS to the target. */
  switchToTarget(): void;
  stop(): Promise<void>;
  acknowledged(): number;
  failures(): number;
  anyAckedOnTarget(): boolean;
  /** Last acknowledged write before the switch to the first after it, over all clients (ms). */
  unavailableMs(): number | null;
  /** Acknowledged writes missing on `server` (the application's primary at the end). */
  missingOn(server: Connection): Promise<number>;
  sysbench(): SysbenchFigures | null;
}

interface Sides {
  source: MariaDbServer;
  target: MariaDbServer;
  sourceAdmin: Connection;
  targetAdmin: Connection;
}

export async function startDemoLoad(workload: Workload, sides: Sides, opts: { writesPerSec?: number; threads?: number; rate?: number }): Promise<DemoLoad> {
  return workload === 'sysbench' ? startSysbench(sides, opts) : startWrites(sides, opts);
}

async function startWrites(sides: Sides, opts: { writesPerSec?: number }): Promise<DemoLoad> {
  const schema = 'app';
  await prepareLoadSchema(sides.sourceAdmin, schema);
  // The application's user exists on both sides (users are not part of the copy).
  await prepareLoadSchema(sides.targetAdmin, schema, { user: true, table: false });
  const load = new WriteLoad({ host: sides.source.host, port: sides.source.port, name: 'source' }, { ratePerSec: opts.writesPerSec ?? 200, database: schema }).start();
  return {
    workload: 'writes',
    schema,
    switchToTarget: () => load.repoint({ host: sides.target.host, port: sides.target.port, name: 'target' }),
    stop: () => load.stop(),
    acknowledged: () => load.acked.length,
    failures: () => load.failures,
    anyAckedOnTarget: () => load.ackedIds('target').length > 0,
    unavailableMs: () => load.unavailableMs('source', 'target'),
    missingOn: (server) => missingWrites(server, schema, load.ackedIds()),
    sysbench: () => null,
  };
}

async function startSysbench(sides: Sides, opts: { threads?: number; rate?: number }): Promise<DemoLoad> {
  const threads = opts.threads ?? 16;
  await prepareSysbench(sides.source, sides.sourceAdmin);
  await createSysbenchUser(sides.targetAdmin);
  const target = backendOf('target', sides.target);
  const endpoint = await SwitchableEndpoint.start(backendOf('source', sides.source), SYSBENCH_USER);
  const load = SysbenchLoad.start({ endpoint, threads, rate: opts.rate ?? 500 });
  let switchedAt: number | null = null;
  // The switch is called from a state machine hook that does not wait: stop() does (cutting the
  // clients' connections to the source takes a round trip).
  let switching: Promise<void> = Promise.resolve();
  let run: SysbenchRun | null = null;
  let halfCommitted = 0;
  const logs = () => run?.logs ?? load.logs();
  return {
    workload: 'sysbench',
    schema: SYSBENCH_SCHEMA,
    switchToTarget: () => {
      switchedAt = Date.now();
      switching = endpoint.switchTo(target);
    },
    stop: async () => {
      // A failed cut leaves clients on the read-only source: it shows as a window, not as lost data.
      await switching.catch(() => undefined);
      run ??= await load.stop();
      await endpoint.close();
    },
    acknowledged: () => logs().reduce((n, l) => n + l.acked.length, 0),
    failures: () => logs().reduce((n, l) => n + l.errors.length, 0),
    anyAckedOnTarget: () => switchedAt !== null && ackTimes(logs()).some((t) => t > switchedAt!),
    unavailableMs: () => {
      if (switchedAt === null) return null;
      const times = ackTimes(logs());
      const before = times.filter((t) => t <= switchedAt!).at(-1);
      const after = times.find((t) => t > switchedAt!);
      return before !== undefined && after !== undefined ? after - before : null;
    },
    missingOn: async (server) => {
      const check = checkLedger(logs(), await ledgerKeys(server, [load.run]));
      halfCommitted = check.halfCommitted.length;
      return check.lost.length;
    },
    sysbench: () => {
      const all = logs();
      const times = ackTimes(all);
      const windows = switchedAt === null ? [] : clientWindows(all, switchedAt).windows.sort((a, b) => a - b);
      const pick = (p: number) => (windows.length ? Math.round(windows[Math.min(windows.length - 1, Math.ceil((p / 100) * windows.length) - 1)]! * 10) / 10 : null);
      const seconds = times.length > 1 ? (times.at(-1)! - times[0]!) / 1000 : 0;
      return {
        threads,
        tps: seconds ? Math.round(times.length / seconds) : 0,
        p50Ms: pick(50),
        p99Ms: pick(99),
        maxMs: pick(100),
        halfCommitted,
        errors: errorsByKind(all),
      };
    },
  };
}

/** Acknowledged writes that are not on `server` (the application's data after the move). */
async function missingWrites(server: Connection, schema: string, ids: number[]): Promise<number> {
  if (!ids.length) return 0;
  let found = 0;
  for (let i = 0; i < ids.length; i += 5000) {
    const slice = ids.slice(i, i + 5000);
    const [rows] = await server.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${schema}\`.writes WHERE id IN (?)`, [slice]);
    found += Number(rows[0]!.n);
  }
  return ids.length - found;
}
