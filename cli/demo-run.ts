// The demo, as a function the entry point (cli/demo.ts) and the end-to-end test share: two MariaDB
// servers, the sample schema, an application writing through a non-admin user during the whole run
// (the built-in write loop, or sysbench: cli/demo-load.ts), the migration with auto-approve, then the
// figures that show it worked (rows lost, checksums, the write-unavailability window measured from the
// application's side).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { startMariaDb, type MariaDbServer } from '../local/mariadb.js';
import { startDemoLoad, type DemoLoad, type SysbenchFigures, type Workload } from './demo-load.js';
import { createSampleSchema, DEMO_SCHEMA } from './demo-schema.js';
import { runMigrationLocally, type LocalRunOptions, type LocalRunReport } from './run.js';

export interface DemoOptions {
  rows: number;
  baseDir: string;
  progress: NodeJS.WriteStream;
  tty: boolean;
  writesPerSec?: number;
  /** The application: the built-in write loop (default) or sysbench (`threads` clients, `rate` tx/s). */
  workload?: Workload;
  threads?: number;
  rate?: number;
  onEvent?: LocalRunOptions['onEvent'];
  signal?: AbortSignal;
  /** Servers started, so the caller can clean them up on Ctrl-C. */
  onServers?: (servers: MariaDbServer[]) => void;
}

export interface DemoReport {
  ok: boolean;
  rowsSource: number;
  rowsTarget: number;
  /** Acknowledged writes missing where they should be; null when that cannot be said (failed mid-switch). */
  lostRows: number | null;
  tablesVerified: number;
  checksumsMatch: boolean;
  writeUnavailableMs: number | null;
  writesDuringRun: number;
  writeFailures: number;
  workload: Workload;
  /** With --workload sysbench: its clients' figures. */
  sysbench?: SysbenchFigures;
  phases: { initialLoadMs: number | null; catchUpMs: number | null; cutoverMs: number | null };
  lag: { method: string; p50Ms: number | null; maxMs: number | null; samples: number };
  elapsedMs: number;
  /** Why ok is false, in plain words (empty when ok). */
  problems: string[];
  migration: Pick<LocalRunReport, 'status' | 'outcome' | 'error' | 'cause'> & { initialLoad: LocalRunReport['initialLoad']; cutover: LocalRunReport['cutover'] };
}

export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  const started = Date.now();
  const [source, target] = await Promise.all([
    startMariaDb({ serverId: 1, baseDir: options.baseDir }),
    startMariaDb({ serverId: 2, baseDir: options.baseDir }),
  ]);
  options.onServers?.([source, target]);
  const say = (text: string) => options.progress.write(`${text}\n`);
  say(`source MariaDB on 127.0.0.1:${source.port}, target on 127.0.0.1:${target.port} (${options.baseDir})`);

  let srcAdmin = await source.connect();
  const dstAdmin = await target.connect();
  let load: DemoLoad | undefined;
  try {
    const sampleRows = await createSampleSchema(srcAdmin, options.rows);
    const workload = options.workload ?? 'writes';
    load = await startDemoLoad(workload, { source, target, sourceAdmin: srcAdmin, targetAdmin: dstAdmin }, options);
    say(
      `sample schema: ${sampleRows.toLocaleString('en-US')} rows in ${DEMO_SCHEMA}; ` +
        (workload === 'sysbench' ? `sysbench ${options.threads ?? 16} client threads on ${load.schema} (stock oltp_write_only)` : `application writing to ${load.schema}.writes`),
    );

    // Secrets travel as file: references; the values stay in these 0600 files.
    const secrets = join(options.baseDir, 'secrets');
    mkdirSync(secrets, { recursive: true, mode: 0o700 });
    writeFileSync(join(secrets, 'source-admin.json'), JSON.stringify(source.admin), { mode: 0o600 });
    writeFileSync(join(secrets, 'target-admin.json'), JSON.stringify(target.admin), { mode: 0o600 });
    const input = {
      migrationId: 'demo',
      source: { endpoint: { host: source.host, port: source.port }, adminSecret: `file:${join(secrets, 'source-admin.json')}`, engine: 'mariadb' },
      target: { endpoint: { host: target.host, port: target.port }, adminSecret: `file:${join(secrets, 'target-admin.json')}`, engine: 'mariadb' },
      initialLoad: { method: 'logical', parallelism: 4, chunkRows: 20_000 },
      replication: { ssl: false, pollSeconds: 1, maxLagSeconds: 1, requiredConsecutiveChecks: 3, binlogRetentionHours: 24 },
      cutover: { approval: 'manual', writeBlock: { method: 'read-only' }, verify: 'diff', catchUpTimeoutSeconds: 10, reverseReplication: true },
    };

    const loadRef = load;
    const report = await runMigrationLocally({
      input,
      autoApprove: true,
      progress: options.progress,
      tty: options.tty,
      secretDir: join(options.baseDir, 'generated-secrets'),
      signal: options.signal,
      onEvent: options.onEvent,
      // The application follows DNS: once the switch step is done it writes to the target.
      onStateExited: (state) => {
        if (state === 'Switch DNS') loadRef.switchToTarget();
      },
    });
    if (report.ok) await new Promise((r) => setTimeout(r, 500)); // a few writes on the target after the switch
    await load.stop();

    // The cutover kills every session on the source but its own (this one included, as it would an
    // operator's): the report reads through a new one.
    await srcAdmin.end().catch(() => srcAdmin.destroy());
    srcAdmin = await source.connect();
    const reverseProblem = report.reverse?.started ? await waitForReverse(dstAdmin, srcAdmin) : null;
    const tables = await listTables(srcAdmin, [DEMO_SCHEMA, load.schema]);
    const [rowsSource, rowsTarget] = await Promise.all([countRows(srcAdmin, tables), countRows(dstAdmin, tables)]);
    const [sumSource, sumTarget] = await Promise.all([checksums(srcAdmin, tables), checksums(dstAdmin, tables)]);
    const checksumsMatch = tables.length > 0 && tables.every((t) => sumSource.get(t) !== undefined && sumSource.get(t) === sumTarget.get(t));
    // A failed run is counted too: before the switch every acknowledged write must still be on the
    // source; after a switch that did not finish, where a write should be is unknown (null).
    const lostRows = report.ok
      ? await load.missingOn(dstAdmin)
      : !load.anyAckedOnTarget() && !report.cutover?.ok
        ? await load.missingOn(srcAdmin)
        : null;
    const sysbench = load.sysbench();
    const lag = report.lag;
    const problems = [
      ...(report.ok ? [] : [`the migration ended ${report.outcome}${report.error ? ` (${report.error})` : ''}`]),
      ...(lostRows ? [`${lostRows} acknowledged writes are missing on the target`] : []),
      ...(sysbench?.halfCommitted ? [`${sysbench.halfCommitted} transactions are on the target that no client committed`] : []),
      ...(checksumsMatch ? [] : ['final checksums differ between source and target']),
      ...(report.cutover?.checksumsMatch === false ? ['the cutover verification found differences'] : []),
      ...(reverseProblem ? [reverseProblem] : []),
    ];
    const demo: DemoReport = {
      ok: problems.length === 0,
      problems,
      rowsSource,
      rowsTarget,
      lostRows,
      tablesVerified: tables.length,
      checksumsMatch,
      writeUnavailableMs: roundMs(load.unavailableMs()),
      writesDuringRun: load.acknowledged(),
      writeFailures: load.failures(),
      workload: load.workload,
      ...(sysbench ? { sysbench } : {}),
      phases: { initialLoadMs: report.phases.initialLoadMs, catchUpMs: report.phases.catchUpMs, cutoverMs: report.phases.cutoverMs },
      lag: { method: lag.method, p50Ms: lag.p50Ms, maxMs: lag.maxMs, samples: lag.samples },
      elapsedMs: Date.now() - started,
      migration: {
        status: report.status,
        outcome: report.outcome,
        ...(report.error ? { error: report.error } : {}),
        ...(report.cause ? { cause: report.cause } : {}),
        initialLoad: report.initialLoad,
        cutover: report.cutover,
      },
    };
    return demo;
  } finally {
    await load?.stop().catch(() => undefined);
    await Promise.all([srcAdmin.end().catch(() => undefined), dstAdmin.end().catch(() => undefined)]);
  }
}

const roundMs = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);

async function listTables(conn: Connection, schemas: string[]): Promise<string[]> {
  const [rows] = await conn.query<RowDataPacket[]>(
    "SELECT CONCAT('`', TABLE_SCHEMA, '`.`', TABLE_NAME, '`') AS t FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA IN (?) ORDER BY 1",
    [schemas],
  );
  return rows.map((r) => r.t as string);
}

async function countRows(conn: Connection, tables: string[]): Promise<number> {
  let n = 0;
  for (const t of tables) {
    const [rows] = await conn.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${t}`);
    n += Number(rows[0]!.n);
  }
  return n;
}

async function checksums(conn: Connection, tables: string[]): Promise<Map<string, string>> {
  const [rows] = await conn.query<RowDataPacket[]>(`CHECKSUM TABLE ${tables.join(', ')}`);
  return new Map(rows.map((r, i) => [tables[i]!, String(r.Checksum)]));
}

/** Lets reverse replication (target -> source) apply the application's last writes before counting. */
async function waitForReverse(target: Connection, source: Connection): Promise<string | null> {
  const [[status]] = (await target.query('SHOW MASTER STATUS')) as unknown as [RowDataPacket[]];
  if (!status?.File) return 'the target has no binlog position for reverse replication';
  const [[waited]] = (await source.query('SELECT MASTER_POS_WAIT(?, ?, 15) AS r', [status.File, status.Position])) as unknown as [RowDataPacket[]];
  if (waited?.r !== null && Number(waited?.r) >= 0) return null;
  const [[replica]] = (await source.query('SHOW SLAVE STATUS')) as unknown as [RowDataPacket[]];
  return `reverse replication did not reach the target's position ${status.File}:${status.Position} (IO ${replica?.Slave_IO_Running}, SQL ${replica?.Slave_SQL_Running}, executed ${replica?.Relay_Master_Log_File}:${replica?.Exec_Master_Log_Pos}, error: ${replica?.Last_Error || replica?.Last_IO_Error || 'none'})`;
}
