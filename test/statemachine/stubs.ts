// Stand-ins for the step handlers owned by other parts, returning results shaped exactly like the
// pieces in shared/state.ts, so the state machine's wiring is exercised on its own. Report handlers
// (report-success / report-failure) are NOT stubbed: the real ones run.
import { validateMigrationInput } from '../../shared/input/validate.js';
import type { FunctionKey, LocalHandler } from '../../local/run-state-machine.js';
import type { MigrationState } from '../../shared/state.js';

export const CROSS_ACCOUNT_CLONE_INPUT = {
  migrationId: 'orders-2026-12',
  source: {
    clusterArn: 'arn:aws:rds:us-east-1:111111111111:cluster:orders',
    adminSecret: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:orders-admin',
    accessRoleArn: 'arn:aws:iam::111111111111:role/crossmove-source',
    externalId: 'crossmove-ext',
  },
  target: { adminSecret: 'arn:aws:secretsmanager:us-east-1:222222222222:secret:orders-admin', kmsKeyId: 'alias/crossmove' },
  initialLoad: { method: 'clone' },
  replication: { pollSeconds: 60 },
  cutover: { approval: 'manual' },
};

export const LOCAL_LOGICAL_INPUT = {
  migrationId: 'local-demo',
  source: { endpoint: { host: '127.0.0.1', port: 3306 }, adminSecret: 'env:SRC_ADMIN' },
  target: { endpoint: { host: '127.0.0.1', port: 3307 }, adminSecret: 'env:TGT_ADMIN' },
  initialLoad: { method: 'logical' },
  replication: { pollSeconds: 1 },
  cutover: { approval: 'auto' },
};

type Handlers = Partial<Record<FunctionKey, LocalHandler>>;

const poll = (key: 'clone' | 'writer' | 'binlogPosition', readyAt: number) => (state: MigrationState) => {
  const attempts = ((state[key] as { attempts?: number } | undefined)?.attempts ?? 0) + 1;
  return { attempts, done: attempts >= readyAt, status: attempts >= readyAt ? 'available' : 'creating' };
};

const snap = (key: 'sourceSnapshot' | 'snapshotCopy') => (state: MigrationState) => {
  const attempts = ((state[key] as { attempts?: number } | undefined)?.attempts ?? 0) + 1;
  return { attempts, done: attempts >= 2, status: attempts >= 2 ? 'available' : 'creating' };
};

/** Every step handler except the reports, succeeding; `calls` counts invocations per function key. */
/** A comparison summary shaped like shared/verify/diff-report.ts DiffSummary. */
export function diffSummaryStub(done: boolean, verdict: 'clean' | 'differences', rows = 1200): Record<string, unknown> {
  const differs = verdict === 'differences';
  return {
    job: 'gate-1', done, verdict: done ? verdict : 'incomplete', mode: 'exact', tablesTotal: 3, tablesCompared: done ? 3 : 1, rowsCompared: rows, chunks: 12,
    rowsPerSec: 50_000, elapsedSeconds: 2, etaSeconds: done ? 0 : 10,
    differences: { tables: differs ? 1 : 0, rows: differs ? 2 : 0, missing: differs ? 1 : 0, extra: 0, different: differs ? 1 : 0, unsettled: 0 },
    tables: differs ? [{ table: 'app.orders', missing: 1, extra: 0, different: 1, unsettled: 0, rows: [{ kind: 'missing', key: 'id=7' }, { kind: 'different', key: 'id=9', columns: ['total'] }] }] : [],
    moreTables: 0, notVerifiable: [], positions: { first: 'mysql-bin.000002:4300', last: 'mysql-bin.000002:9100' }, checkedAt: new Date().toISOString(),
  };
}

export function stubHandlers(options: { cloneReadyAt?: number; caughtUpAt?: number; diffDoneAt?: number; diffVerdict?: 'clean' | 'differences'; copyRounds?: number } = {}) {
  const calls: Record<string, number> = {};
  const count = (key: string, fn: LocalHandler): LocalHandler => async (event) => {
    calls[key] = (calls[key] ?? 0) + 1;
    return fn(event);
  };
  const at = () => new Date().toISOString();
  let copyChecks = 0;
  const raw: Handlers = {
    validateInput: (raw: unknown) => {
      const input = validateMigrationInput(raw);
      const sourceAccount = input.source.clusterArn?.split(':')[4] ?? null;
      return {
        input,
        accounts: {
          source: sourceAccount,
          target: sourceAccount ? '222222222222' : null,
          sameAccount: !input.source.accessRoleArn,
          sourceRegion: sourceAccount ? 'us-east-1' : null,
          targetRegion: sourceAccount ? 'us-east-1' : null,
        },
      };
    },
    // No target yet / nothing recorded: a first run (tests of a re-run replace it).
    readCutoverRecord: () => ({ targetIsPrimary: false, phase: null, cutover: null, targetEndpoint: null, sourceEndpoint: null, targetAdmin: null, detail: 'no cutover recorded', checkedAt: at() }),
    runPreflight: () => ({ ok: true, checks: [{ id: 'binlog-format', status: 'pass', message: 'binlog_format is ROW' }] }),
    checkDatabases: () => ({ ok: true, checks: [{ id: 'db-source-reachable', status: 'pass', message: 'reachable' }] }),
    keepBinlogs: () => ({ logBin: true, format: 'ROW', retentionHours: 72, previousRetentionHours: null, changed: true }),
    shareCluster: () => ({ resourceShareArn: 'arn:aws:ram:us-east-1:111111111111:resource-share/abc', created: true }),
    acceptShare: () => ({ invitationArn: 'arn:aws:ram:us-east-1:111111111111:resource-share-invitation/def', status: 'ACCEPTED' }),
    grantKeyAccess: () => ({ keyArn: 'arn:aws:kms:us-east-1:111111111111:key/k1', statementSid: 'CrossmoveTargetAccessorders202612', added: true }),
    cloneCluster: (s: MigrationState) => ({ ...poll('clone', options.cloneReadyAt ?? 3)(s), clusterIdentifier: s.input.names.targetClusterIdentifier, created: true }),
    checkClone: (s: MigrationState) => ({ ...poll('clone', options.cloneReadyAt ?? 3)(s), clusterIdentifier: s.input.names.targetClusterIdentifier }),
    createWriter: (s: MigrationState) => ({ ...poll('writer', 2)(s), instanceIdentifier: s.input.names.targetWriterIdentifier, created: true }),
    checkWriter: (s: MigrationState) => ({ ...poll('writer', 2)(s), instanceIdentifier: s.input.names.targetWriterIdentifier }),
    resetMasterPassword: (s: MigrationState) => ({
      done: false, attempts: 0, status: 'resetting-master-credentials', clusterIdentifier: s.input.names.targetClusterIdentifier, username: 'admin',
      secretRef: `arn:aws:secretsmanager:us-east-1:222222222222:secret:${s.input.names.targetAdminSecretName}-AbCdEf`, createdSecret: true,
    }),
    checkMasterPassword: (s: MigrationState) => {
      const attempts = (s.targetAdmin?.attempts ?? 0) + 1;
      return { ...s.targetAdmin!, attempts, done: attempts >= 2, status: attempts >= 2 ? 'in-effect' : 'pending' };
    },
    readBinlogPosition: (s: MigrationState) => {
      const p = poll('binlogPosition', 2)(s);
      return { ...p, origin: 'describe-events', ...(p.done ? { position: { file: 'mysql-bin-changelog.000013', position: 77991983 } } : {}) };
    },
    snapshotSource: (s: MigrationState) => ({ ...snap('sourceSnapshot')(s), snapshotIdentifier: 'crossmove-orders-2026-12-source', created: true }),
    checkSourceSnapshot: (s: MigrationState) => ({ ...snap('sourceSnapshot')(s), snapshotIdentifier: 'crossmove-orders-2026-12-source' }),
    shareSnapshot: () => ({ snapshotArn: 'arn:aws:rds:us-east-1:111111111111:cluster-snapshot:crossmove-orders-2026-12-source', sharedWith: '222222222222', added: true }),
    copySnapshot: (s: MigrationState) => ({ ...snap('snapshotCopy')(s), snapshotIdentifier: 'crossmove-orders-2026-12-copy', created: true }),
    checkSnapshotCopy: (s: MigrationState) => ({ ...snap('snapshotCopy')(s), snapshotIdentifier: 'crossmove-orders-2026-12-copy' }),
    restoreSnapshot: (s: MigrationState) => ({ ...poll('clone', 2)(s), clusterIdentifier: s.input.names.targetClusterIdentifier, created: true }),
    // The logical copy: the live source (no frozen copy to wait for), 4 ranges copied over `copyRounds` rounds.
    prepareFrozenSource: (s: MigrationState) => ({ done: true, attempts: 1, status: 'live source, one snapshot', kind: 'live', endpoint: s.input.source.endpoint ?? null, position: null, fingerprint: null }),
    checkFrozenSource: (s: MigrationState) => ({ ...s.frozenSource!, attempts: s.frozenSource!.attempts + 1 }),
    planCopy: () => ({ job: 'copy', schemas: ['app'], tables: 3, ranges: 4, estimatedRows: 1200, estimatedBytes: 65536, wholeTables: [], reused: false }),
    copyChunks: (e: { worker: number }) => ({ worker: e.worker, ranges: 1, subChunks: 1, rows: 300, bytes: 16384, stoppedBy: 'nothing-to-claim' }),
    checkCopy: () => {
      copyChecks++;
      const done = copyChecks >= (options.copyRounds ?? 1);
      return { job: 'copy', rangesTotal: 4, rangesDone: done ? 4 : 2, rows: done ? 1200 : 600, bytes: done ? 65536 : 32768, estimatedRows: 1200, rowsPerSec: 600, etaSeconds: done ? 0 : 1, chunksCopiedTwice: 0, done, idle: false, checkedAt: at() };
    },
    explainCopyFailure: (e: { failure: { Error: string; Cause: string } }) => {
      throw Object.assign(new Error(e.failure.Cause), { name: e.failure.Error });
    },
    finishCopy: (s: MigrationState) => ({
      done: true, attempts: (s.logicalCopy?.attempts ?? 0) + 1, status: 'copied', keys: { tables: 1, built: 1, building: 0 },
      position: { file: 'mysql-bin.000002', position: 4242 }, tables: 3, rows: 1200, bytes: 65536, ms: 40,
    }),
    createReplicationUser: (s: MigrationState) => ({ userName: s.input.replication.userName, secretRef: 'file:/tmp/crossmove/repl.json', requireSsl: false }),
    startReplication: (s: MigrationState) => ({
      sourceHost: '127.0.0.1',
      sourcePort: 3306,
      startedAt: at(),
      from: s.binlogPosition!.position!,
      targetEngine: 'mariadb',
    }),
    checkReplication: (s: MigrationState) => {
      const attempts = (s.lag?.attempts ?? 0) + 1;
      const caughtUp = attempts >= (options.caughtUpAt ?? 3);
      return {
        heartbeatLagMs: caughtUp ? 40 : 5000, byteLag: caughtUp ? 0 : 9000, secondsBehind: 0,
        ioRunning: true, sqlRunning: true, healthy: true, underLimit: caughtUp,
        consecutiveUnderLimit: caughtUp ? 3 : 0, caughtUp, checkedAt: at(), attempts,
      };
    },
    planDiff: () => ({
      job: 'gate-1', purpose: 'gate', tables: 3, ranges: 5, notVerifiableByRows: 0, mode: 'exact', resumed: false,
      endpoints: { source: { host: '127.0.0.1', port: 3306 }, target: { host: '127.0.0.1', port: 3307 } },
    }),
    compareChunks: (e: { worker: number }) => ({ worker: e.worker, ranges: 1, subChunks: 3, rows: 400, differences: 0, syncPoints: 1, exactSyncPoints: 1, maxPausedMs: 20, maxLockMs: 0, stoppedBy: 'budget' }),
    checkDiff: () => {
      const n = (calls.checkDiff ?? 0);
      return diffSummaryStub(n >= (options.diffDoneAt ?? 1), options.diffVerdict ?? 'clean');
    },
    requestApproval: () => ({ requested: true }),
    cutOver: (s: MigrationState) => ({
      ok: true, rolledBack: false, writeBlockedMs: 31,
      finalSourcePosition: { file: 'mysql-bin.000002', position: 9000 },
      targetPositionAtSwitch: { file: 'mysql-bin.000001', position: 800 },
      tablesVerified: 3, checksumsMatch: s.input.cutover.verify === 'diff' ? true : null, grantDifferences: [], steps: [],
    }),
    switchDns: () => ({ recordName: '', value: '', changeId: null, skipped: true }),
    startReverseReplication: (s: MigrationState) => ({ started: s.input.cutover.reverseReplication, from: s.cutover!.targetPositionAtSwitch, skipped: !s.input.cutover.reverseReplication }),
  };
  const handlers: Handlers = {};
  for (const [k, fn] of Object.entries(raw)) handlers[k as FunctionKey] = count(k, fn!);
  return { handlers, calls };
}

/** A handler that throws an error with this name (as a stepHandler-wrapped handler would). */
export function failing(name: string, message: string): LocalHandler {
  return () => {
    const err = new Error(message);
    err.name = name;
    throw err;
  };
}
