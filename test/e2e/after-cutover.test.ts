// A failure after the cutover, in local mode on two real MariaDB servers under an application's write
// load: "Switch DNS" failing (the AWS region gone after preflight read the zone; Route 53 is moto), and separately "Start
// reverse replication" failing (its secret cannot be stored). Each run ends "migrated, with unfinished
// steps" with its final state saved; a fallback from it is refused (no reverse replication yet) without
// touching either server; running the same input again resumes the unfinished steps (never replicating
// into the target again); then the fallback moves the application back, after which the same input is
// refused before any change (the source's fallback record says the writes went back). Both servers' read_only is
// sampled all along (never both writable once the target replicates), and every acknowledged write is
// on the final primary.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMariaDb, type MariaDbServer } from '../../local/mariadb.js';
import { runMigrationLocally, type LocalRunReport } from '../../cli/run.js';
import { EXIT_CODES } from '../../cli/main.js';
import { finalStatePath, runFollowUpLocally } from '../../cli/follow-up.js';
import type { RunEvent } from '../../local/run-state-machine.js';
import { APP_PASSWORD, APP_USER, prepareLoadSchema, WriteLoad } from '../support/write-load.js';
import { startMoto, type Moto } from '../support/moto.js';

const sink = new Writable({ write: (_c, _e, cb) => cb() }) as unknown as NodeJS.WriteStream;
const dir = mkdtempSync(join(tmpdir(), 'crossmove-e2e-after-cutover-'));

interface Pair {
  source: MariaDbServer;
  target: MariaDbServer;
}

/** Both servers' read_only, read continuously: source, target, source again (see `bothWritable`). */
class ReadOnlySampler {
  readonly samples: { s1: number; t: number; s2: number; at: number }[] = [];
  private running = false;
  private loop: Promise<void> | null = null;
  constructor(private readonly pair: Pair) {}
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      // Admin sessions are killed by the switch (an admin bypasses read_only): reconnect and go on.
      let conns: [mysql.Connection, mysql.Connection] | null = null;
      const ro = async (c: mysql.Connection) => Number(((await c.query('SELECT @@global.read_only AS ro')) as any)[0][0].ro);
      while (this.running) {
        try {
          conns ??= await Promise.all([this.pair.source.connect(), this.pair.target.connect()]);
          const [s, t] = conns;
          const s1 = await ro(s);
          const t2 = await ro(t);
          this.samples.push({ s1, t: t2, s2: await ro(s), at: Date.now() });
        } catch {
          conns?.forEach((c) => c.destroy());
          conns = null;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      conns?.forEach((c) => c.destroy());
    })();
  }
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
  /**
   * Samples where both were writable. Reading source, target, source: a switch in either direction
   * (one side blocked before the other is opened) can never look like both writable, a real period of
   * two writable primaries longer than one sample always does.
   */
  bothWritable() {
    return this.samples.filter((x) => x.s1 === 0 && x.t === 0 && x.s2 === 0);
  }
}

/** Where a server replicates from ('' when it is no replica). */
async function replicaOf(server: MariaDbServer): Promise<string> {
  const c = await server.connect();
  try {
    const [rows] = await c.query('SHOW SLAVE STATUS');
    const r = (rows as Record<string, unknown>[])[0];
    return r ? `${r.Master_Host}:${r.Master_Port} ${r.Slave_IO_Running}/${r.Slave_SQL_Running}` : '';
  } finally {
    await c.end();
  }
}

async function readOnly(server: MariaDbServer): Promise<number> {
  const c = await server.connect();
  try {
    return Number(((await c.query('SELECT @@global.read_only AS ro')) as any)[0][0].ro);
  } finally {
    await c.end();
  }
}

/** One application write (the non-admin user): did the server acknowledge it? */
async function appWrites(server: MariaDbServer, id: number): Promise<boolean> {
  const c = await mysql.createConnection({ host: server.host, port: server.port, user: APP_USER, password: APP_PASSWORD, database: 'app' });
  try {
    await c.query("INSERT INTO writes (id, payload, created) VALUES (?, 'probe', NOW(6))", [id]);
    return true;
  } catch {
    return false;
  } finally {
    await c.end();
  }
}

async function idsOn(server: MariaDbServer): Promise<Set<number>> {
  const c = await server.connect();
  try {
    const [rows] = await c.query('SELECT id FROM app.writes');
    return new Set((rows as { id: number }[]).map((r) => Number(r.id)));
  } finally {
    await c.end();
  }
}

async function startPair(base: number): Promise<Pair> {
  const [source, target] = await Promise.all([startMariaDb({ serverId: base, baseDir: dir }), startMariaDb({ serverId: base + 1, baseDir: dir })]);
  const [s, t] = [await source.connect(), await target.connect()];
  await prepareLoadSchema(s, 'app');
  await s.query('USE app; CREATE TABLE app.items (id INT PRIMARY KEY, name VARCHAR(30)); INSERT INTO app.items SELECT seq, CONCAT("item ", seq) FROM seq_1_to_200');
  // The application's user exists on both (user changes are not replicated in this setup, as on Aurora 3).
  await prepareLoadSchema(t, 'app', { user: true, table: false });
  await Promise.all([s.end(), t.end()]);
  return { source, target };
}

function inputFor(id: string, pair: Pair, envName: string, extra: Record<string, unknown> = {}) {
  process.env[envName] = JSON.stringify(pair.source.admin);
  return {
    migrationId: id,
    source: { endpoint: { host: pair.source.host, port: pair.source.port }, adminSecret: `env:${envName}` },
    target: { endpoint: { host: pair.target.host, port: pair.target.port }, adminSecret: `env:${envName}` },
    initialLoad: { method: 'logical', schemas: ['app'] },
    replication: { ssl: false, pollSeconds: 1, requiredConsecutiveChecks: 2, maxLagSeconds: 5 },
    cutover: { approval: 'auto', writeBlock: { method: 'read-only' }, reverseReplication: true, catchUpTimeoutSeconds: 20, ...extra },
  };
}

/** One `run --local`: the load moves to the target when the cutover is done; the sampler starts once the target replicates. */
async function run(
  input: unknown,
  stateDir: string,
  load: WriteLoad,
  pair: Pair,
  sampler: ReadOnlySampler,
  afterCutOver: () => void = () => {},
): Promise<{ report: LocalRunReport; entered: string[] }> {
  const entered: string[] = [];
  const report = await runMigrationLocally({
    input,
    autoApprove: true,
    progress: sink,
    tty: false,
    stateDir,
    onEvent: (e: RunEvent) => {
      if (e.execution === 'migration' && e.type === 'StateEntered') entered.push(e.state!);
    },
    onStateExited: (state) => {
      if (state === 'Start replication on the target') sampler.start();
      if (state === 'Cut over' || state === 'Resume after the cutover') {
        load.repoint({ host: pair.target.host, port: pair.target.port, name: 'target' });
        afterCutOver();
      }
    },
  });
  return { report, entered };
}

const BEFORE_CUTOVER_STEPS = ['Run preflight checks', 'Check the databases', 'Keep binlogs long enough', 'Prepare the frozen source', 'Plan the copy', 'Copy the data for one window', 'Create the replication user', 'Start replication on the target', 'Watch replication for one window'];

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
  process.env.AWS_ACCESS_KEY_ID = 'AKIAFAKEFAKEFAKEFAKE';
  process.env.AWS_SECRET_ACCESS_KEY = 'fake';
}, 60_000);
afterAll(async () => {
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.sequential('after the cutover', () => {
  it('"Switch DNS" fails (no AWS region): migrated with unfinished steps, final state saved; fallback refused, nothing changed; the same input again resumes DNS and reverse replication; then fallback; after it the same input is refused, nothing changed', async () => {
    const pair = await startPair(111);
    const { source, target } = pair;
    const stateDir = join(dir, 'dns', '.crossmove');
    process.env.CROSSMOVE_SECRET_STORE = `local:${join(stateDir, 'secrets')}`;
    const zone = await new Route53Client({ region: 'us-east-1' }).send(new CreateHostedZoneCommand({ Name: 'crossmove.test', CallerReference: `after-cutover-${Date.now()}` }));
    const zoneId = zone.HostedZone!.Id!.replace('/hostedzone/', '');
    const recordName = 'orders-db.crossmove.test';
    await new Route53Client({ region: 'us-east-1' }).send(
      new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: recordName, Type: 'CNAME', TTL: 5, ResourceRecords: [{ Value: source.host }] } }] } }),
    );
    const cname = async () =>
      (await new Route53Client({ region: 'us-east-1' }).send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }))).ResourceRecordSets?.find((r) => r.Name?.startsWith(recordName) && r.Type === 'CNAME')?.ResourceRecords?.[0]?.Value;
    const input = inputFor('after-dns', pair, 'AFTER_DNS_ADMIN', { dns: { hostedZoneId: zoneId, recordName, ttl: 5 } });
    const load = new WriteLoad({ host: source.host, port: source.port, name: 'source' }, { ratePerSec: 100 }).start();
    const sampler = new ReadOnlySampler(pair);
    try {
      // 1. The region goes away once the cutover is done (preflight read the zone before): Route 53
      // cannot be called by "Switch DNS".
      const region = process.env.AWS_REGION;
      process.env.AWS_REGION = region ?? 'us-east-1';
      const first = await run(input, stateDir, load, pair, sampler, () => {
        delete process.env.AWS_REGION;
        delete process.env.AWS_DEFAULT_REGION;
      });
      expect(first.report).toMatchObject({ ok: false, status: 'FAILED', outcome: 'migrated-unfinished', error: 'MigratedWithUnfinishedSteps' });
      expect(EXIT_CODES[first.report.outcome]).toBe(3);
      expect(first.report.unfinished.map((u) => [u.step, u.status])).toEqual([['Switch DNS', 'failed'], ['Start reverse replication', 'not-run']]);
      expect(first.report.unfinished[0]!.why).toContain('Region is missing');
      expect(first.report.cause).toContain(`the target (${target.host}:${target.port}) is the primary and takes the writes`);
      expect(first.report.finalStatePath).toBe(finalStatePath(stateDir, 'after-dns'));
      const savedFirst = JSON.parse(readFileSync(first.report.finalStatePath!, 'utf8'));
      expect(savedFirst).toMatchObject({ cutover: first.report.cutover, failureReport: { outcome: 'migrated-unfinished' } });
      expect(savedFirst.binlogs).toBeDefined();
      expect(savedFirst.replicationUser).toBeDefined();
      expect(first.entered).not.toContain('Report the failure');
      expect([await readOnly(source), await readOnly(target)]).toEqual([1, 0]);
      expect(await cname()).toBe(source.host);
      await until(() => load.ackedIds('target').length > 30);
      expect(await appWrites(source, 9_000_001)).toBe(false);

      // 2. Fallback reads the saved state and refuses (the source lacks the target's writes): nothing changes.
      const refused = await runFollowUpLocally('fallback', 'after-dns', { stateDir });
      expect(refused).toMatchObject({ status: 'FAILED', error: 'FallbackNotReadyError' });
      expect(refused.cause).toContain('Start the migration again with the same input');
      expect([await readOnly(source), await readOnly(target)]).toEqual([1, 0]);

      // 3. The region is set; the same input again: resumes after the cutover (nothing before it runs).
      process.env.AWS_REGION = region ?? 'us-east-1';
      const again = await run(input, stateDir, load, pair, sampler);
      expect(again.report).toMatchObject({ ok: true, outcome: 'migrated', unfinished: [] });
      expect(again.entered.slice(0, 5)).toEqual(['Validate the input', 'Read the cutover record on the target', 'Is the target already the primary?', 'Use the target admin found with the record', 'Resume after the cutover']);
      for (const step of BEFORE_CUTOVER_STEPS) expect(again.entered, step).not.toContain(step);
      expect(again.report.cutover).toEqual(first.report.cutover);
      expect(again.report.reverse).toMatchObject({ started: true, from: first.report.cutover!.targetPositionAtSwitch });
      expect(await cname()).toBe(target.host);
      expect([await readOnly(source), await readOnly(target)]).toEqual([1, 0]);
      expect(await appWrites(source, 9_000_002)).toBe(false);
      // The saved state: the resumed run's on top of the first's (what the skipped steps made, for
      // cleanup: the binlog retention it changed, the replication user), without the first's failure.
      const saved = JSON.parse(readFileSync(again.report.finalStatePath!, 'utf8'));
      expect(saved).toMatchObject({ binlogs: savedFirst.binlogs, replicationUser: savedFirst.replicationUser, logicalCopy: savedFirst.logicalCopy, reverse: { started: true }, dns: { skipped: false } });
      expect(saved).not.toHaveProperty('failureReport');
      expect(saved).not.toHaveProperty('failure');

      // 4. Fallback now works: the source takes the writes again, DNS points back at it.
      await until(() => load.ackedIds('target').length > 80);
      const fallback = await runFollowUpLocally('fallback', 'after-dns', { stateDir });
      expect(fallback.error).toBeUndefined();
      expect(fallback.status).toBe('SUCCEEDED');
      load.repoint({ host: source.host, port: source.port, name: 'source-after-fallback' });
      await until(() => load.ackedIds('source-after-fallback').length > 30);
      expect(await cname()).toBe(source.host);

      // 5. The same input once more after the fallback: the target's record still says it took over, but
      // the source's fallback record says the writes went back. Refused before anything changes (resuming
      // would point the name at the blocked target and replicate its old binlog into the source).
      const replicaBefore = [await replicaOf(source), await replicaOf(target)];
      const late = await run(input, stateDir, load, pair, sampler);
      expect(late.report).toMatchObject({ status: 'FAILED', outcome: 'failed', error: 'FellBackToSourceError' });
      expect(late.report.cause).toContain('fell back after its cutover');
      expect(late.report.cause).toContain(`the source (${source.host}:${source.port}), the target (${target.host}:${target.port})`);
      expect(late.entered).not.toContain('Resume after the cutover');
      expect(late.entered).not.toContain('Switch DNS');
      expect(late.entered).not.toContain('Run preflight checks');
      expect(await cname()).toBe(source.host);
      expect([await replicaOf(source), await replicaOf(target)]).toEqual(replicaBefore);
      const acked = load.ackedIds('source-after-fallback').length;
      await until(() => load.ackedIds('source-after-fallback').length > acked + 10);

      await load.stop();
      await sampler.stop();
      expect([await readOnly(source), await readOnly(target)]).toEqual([0, 1]);

      // Every acknowledged write, wherever it was made, is on the final primary; never two writable primaries.
      const onSource = await idsOn(source);
      expect(load.ackedIds().filter((id) => !onSource.has(id))).toEqual([]);
      expect(load.ackedIds('target').length).toBeGreaterThan(80);
      expect(sampler.samples.length).toBeGreaterThan(50);
      expect(sampler.bothWritable()).toEqual([]);
    } finally {
      await load.stop();
      await sampler.stop();
      await Promise.all([source.stop(), target.stop()]);
    }
  }, 240_000);

  it('"Start reverse replication" fails (its secret cannot be stored): migrated with unfinished steps; fallback refused; the same input again starts it; then fallback', async () => {
    const pair = await startPair(121);
    const { source, target } = pair;
    const stateDir = join(dir, 'reverse', '.crossmove');
    const secrets = join(stateDir, 'secrets');
    process.env.CROSSMOVE_SECRET_STORE = `local:${secrets}`;
    // Where the reverse replication user's password goes is a directory: the write fails (EISDIR),
    // as a Secrets Manager write fails without permission.
    const blocked = join(secrets, 'crossmove', 'after-reverse', 'replication-user-reverse.json');
    mkdirSync(blocked, { recursive: true });
    const input = inputFor('after-reverse', pair, 'AFTER_REVERSE_ADMIN');
    const load = new WriteLoad({ host: source.host, port: source.port, name: 'source' }, { ratePerSec: 100 }).start();
    const sampler = new ReadOnlySampler(pair);
    try {
      const first = await run(input, stateDir, load, pair, sampler);
      expect(first.report).toMatchObject({ status: 'FAILED', outcome: 'migrated-unfinished', error: 'MigratedWithUnfinishedSteps' });
      expect(first.report.unfinished).toEqual([expect.objectContaining({ step: 'Start reverse replication', status: 'failed', why: expect.stringContaining('EISDIR') })]);
      expect(first.report.dns).toMatchObject({ skipped: true });
      expect([await readOnly(source), await readOnly(target)]).toEqual([1, 0]);
      await until(() => load.ackedIds('target').length > 30);
      expect(await appWrites(source, 9_000_101)).toBe(false);

      const refused = await runFollowUpLocally('fallback', 'after-reverse', { stateDir });
      expect(refused).toMatchObject({ status: 'FAILED', error: 'FallbackNotReadyError' });
      expect([await readOnly(source), await readOnly(target)]).toEqual([1, 0]);

      // The cause is fixed; the same input again resumes: only reverse replication is left, and it starts.
      rmSync(blocked, { recursive: true });
      const again = await run(input, stateDir, load, pair, sampler);
      expect(again.report).toMatchObject({ ok: true, outcome: 'migrated' });
      for (const step of BEFORE_CUTOVER_STEPS) expect(again.entered, step).not.toContain(step);
      expect(again.report.reverse).toMatchObject({ started: true, from: first.report.cutover!.targetPositionAtSwitch });
      expect([await readOnly(source), await readOnly(target)]).toEqual([1, 0]);

      await until(() => load.ackedIds('target').length > 80);
      const fallback = await runFollowUpLocally('fallback', 'after-reverse', { stateDir });
      expect(fallback.error).toBeUndefined();
      expect(fallback.status).toBe('SUCCEEDED');
      load.repoint({ host: source.host, port: source.port, name: 'source-after-fallback' });
      await until(() => load.ackedIds('source-after-fallback').length > 30);
      await load.stop();
      await sampler.stop();
      expect([await readOnly(source), await readOnly(target)]).toEqual([0, 1]);

      const onSource = await idsOn(source);
      expect(load.ackedIds().filter((id) => !onSource.has(id))).toEqual([]);
      expect(sampler.bothWritable()).toEqual([]);
      expect(sampler.samples.length).toBeGreaterThan(50);
    } finally {
      await load.stop();
      await sampler.stop();
      await Promise.all([source.stop(), target.stop()]);
    }
  }, 240_000);
});

async function until(fn: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
