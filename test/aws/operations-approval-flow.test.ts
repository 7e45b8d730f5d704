// The whole migration state machine (statemachine/migration.asl.yaml, run locally) with the approval
// given through the approve/reject API handlers: the real "Ask for cutover approval" handler stores
// the token in the approval table (moto DynamoDB), the handler finds it by migration id and answers
// with SendTaskSuccess/SendTaskFailure. Step Functions' side of the token is a small stand-in that
// hands the answer to the local runner, as the service would; the test never touches a token.
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as approve } from '../../handlers/api-approve.js';
import { handler as reject } from '../../handlers/api-reject.js';
import { runStateMachineLocally, type ApprovalDecision } from '../../local/run-state-machine.js';
import { setApprovalStore } from '../../shared/approval/current.js';
import { ApprovalTable } from '../../shared/approval/table.js';
import { setDynamoClient } from '../../shared/aws/dynamodb.js';
import { setSfnClient } from '../../shared/aws/sfn.js';
import { CROSS_ACCOUNT_CLONE_INPUT, stubHandlers } from '../statemachine/stubs.js';
import { apiContext, apiEvent, CALLER_ARN } from '../support/api-event.js';
import { startMoto, type MotoServer } from '../support/moto-ops.js';
import { TABLE } from '../support/ops-fixtures.js';
import { handlerRegistry } from '../../handlers/index.js';
import { SendRecorder } from '../support/iam/send-recorder.js';
import { packagedRoles, stackSimulation, type PackagedRoles } from '../support/iam/roles.js';
import { deniedCalls } from '../support/iam/simulate.js';

let moto: MotoServer;
let table: ApprovalTable;
const sfnInstance = new SFNClient({ region: 'us-east-1' });
const sfn = mockClient(sfnInstance);
// Step Functions' side of task tokens: the runner's gate waits here until the API answers.
const waiting = new Map<string, (d: ApprovalDecision) => void>();
// The real requestApproval's calls (moto DynamoDB) are recorded for the simulation of its packaged role.
const recorder = new SendRecorder({ dynamodb: DynamoDBClient }, () => '123456789012');
let packaged: PackagedRoles;

beforeAll(async () => {
  [moto, packaged] = await Promise.all([startMoto(), packagedRoles('123456789012')]);
  recorder.install();
  const load = handlerRegistry.requestApproval.load;
  handlerRegistry.requestApproval.load = async () => {
    const real = (await load()).handler;
    return { handler: (event, ctx) => recorder.as('requestApproval', () => real(event, ctx)) };
  };
  const ddb = new DynamoDBClient(moto.clientConfig());
  setDynamoClient(ddb);
  setSfnClient(sfnInstance);
  await ddb.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'migrationId', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'migrationId', AttributeType: 'S' }],
    }),
  );
  process.env.CROSSMOVE_APPROVAL_TABLE = TABLE;
  process.env.CROSSMOVE_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:crossmove-migration-local';
  // What serverless.yml sets on AWS: the gate uses the DynamoDB store.
  process.env.CROSSMOVE_APPROVAL_STORE = 'dynamodb';
  table = new ApprovalTable(TABLE);
  setApprovalStore(table);
}, 330_000);

afterAll(async () => {
  recorder.uninstall();
  delete process.env.CROSSMOVE_APPROVAL_STORE;
  setApprovalStore(undefined);
  setDynamoClient(undefined);
  setSfnClient(undefined);
  sfn.restore();
  await moto?.stop();
});

beforeEach(() => {
  sfn.reset();
  sfn.on(SendTaskSuccessCommand).callsFake(({ taskToken, output }) => {
    const answer = waiting.get(taskToken);
    if (!answer) throw Object.assign(new Error('Invalid Token'), { name: 'InvalidToken' });
    waiting.delete(taskToken);
    const result = JSON.parse(output);
    answer({ approved: true, by: result.by, reason: result.reason });
    return {};
  });
  sfn.on(SendTaskFailureCommand).callsFake(({ taskToken, error, cause }) => {
    const answer = waiting.get(taskToken);
    if (!answer) throw Object.assign(new Error('Invalid Token'), { name: 'InvalidToken' });
    waiting.delete(taskToken);
    expect(error).toBe('ApprovalRejected');
    answer({ approved: false, reason: cause });
    return {};
  });
});

/** Runs the migration; once the gate's request is in the table, `answer` is called with the migration id only. */
async function migrateAnswering(migrationId: string, answer: (id: string) => Promise<{ statusCode: number; body: string }>) {
  const { handlers } = stubHandlers();
  delete handlers.requestApproval; // the real one: it puts the request into the approval table
  const input = { ...CROSS_ACCOUNT_CLONE_INPUT, migrationId };
  let apiAnswer: { statusCode: number; body: string } | undefined;
  const result = await runStateMachineLocally({
    input,
    handlers,
    waitMs: 0,
    retryMs: 0,
    approve: (request) =>
      new Promise<ApprovalDecision>((resolve, rejectGate) => {
        waiting.set(request.taskToken, resolve);
        // The person: sees the request (notification / status) and answers by migration id.
        (async () => {
          const stored = await table.get(migrationId);
          expect(stored?.taskToken).toBe(request.taskToken);
          apiAnswer = await answer(migrationId);
        })().catch(rejectGate);
      }),
  });
  return { result, apiAnswer: apiAnswer! };
}

describe('approval through the API during a (local) state machine run', () => {
  it('approve: the gate resolves with the approver from the signed request and the migration completes', async () => {
    const { result, apiAnswer } = await migrateAnswering('orders-50', (id) =>
      approve(apiEvent('POST /migrations/{migrationId}/approve', { migrationId: id, body: { reason: 'window agreed' } }), apiContext()),
    );
    expect(apiAnswer.statusCode).toBe(200);
    expect(result.status).toBe('SUCCEEDED');
    expect((result.output as any).approval).toMatchObject({ approved: true, by: CALLER_ARN, reason: 'window agreed' });
    expect(await table.record('orders-50')).toMatchObject({ status: 'approved', answeredBy: CALLER_ARN });
    const again = await approve(apiEvent('POST /migrations/{migrationId}/approve', { migrationId: 'orders-50' }), apiContext());
    expect(again.statusCode).toBe(409);
  });

  it('reject: the execution ends as "approval not given" with the reason', async () => {
    const { result, apiAnswer } = await migrateAnswering('orders-51', (id) =>
      reject(apiEvent('POST /migrations/{migrationId}/reject', { migrationId: id, body: { reason: 'freeze until Monday' } }), apiContext()),
    );
    expect(apiAnswer.statusCode).toBe(200);
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('ApprovalRejected');
    expect(result.cause).toContain('freeze until Monday');
    expect(await table.record('orders-51')).toMatchObject({ status: 'rejected', reason: 'freeze until Monday' });
  });

  it('the gate’s calls (the token into the approval table) are allowed by the packaged requestApproval role', async () => {
    const calls = await recorder.recorded();
    expect(calls.map((c) => `${c.service}:${c.operation}`)).toContain('dynamodb:UpdateItem');
    expect(await deniedCalls(calls, stackSimulation(packaged))).toEqual([]);
  });
});
