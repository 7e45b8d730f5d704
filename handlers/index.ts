// The registry of step handlers: serverless.yml `functions:` key -> handler file. The local runner
// (local/run-state-machine.ts) binds every Task state to these, and test/statemachine/bindings.test.ts
// checks that every Task in the ASL, every entry here and every function in serverless.yml agree.
// Loaded lazily so a run only imports what it uses (and a missing file fails only when it is used).
import type { Context } from 'aws-lambda';

export type StepLambda = (event: any, context: Context) => Promise<unknown>;
export interface HandlerEntry {
  /** File under handlers/ (kebab-case, without extension); serverless.yml uses handlers/<file>.handler. */
  file: string;
  load: () => Promise<{ handler: StepLambda }>;
}

const entry = (file: string, load: () => Promise<unknown>): HandlerEntry => ({
  file,
  load: load as HandlerEntry['load'],
});

export const handlerRegistry = {
  validateInput: entry('validate-input', () => import('./validate-input.js')),
  readCutoverRecord: entry('read-cutover-record', () => import('./read-cutover-record.js')),
  runPreflight: entry('run-preflight', () => import('./run-preflight.js')),
  checkDatabases: entry('check-databases', () => import('./check-databases.js')),
  keepBinlogs: entry('keep-binlogs', () => import('./keep-binlogs.js')),
  shareCluster: entry('share-cluster', () => import('./share-cluster.js')),
  acceptShare: entry('accept-share', () => import('./accept-share.js')),
  grantKeyAccess: entry('grant-key-access', () => import('./grant-key-access.js')),
  cloneCluster: entry('clone-cluster', () => import('./clone-cluster.js')),
  checkClone: entry('check-clone', () => import('./check-clone.js')),
  createWriter: entry('create-writer', () => import('./create-writer.js')),
  checkWriter: entry('check-writer', () => import('./check-writer.js')),
  resetMasterPassword: entry('reset-master-password', () => import('./reset-master-password.js')),
  checkMasterPassword: entry('check-master-password', () => import('./check-master-password.js')),
  readBinlogPosition: entry('read-binlog-position', () => import('./read-binlog-position.js')),
  snapshotSource: entry('snapshot-source', () => import('./snapshot-source.js')),
  checkSourceSnapshot: entry('check-source-snapshot', () => import('./check-source-snapshot.js')),
  shareSnapshot: entry('share-snapshot', () => import('./share-snapshot.js')),
  copySnapshot: entry('copy-snapshot', () => import('./copy-snapshot.js')),
  checkSnapshotCopy: entry('check-snapshot-copy', () => import('./check-snapshot-copy.js')),
  restoreSnapshot: entry('restore-snapshot', () => import('./restore-snapshot.js')),
  prepareFrozenSource: entry('prepare-frozen-source', () => import('./prepare-frozen-source.js')),
  checkFrozenSource: entry('check-frozen-source', () => import('./check-frozen-source.js')),
  planCopy: entry('plan-copy', () => import('./plan-copy.js')),
  // The copy window (statemachine/copy.asl.yaml): its Map's worker slots, the check after each round.
  copyChunks: entry('copy-chunks', () => import('./copy-chunks.js')),
  checkCopy: entry('check-copy', () => import('./check-copy.js')),
  explainCopyFailure: entry('explain-copy-failure', () => import('./explain-copy-failure.js')),
  finishCopy: entry('finish-copy', () => import('./finish-copy.js')),
  createReplicationUser: entry('create-replication-user', () => import('./create-replication-user.js')),
  startReplication: entry('start-replication', () => import('./start-replication.js')),
  checkReplication: entry('check-replication', () => import('./check-replication.js')),
  // The data comparison: statemachine/verify.asl.yaml (one window, also run on demand by `crossmove verify`).
  planDiff: entry('plan-diff', () => import('./plan-diff.js')),
  compareChunks: entry('compare-chunks', () => import('./compare-chunks.js')),
  checkDiff: entry('check-diff', () => import('./check-diff.js')),
  requestApproval: entry('request-approval', () => import('./request-approval.js')),
  cutOver: entry('cut-over', () => import('./cut-over.js')),
  switchDns: entry('switch-dns', () => import('./switch-dns.js')),
  startReverseReplication: entry('start-reverse-replication', () => import('./start-reverse-replication.js')),
  reportSuccess: entry('report-success', () => import('./report-success.js')),
  reportFailure: entry('report-failure', () => import('./report-failure.js')),
  // Operator actions after the migration: statemachine/cleanup.asl.yaml and fallback.asl.yaml.
  cleanupDb: entry('cleanup-db', () => import('./cleanup-db.js')),
  cleanupAws: entry('cleanup-aws', () => import('./cleanup-aws.js')),
  fallBack: entry('fall-back', () => import('./fall-back.js')),
} satisfies Record<string, HandlerEntry>;

export type FunctionKey = keyof typeof handlerRegistry;
export const FUNCTION_KEYS = Object.keys(handlerRegistry) as FunctionKey[];

export function isFunctionKey(key: string): key is FunctionKey {
  return Object.hasOwn(handlerRegistry, key);
}
