// A re-run of a clone-path migration whose target took over (real MariaDB target, RDS and Secrets Manager
// in moto). The clone's only admin is the secret "Reset the master password" made for its master user,
// and a resumed run skips that step: "Read the cutover record on the target" finds the secret by its
// derived name, reads the record with it, and hands it on ($.targetAdmin) to the steps after the cutover.
// Without the secret the master password was never reset, so nothing after it can have run.
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { ADMIN_PASSWORD, ADMIN_USER, type MariaDbServer } from '../../local/mariadb.js';
import { handler as readCutoverRecord } from '../../handlers/read-cutover-record.js';
import { handler as cutOver } from '../../handlers/cut-over.js';
import { writeCutoverMarker } from '../../shared/mysql/switch-log.js';
import { validateMigrationInput } from '../../shared/input/validate.js';
import type { CutoverResult, MigrationState, PriorCutover } from '../../shared/state.js';
import { startMoto, type Moto } from '../support/moto.js';
import { auroraWriteBlock, createSourceCluster, REGION, type SourceFixture } from '../aws/fixtures.js';
import { invoke, startServers } from './fixtures.js';

const ID = 'resume-clone';
let moto: Moto;
let target: MariaDbServer;
let source: SourceFixture;

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = 'AKIAFAKEFAKEFAKEFAKE';
  process.env.AWS_SECRET_ACCESS_KEY = 'fake';
  process.env.AWS_REGION = REGION;
  [moto, [target]] = await Promise.all([startMoto(), startServers(1, 171)]);
}, 120_000);

afterAll(async () => {
  await Promise.all([target?.stop(), moto?.stop()]);
});

beforeEach(async () => {
  await moto.reset();
  source = await createSourceCluster({ region: REGION }, { name: 'orders-prod' });
});

/** What a re-run starts with: the validated input and nothing else (no $.targetAdmin). */
function rerunState(targetEndpoint: { host: string; port: number }): MigrationState {
  const input = validateMigrationInput({
    migrationId: ID,
    source: { clusterArn: source.clusterArn, adminSecret: source.adminSecretArn },
    // The clone's address as the record step would find it from the cluster (moto's is not a server).
    target: { endpoint: targetEndpoint, instanceClass: 'db.r6g.large' },
    initialLoad: { method: 'clone' },
    replication: { ssl: false },
    cutover: { approval: 'auto', ...auroraWriteBlock(source) },
  });
  return { input, accounts: { source: null, target: null, sameAccount: true, sourceRegion: REGION, targetRegion: REGION } };
}

it('no secret for the clone\'s master user: its password was never reset, nothing after it ran (the target is not even connected to)', async () => {
  // Nothing listens here: a connection attempt would fail the step.
  const record = await invoke<PriorCutover>(readCutoverRecord, rerunState({ host: '127.0.0.1', port: 1 }));
  expect(record).toMatchObject({ targetIsPrimary: false, phase: null, targetAdmin: null });
  expect(record.detail).toContain(`secret crossmove/${ID}/target-admin does not exist`);
});

it('the target took over: the record is read with crossmove\'s secret for the master user, which the resumed cutover then uses', async () => {
  // What "Reset the master password" left in the first run: crossmove's secret, holding the clone's admin.
  const secretArn = (
    await new SecretsManagerClient({ region: REGION }).send(
      new CreateSecretCommand({
        Name: `crossmove/${ID}/target-admin`,
        Description: `crossmove ${ID}: master user of cluster crossmove-${ID} (password set by crossmove)`,
        SecretString: JSON.stringify({ username: ADMIN_USER, password: ADMIN_PASSWORD }),
      }),
    )
  ).ARN!;
  const recorded: CutoverResult = {
    ok: true, rolledBack: false, writeBlockedMs: 20,
    finalSourcePosition: { file: 'mysql-bin-changelog.000003', position: 4711 },
    targetPositionAtSwitch: { file: 'mysql-bin.000001', position: 1234 },
    tablesVerified: 2, checksumsMatch: true, grantDifferences: [], steps: [],
  };
  const t = await target.connect();
  try {
    await writeCutoverMarker(t, 'crossmove', ID, { phase: 'done', result: recorded, blockState: null });
  } finally {
    await t.end();
  }

  const state = rerunState({ host: target.host, port: target.port });
  const record = await invoke<PriorCutover>(readCutoverRecord, state);
  expect(record).toMatchObject({ targetIsPrimary: true, phase: 'done', cutover: recorded, targetEndpoint: { host: target.host, port: target.port } });
  expect(record.targetAdmin).toMatchObject({ secretRef: secretArn, username: ADMIN_USER, clusterIdentifier: `crossmove-${ID}`, done: true });
  // The resumed run has no preflight: the record step found the source cluster's endpoint.
  expect(record.sourceEndpoint).toEqual({ host: source.endpoint, port: 3306 });
  // Only the reference travels.
  expect(JSON.stringify(record)).not.toContain(ADMIN_PASSWORD);

  // "Use the target admin found with the record", then "Resume after the cutover": the done marker's
  // result, read from the target with that admin (the source's moto address is no server).
  const resumed = { ...state, priorCutover: record, targetAdmin: record.targetAdmin };
  expect(await invoke<CutoverResult>(cutOver, resumed)).toEqual(recorded);
}, 60_000);
