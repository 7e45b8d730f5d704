// "Reset the master password" / "Check the master password" with aws-sdk-client-mock: exact
// ModifyDBCluster and Secrets Manager parameters, responses shaped like the RDS and Secrets Manager API
// references (moto applies a password change at once and never shows it pending: covered here).
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeDBClustersCommand, ModifyDBClusterCommand, RDSClient } from '@aws-sdk/client-rds';
import { CreateSecretCommand, GetSecretValueCommand, ResourceExistsException, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { localLambdaContext } from '../../shared/handler.js';
import { handler as resetMasterPassword } from '../../handlers/reset-master-password.js';
import { handler as checkMasterPassword } from '../../handlers/check-master-password.js';
import { targetAdminCredentials } from '../../shared/db-credentials.js';
import type { MigrationState, TargetAdminReset } from '../../shared/state.js';
import { REGION, TGT, crossAccountState, resetCaches, targetCluster } from '../aws/mock-fixtures.js';

const rds = mockClient(RDSClient);
const sm = mockClient(SecretsManagerClient);
const ctx = localLambdaContext('test');
const errorOf = (p: Promise<unknown>) => p.then(() => { throw new Error('expected the step to fail'); }, (e: Error) => e);
const SECRET_NAME = 'crossmove/orders-2026-12/target-admin';
const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${TGT}:secret:${SECRET_NAME}-Xy12Ab`;
const clone = { done: true, attempts: 3, status: 'available', clusterIdentifier: 'orders-prod-moved' };
const state = (extra: Partial<MigrationState> = {}): MigrationState => ({ ...crossAccountState(), clone, ...extra });
const notFound = () => new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: { httpStatusCode: 400 } });

beforeEach(() => {
  rds.reset();
  sm.reset();
  resetCaches();
  rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders-prod-moved' }).resolves({ DBClusters: [targetCluster('available', { MasterUsername: 'admin' })] });
});

describe('Reset the master password', () => {
  it('creates its secret first (the clone\'s master user, a generated password), then sets that password on the clone', async () => {
    sm.on(GetSecretValueCommand).rejects(notFound());
    sm.on(CreateSecretCommand).resolves({ ARN: SECRET_ARN, Name: SECRET_NAME, VersionId: 'v1' });
    rds.on(ModifyDBClusterCommand).resolves({ DBCluster: targetCluster('resetting-master-credentials', { PendingModifiedValues: { MasterUserPassword: '****' } }) });
    const out = await resetMasterPassword(state(), ctx);

    const created = sm.commandCalls(CreateSecretCommand)[0]!.args[0].input;
    expect(created.Name).toBe(SECRET_NAME);
    expect(created.Description).toBe('crossmove orders-2026-12: master user of cluster orders-prod-moved (password set by crossmove)');
    const value = JSON.parse(created.SecretString!);
    expect(value.username).toBe('admin');
    // RDS: 8 to 41 printable ASCII characters, not / " @.
    expect(value.password).toMatch(/^[A-Za-z0-9_-]{8,41}$/);
    expect(rds.commandCalls(ModifyDBClusterCommand).map((c) => c.args[0].input)).toEqual([
      { DBClusterIdentifier: 'orders-prod-moved', MasterUserPassword: value.password, ApplyImmediately: true },
    ]);
    // The secret was written before the password was set (a crash between them loses no password).
    expect(sm.commandCalls(CreateSecretCommand)[0]!.calledBefore(rds.commandCalls(ModifyDBClusterCommand)[0]!)).toBe(true);
    expect(out).toMatchObject({ done: false, attempts: 0, status: 'resetting-master-credentials', secretRef: SECRET_ARN, username: 'admin', clusterIdentifier: 'orders-prod-moved', createdSecret: true });
    // Only the reference travels.
    expect(JSON.stringify(out)).not.toContain(value.password);
  });

  it('on a retry reuses the stored password (nothing is created twice) and sets it again', async () => {
    const stored = { username: 'admin', password: 'Cm1-stored-password-0123456789ab' };
    sm.on(GetSecretValueCommand, { SecretId: SECRET_NAME }).resolves({ ARN: SECRET_ARN, Name: SECRET_NAME, SecretString: JSON.stringify(stored) });
    rds.on(ModifyDBClusterCommand).resolves({ DBCluster: targetCluster('resetting-master-credentials') });
    const out = await resetMasterPassword(state(), ctx);
    expect(sm.commandCalls(CreateSecretCommand)).toHaveLength(0);
    expect(rds.commandCalls(ModifyDBClusterCommand)[0]!.args[0].input.MasterUserPassword).toBe(stored.password);
    expect(out).toMatchObject({ secretRef: SECRET_ARN, createdSecret: false });
  });

  it('uses the value of a concurrent attempt that created the secret first (ResourceExistsException)', async () => {
    const stored = { username: 'admin', password: 'Cm1-concurrent-password-01234567' };
    sm.on(GetSecretValueCommand).rejectsOnce(notFound()).resolves({ ARN: SECRET_ARN, Name: SECRET_NAME, SecretString: JSON.stringify(stored) });
    sm.on(CreateSecretCommand).rejects(new ResourceExistsException({ message: `The operation failed because the secret ${SECRET_NAME} already exists.`, $metadata: { httpStatusCode: 400 } }));
    rds.on(ModifyDBClusterCommand).resolves({ DBCluster: targetCluster('resetting-master-credentials') });
    await resetMasterPassword(state(), ctx);
    expect(rds.commandCalls(ModifyDBClusterCommand)[0]!.args[0].input.MasterUserPassword).toBe(stored.password);
  });

  it('turns RDS management of the master password off on a clone that has it (not supported with binlog replication)', async () => {
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders-prod-moved' }).resolves({
      DBClusters: [targetCluster('available', { MasterUsername: 'admin', MasterUserSecret: { SecretArn: `arn:aws:secretsmanager:${REGION}:${TGT}:secret:rds!cluster-1a2b3c4d-AbCdEf`, SecretStatus: 'active', KmsKeyId: 'k' } })],
    });
    sm.on(GetSecretValueCommand).rejects(notFound());
    sm.on(CreateSecretCommand).resolves({ ARN: SECRET_ARN, Name: SECRET_NAME });
    rds.on(ModifyDBClusterCommand).resolves({ DBCluster: targetCluster('resetting-master-credentials') });
    await resetMasterPassword(state(), ctx);
    expect(rds.commandCalls(ModifyDBClusterCommand)[0]!.args[0].input).toMatchObject({ ManageMasterUserPassword: false, ApplyImmediately: true });
  });

  it('never touches a cluster without the migration tag, and retries a cluster that is busy (InvalidDBClusterStateFault)', async () => {
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders-prod-moved' }).resolves({ DBClusters: [targetCluster('available', { MasterUsername: 'admin', TagList: [] })] });
    expect((await errorOf(resetMasterPassword(state(), ctx))).name).toBe('ResourceConflictError');
    expect(rds.commandCalls(ModifyDBClusterCommand)).toHaveLength(0);
    expect(sm.calls()).toHaveLength(0);

    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders-prod-moved' }).resolves({ DBClusters: [targetCluster('modifying', { MasterUsername: 'admin' })] });
    sm.on(GetSecretValueCommand).resolves({ ARN: SECRET_ARN, SecretString: JSON.stringify({ username: 'admin', password: 'Cm1-stored-password-0123456789ab' }) });
    rds.on(ModifyDBClusterCommand).rejects(Object.assign(new Error('DB cluster is not available for modification with status modifying'), { name: 'InvalidDBClusterStateFault', $metadata: { httpStatusCode: 400 } }));
    const busy = await errorOf(resetMasterPassword(state(), ctx));
    expect(busy.name).toBe('TransientError');
    expect(busy.message).not.toContain('Cm1-stored-password-0123456789ab');
  });
});

describe('Check the master password', () => {
  const reset: TargetAdminReset = { done: false, attempts: 0, status: 'resetting-master-credentials', secretRef: SECRET_ARN, username: 'admin', clusterIdentifier: 'orders-prod-moved', createdSecret: true };

  it('is not done while the cluster shows the password pending, done once it is available without it', async () => {
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders-prod-moved' })
      .resolvesOnce({ DBClusters: [targetCluster('resetting-master-credentials', { MasterUsername: 'admin', PendingModifiedValues: { MasterUserPassword: '****' } })] })
      .resolvesOnce({ DBClusters: [targetCluster('available', { MasterUsername: 'admin', PendingModifiedValues: { MasterUserPassword: '****' } })] })
      .resolves({ DBClusters: [targetCluster('available', { MasterUsername: 'admin' })] });
    const first = await checkMasterPassword(state({ targetAdmin: reset }), ctx);
    expect(first).toMatchObject({ done: false, attempts: 1, status: 'pending', secretRef: SECRET_ARN });
    const second = await checkMasterPassword(state({ targetAdmin: first }), ctx);
    expect(second).toMatchObject({ done: false, attempts: 2, status: 'pending' });
    const third = await checkMasterPassword(state({ targetAdmin: second }), ctx);
    expect(third).toMatchObject({ done: true, attempts: 3, status: 'in-effect', secretRef: SECRET_ARN, createdSecret: true });
  });

  it('needs the reset first', async () => {
    expect((await errorOf(checkMasterPassword(state(), ctx))).message).toContain('"Reset the master password" must run before');
  });
});

describe('the target admin after the reset', () => {
  it('is the secret crossmove made, not target.adminSecret', async () => {
    sm.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ ARN: SECRET_ARN, SecretString: JSON.stringify({ username: 'admin', password: 'Cm1-stored-password-0123456789ab' }) });
    const s = state({ targetAdmin: { done: true, attempts: 2, status: 'in-effect', secretRef: SECRET_ARN, username: 'admin', clusterIdentifier: 'orders-prod-moved', createdSecret: true } });
    expect(await targetAdminCredentials(s)).toEqual({ username: 'admin', password: 'Cm1-stored-password-0123456789ab' });
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([SECRET_ARN]);
  });

  it('is required as target.adminSecret only for a logical copy', async () => {
    const { input } = crossAccountState({ target: { adminSecret: undefined } });
    expect((await errorOf(targetAdminCredentials({ input }))).message).toContain('"Reset the master password" sets it on the new cluster (secret crossmove/orders-2026-12/target-admin)');
  });
});
