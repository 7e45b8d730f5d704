// The snapshot branch of statemachine/migration.asl.yaml: valid ASL with the team's rules (timeouts, retry names, catch,
// bounded loops), and executed locally with aws-local-stepfunctions along the snapshot branch, every
// Task bound to the REAL handler, AWS answered by aws-sdk-client-mock with snapshots that take a few
// polls (moto makes everything available at once). "Create the writer" (clone path) and "Report the
// failure" are stand-ins that end the run, so the output shows where the branch leaves off.
import '../../local/polyfills.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { StateMachine } from 'aws-local-stepfunctions';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CopyDBClusterSnapshotCommand, CreateDBClusterSnapshotCommand, DescribeDBClusterSnapshotAttributesCommand, DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand, ModifyDBClusterSnapshotAttributeCommand, RDSClient, RestoreDBClusterFromSnapshotCommand, type DBClusterSnapshot,
} from '@aws-sdk/client-rds';
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { RETRYABLE_ERROR_NAMES } from '../../shared/errors.js';
import { localLambdaContext } from '../../shared/handler.js';
import { handler as snapshotSource } from '../../handlers/snapshot-source.js';
import { handler as checkSourceSnapshot } from '../../handlers/check-source-snapshot.js';
import { handler as shareSnapshot } from '../../handlers/share-snapshot.js';
import { handler as grantKeyAccess } from '../../handlers/grant-key-access.js';
import { handler as copySnapshot } from '../../handlers/copy-snapshot.js';
import { handler as checkSnapshotCopy } from '../../handlers/check-snapshot-copy.js';
import { handler as restoreSnapshot } from '../../handlers/restore-snapshot.js';
import { handler as checkClone } from '../../handlers/check-clone.js';
import { REGION, SOURCE_KEY, SRC, TGT, assumeRoleResponse, crossAccountState, mockTargetParameterGroup, resetCaches, targetCluster } from '../aws/mock-fixtures.js';

const require = createRequire(import.meta.url);
const aslValidator = require('asl-validator') as (def: unknown) => { isValid: boolean; errors: unknown[] };

const MAIN = parse(readFileSync(new URL('../../statemachine/migration.asl.yaml', import.meta.url), 'utf8'), { merge: true, maxAliasCount: -1 }) as {
  States: Record<string, any>;
};
/** The snapshot branch of migration.asl.yaml: every state reachable from "Snapshot the source" before it joins the clone path. */
const FRAGMENT: Record<string, any> = (() => {
  const out: Record<string, any> = {};
  const todo = ['Snapshot the source'];
  while (todo.length) {
    const name = todo.pop()!;
    if (name in out || name === 'Create the writer' || name === 'Report the failure') continue;
    const state = MAIN.States[name];
    out[name] = state;
    todo.push(...[state.Next, state.Default, ...(state.Choices ?? []).map((c: any) => c.Next), ...(state.Catch ?? []).map((c: any) => c.Next)].filter(Boolean));
  }
  // In the file's order (the order the branch runs them).
  return Object.fromEntries(Object.keys(MAIN.States).filter((n) => n in out).map((n) => [n, out[n]]));
})();
const ctx = localLambdaContext('test');
const HANDLERS: Record<string, (e: any, c: any) => Promise<unknown>> = {
  snapshotSource, checkSourceSnapshot, shareSnapshot, grantKeyAccess, copySnapshot, checkSnapshotCopy, restoreSnapshot, checkClone,
};
const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:';

/** The fragment with the two states it leads to, Fn::GetAtt resolved to local ARNs. */
function definition(): any {
  const states = JSON.parse(JSON.stringify(FRAGMENT, (_k, v) => (v && typeof v === 'object' && Array.isArray(v['Fn::GetAtt']) ? `${LAMBDA}${v['Fn::GetAtt'][0]}` : v)));
  return {
    StartAt: 'Snapshot the source',
    States: {
      ...states,
      'Create the writer': { Type: 'Pass', End: true },
      'Report the failure': { Type: 'Pass', End: true },
    },
  };
}

async function runBranch(input: unknown) {
  const def = definition();
  const overrides: any = { taskResourceLocalHandlers: {}, waitTimeOverrides: {}, retryIntervalOverrides: {} };
  const called: string[] = [];
  for (const [name, state] of Object.entries<any>(def.States)) {
    if (state.Type === 'Task') {
      const key = state.Resource.slice(LAMBDA.length);
      overrides.taskResourceLocalHandlers[name] = async (event: unknown) => {
        called.push(name);
        return HANDLERS[key]!(event, ctx);
      };
      overrides.retryIntervalOverrides[name] = 0;
    }
    if (state.Type === 'Wait') overrides.waitTimeOverrides[name] = 0;
  }
  const entered: string[] = [];
  const run = new StateMachine(def).run(input as any, { overrides });
  const pump = (async () => {
    for await (const ev of run.eventLogs as AsyncGenerator<any>) if (ev.type === 'StateEntered') entered.push(ev.state.name);
  })();
  const output = (await run.result) as any;
  await pump;
  return { output, entered, called };
}

describe('snapshot-branch.yaml rules', () => {
  const def = definition();
  const tasks = Object.entries<any>(FRAGMENT).filter(([, s]) => s.Type === 'Task');

  it('is valid ASL once joined to the states it leads to', () => {
    const result = aslValidator(def);
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('gives every Task a timeout, the retryable names with backoff, and a catch into the failure report', () => {
    expect(tasks.map(([n]) => n)).toEqual([
      'Snapshot the source', 'Check the source snapshot', 'Share the snapshot', 'Let the target use the KMS key for the snapshot',
      'Copy the snapshot', 'Check the snapshot copy', 'Restore the snapshot', 'Check the restored cluster',
    ]);
    for (const [, s] of tasks) {
      expect(s.TimeoutSeconds).toBeGreaterThan(60);
      expect(s.Retry).toEqual([expect.objectContaining({ ErrorEquals: [...RETRYABLE_ERROR_NAMES], BackoffRate: 2, JitterStrategy: 'FULL' })]);
      expect(s.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Report the failure' }]);
      expect(Object.keys(s.Resource)).toEqual(['Fn::GetAtt']);
    }
  });

  it('bounds every poll loop by an attempt count that ends in a named failure', () => {
    const bounds = Object.entries<any>(FRAGMENT)
      .filter(([, s]) => s.Type === 'Choice')
      .flatMap(([, s]) => s.Choices.filter((c: any) => c.NumericGreaterThanEquals).map((c: any) => [c.Variable, c.NumericGreaterThanEquals, FRAGMENT[c.Next].Parameters.Error]));
    expect(bounds).toEqual([
      ['$.sourceSnapshot.attempts', 720, 'SnapshotNotAvailableInTimeError'],
      ['$.snapshotCopy.attempts', 480, 'SnapshotNotAvailableInTimeError'],
      ['$.clone.attempts', 240, 'RestoredClusterNotAvailableInTimeError'],
    ]);
  });
});

describe('the snapshot branch executed locally', () => {
  const rds = mockClient(RDSClient);
  const kms = mockClient(KMSClient);
  const sts = mockClient(STSClient);
  const SOURCE_SNAPSHOT_ARN = `arn:aws:rds:${REGION}:${SRC}:cluster-snapshot:crossmove-orders-2026-12-source`;
  const snap = (id: string, arn: string, status: string, extra: Partial<DBClusterSnapshot> = {}): DBClusterSnapshot => ({
    DBClusterSnapshotIdentifier: id, DBClusterSnapshotArn: arn, DBClusterIdentifier: 'orders-prod', Status: status, Engine: 'aurora-mysql',
    EngineVersion: '8.0.mysql_aurora.3.05.2', StorageEncrypted: true, KmsKeyId: SOURCE_KEY, SnapshotType: 'manual', PercentProgress: status === 'available' ? 100 : 50, ...extra,
  });
  const source = (status: string) => snap('crossmove-orders-2026-12-source', SOURCE_SNAPSHOT_ARN, status);
  const copy = (status: string) =>
    snap('crossmove-orders-2026-12-copy', `arn:aws:rds:${REGION}:${TGT}:cluster-snapshot:crossmove-orders-2026-12-copy`, status, {
      KmsKeyId: `arn:aws:kms:${REGION}:${TGT}:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0`, TagList: [{ Key: 'crossmove:migrationId', Value: 'orders-2026-12' }],
    });
  const notFound = (name: string) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: 404 } });
  const state = () => ({
    ...crossAccountState({ initialLoad: { method: 'snapshot' } }),
    preflight: { ok: true, checks: [], sourceCluster: { engineVersion: '8.0.mysql_aurora.3.05.2', kmsKeyArn: SOURCE_KEY, parameterGroup: 'orders-binlog', instanceCount: 1 } },
  });

  beforeEach(() => {
    rds.reset();
    kms.reset();
    sts.reset();
    resetCaches();
    // The input's target.dbClusterParameterGroupName (orders-binlog-on), binlogs on.
    mockTargetParameterGroup(rds);
    sts.on(AssumeRoleCommand).resolves(assumeRoleResponse());
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', Arn: SOURCE_KEY, KeyManager: 'CUSTOMER', KeyState: 'Enabled' } });
    kms.on(GetKeyPolicyCommand).resolves({ Policy: JSON.stringify({ Version: '2012-10-17', Statement: [] }) });
    kms.on(PutKeyPolicyCommand).resolves({});
  });

  it('cross account: snapshot (polled), share, key, copy (polled), restore (polled), then on to "Create the writer"', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-source' })
      .rejectsOnce(notFound('DBClusterSnapshotNotFoundFault'))
      .resolvesOnce({ DBClusterSnapshots: [source('creating')] })
      .resolves({ DBClusterSnapshots: [source('available')] });
    rds.on(CreateDBClusterSnapshotCommand).resolves({ DBClusterSnapshot: source('creating') });
    rds.on(DescribeDBClusterSnapshotAttributesCommand).resolves({ DBClusterSnapshotAttributesResult: { DBClusterSnapshotAttributes: [{ AttributeName: 'restore', AttributeValues: [] }] } });
    rds.on(ModifyDBClusterSnapshotAttributeCommand).resolves({});
    rds.on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-copy' })
      .rejectsOnce(notFound('DBClusterSnapshotNotFoundFault'))
      .resolvesOnce({ DBClusterSnapshots: [copy('copying')] })
      .resolvesOnce({ DBClusterSnapshots: [copy('copying')] })
      .resolves({ DBClusterSnapshots: [copy('available')] });
    rds.on(CopyDBClusterSnapshotCommand).resolves({ DBClusterSnapshot: copy('creating') });
    rds.on(DescribeDBClustersCommand)
      .rejectsOnce(notFound('DBClusterNotFoundFault'))
      .resolvesOnce({ DBClusters: [targetCluster('creating')] })
      .resolves({ DBClusters: [targetCluster('available')] });
    rds.on(RestoreDBClusterFromSnapshotCommand).resolves({ DBCluster: targetCluster('creating') });

    const { output, entered, called } = await runBranch(state());
    expect(output.failure).toBeUndefined();
    expect(entered.at(-1)).toBe('Create the writer');
    expect(called).toEqual([
      'Snapshot the source', 'Check the source snapshot', 'Check the source snapshot', 'Share the snapshot', 'Let the target use the KMS key for the snapshot',
      'Copy the snapshot', 'Check the snapshot copy', 'Check the snapshot copy', 'Check the snapshot copy',
      'Restore the snapshot', 'Check the restored cluster', 'Check the restored cluster',
    ]);
    expect(output.sourceSnapshot).toMatchObject({ done: true, attempts: 2, created: true });
    expect(output.snapshotShare).toEqual({ snapshotArn: SOURCE_SNAPSHOT_ARN, sharedWith: TGT, added: true });
    expect(output.keyAccess).toMatchObject({ keyArn: SOURCE_KEY, added: true });
    expect(output.snapshotCopy).toMatchObject({ done: true, attempts: 3, created: true });
    // $.clone is what "Create the writer" and "Read the clone's binlog position" read.
    expect(output.clone).toMatchObject({ done: true, attempts: 2, created: true, clusterIdentifier: 'orders-prod-moved', endpoint: 'orders-prod-moved.cluster-f9e8d7c6b5a4.us-east-1.rds.amazonaws.com' });
  });

  it('cross account into another region: the source snapshot, then its shareable copy (polled in the same loop) is what is shared, opened and copied', async () => {
    const OTHER = 'eu-west-1';
    const snapshotKey = `arn:aws:kms:${OTHER}:${SRC}:key/5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b`;
    const shareableArn = `arn:aws:rds:${OTHER}:${SRC}:cluster-snapshot:crossmove-orders-2026-12-shareable`;
    const shareable = (status: string) => snap('crossmove-orders-2026-12-shareable', shareableArn, status, { KmsKeyId: snapshotKey, SourceDBClusterSnapshotArn: SOURCE_SNAPSHOT_ARN });
    rds.on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-source' })
      .rejectsOnce(notFound('DBClusterSnapshotNotFoundFault'))
      .resolves({ DBClusterSnapshots: [source('available')] });
    rds.on(CreateDBClusterSnapshotCommand).resolves({ DBClusterSnapshot: source('creating') });
    rds.on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-shareable' })
      .rejectsOnce(notFound('DBClusterSnapshotNotFoundFault'))
      .resolvesOnce({ DBClusterSnapshots: [shareable('copying')] })
      .resolves({ DBClusterSnapshots: [shareable('available')] });
    rds.on(CopyDBClusterSnapshotCommand, { TargetDBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-shareable' }).resolves({ DBClusterSnapshot: shareable('creating') });
    rds.on(DescribeDBClusterSnapshotAttributesCommand).resolves({ DBClusterSnapshotAttributesResult: { DBClusterSnapshotAttributes: [{ AttributeName: 'restore', AttributeValues: [] }] } });
    rds.on(ModifyDBClusterSnapshotAttributeCommand).resolves({});
    rds.on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-copy' }).rejectsOnce(notFound('DBClusterSnapshotNotFoundFault')).resolves({ DBClusterSnapshots: [copy('available')] });
    rds.on(CopyDBClusterSnapshotCommand, { TargetDBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-copy' }).resolves({ DBClusterSnapshot: copy('available') });
    rds.on(DescribeDBClustersCommand).rejectsOnce(notFound('DBClusterNotFoundFault')).resolves({ DBClusters: [targetCluster('available')] });
    rds.on(RestoreDBClusterFromSnapshotCommand).resolves({ DBCluster: targetCluster('creating') });
    const base = state();
    const crossRegion = {
      ...crossAccountState({ initialLoad: { method: 'snapshot' }, source: { snapshotKmsKeyId: snapshotKey }, target: { region: OTHER, kmsKeyId: `arn:aws:kms:${OTHER}:${TGT}:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0` } }),
      accounts: { ...base.accounts, targetRegion: OTHER },
      preflight: base.preflight,
    };
    const { output, called } = await runBranch(crossRegion);
    expect(output.failure).toBeUndefined();
    expect(called.slice(0, 6)).toEqual([
      'Snapshot the source', 'Check the source snapshot', 'Check the source snapshot', 'Check the source snapshot', 'Share the snapshot', 'Let the target use the KMS key for the snapshot',
    ]);
    expect(output.sourceSnapshot).toMatchObject({ done: true, stage: 'shareable-copy', snapshotArn: shareableArn, region: OTHER, attempts: 3 });
    expect(output.snapshotShare).toEqual({ snapshotArn: shareableArn, sharedWith: TGT, added: true });
    expect(output.keyAccess).toMatchObject({ keyArn: snapshotKey, added: true });
    expect(rds.commandCalls(CopyDBClusterSnapshotCommand).map((c) => [c.args[0].input.SourceDBClusterSnapshotIdentifier, c.args[0].input.TargetDBClusterSnapshotIdentifier])).toEqual([
      [SOURCE_SNAPSHOT_ARN, 'crossmove-orders-2026-12-shareable'],
      [shareableArn, 'crossmove-orders-2026-12-copy'],
    ]);
  });

  it('same account: goes straight from the snapshot to the copy', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-source' }).resolves({ DBClusterSnapshots: [source('available')] });
    rds.on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: 'crossmove-orders-2026-12-copy' }).resolves({ DBClusterSnapshots: [copy('available')] });
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [targetCluster('available')] });
    const same = { ...state(), accounts: { source: TGT, target: TGT, sameAccount: true, sourceRegion: REGION, targetRegion: 'eu-west-1' } };
    const { entered, output } = await runBranch(same);
    expect(entered).toEqual([
      'Snapshot the source', 'Is the source snapshot available?', 'Is the snapshot for another account?', 'Copy the snapshot',
      'Is the snapshot copy available?', 'Restore the snapshot', 'Is the restored cluster available?', 'Create the writer',
    ]);
    expect(output.clone).toMatchObject({ done: true, created: false });
  });

  it('ends in SnapshotNotAvailableInTimeError when the snapshot never becomes available', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [source('creating')] });
    const { output, called } = await runBranch(state());
    expect(output.failure.Error).toBe('SnapshotNotAvailableInTimeError');
    expect(output.failure.Cause).toContain('crossmove-orders-2026-12-source was still creating after 720 checks');
    expect(called.filter((n) => n === 'Check the source snapshot')).toHaveLength(720);
  });

  it('reports a typed step failure (no retry) through $.failure', async () => {
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', Arn: SOURCE_KEY, KeyManager: 'AWS', KeyState: 'Enabled' } });
    const { output, called } = await runBranch(state());
    expect(called).toEqual(['Snapshot the source']);
    expect(output.failure.Error).toBe('DefaultKmsKeyError');
    expect(rds.commandCalls(CreateDBClusterSnapshotCommand)).toHaveLength(0);
  });
});
