// The operations API handlers against moto, with state machines that really run (moto's executor):
// start / status / list / approve / reject, the token travelling gate -> table -> approve handler ->
// SendTaskSuccess/SendTaskFailure without the test touching it, and the 4xx answers.
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as approve } from '../../handlers/api-approve.js';
import { handler as list } from '../../handlers/api-list.js';
import { handler as reject } from '../../handlers/api-reject.js';
import { handler as start } from '../../handlers/api-start.js';
import { handler as status } from '../../handlers/api-status.js';
import { setDynamoClient } from '../../shared/aws/dynamodb.js';
import { setSfnClient } from '../../shared/aws/sfn.js';
import { apiContext, apiEvent, CALLER_ARN } from '../support/api-event.js';
import { startMoto, type MotoServer } from '../support/moto-ops.js';
import { gateMachine, migrationInput, TABLE } from '../support/ops-fixtures.js';
import { SendRecorder } from '../support/iam/send-recorder.js';
import { packagedRoles } from '../support/iam/roles.js';
import { allowedMutants, deniedCalls, type SimulationSetup } from '../support/iam/simulate.js';
import { unintended } from '../support/iam/breadth.js';

let moto: MotoServer;
let sfn: SFNClient;
let ddb: DynamoDBClient;
let stateMachineArn: string;

async function createGateMachine(definition: object = gateMachine(), name = 'crossmove-migration-test'): Promise<string> {
  const out = await sfn.send(
    new CreateStateMachineCommand({ name, definition: JSON.stringify(definition), roleArn: 'arn:aws:iam::123456789012:role/sfn' }),
  );
  process.env.CROSSMOVE_STATE_MACHINE_ARN = out.stateMachineArn!;
  return out.stateMachineArn!;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, tries = 100): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const waitingToken = (migrationId: string) =>
  until(`the gate of ${migrationId}`, async () => {
    const item = (await ddb.send(new GetItemCommand({ TableName: TABLE, Key: { migrationId: { S: migrationId } } }))).Item;
    return item?.taskToken?.S ? item.taskToken.S : undefined;
  });

const finished = (executionArn: string) =>
  until(`execution ${executionArn} to end`, async () => {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return d.status === 'RUNNING' ? undefined : d;
  });

const body = (r: { body: string }) => JSON.parse(r.body);

beforeAll(async () => {
  moto = await startMoto({ executeStateMachines: true });
  sfn = new SFNClient(moto.clientConfig());
  ddb = new DynamoDBClient(moto.clientConfig());
  setSfnClient(sfn);
  setDynamoClient(ddb);
  process.env.CROSSMOVE_APPROVAL_TABLE = TABLE;
});

afterAll(async () => {
  setSfnClient(undefined);
  setDynamoClient(undefined);
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  await ddb.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'migrationId', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'migrationId', AttributeType: 'S' }],
    }),
  );
  stateMachineArn = await createGateMachine();
});

describe('start', () => {
  it('validates, starts the execution named after the migration, and refuses a second start while it runs', async () => {
    const first = await start(apiEvent('POST /migrations', { body: migrationInput('orders-1') }), apiContext());
    expect(first.statusCode).toBe(202);
    expect(body(first)).toMatchObject({ migrationId: 'orders-1', executionName: 'orders-1', run: 1, status: '/migrations/orders-1' });
    expect(body(first).executionArn).toBe(stateMachineArn.replace(':stateMachine:', ':execution:') + ':orders-1');
    await waitingToken('orders-1');

    const second = await start(apiEvent('POST /migrations', { body: migrationInput('orders-1') }), apiContext());
    expect(second.statusCode).toBe(409);
    expect(body(second)).toEqual({
      error: 'MigrationAlreadyRunningError',
      message: expect.stringMatching(/^Migration orders-1 is already running \(execution orders-1, started .*\); nothing was started/),
    });
  });

  it('answers a malformed input with 400 naming every offending field, and a non-JSON body with 400', async () => {
    const bad = await start(apiEvent('POST /migrations', { body: { migrationId: 'Bad_Id', source: {}, target: { adminSecret: 'plain' } } }), apiContext());
    expect(bad.statusCode).toBe(400);
    const answer = body(bad);
    expect(answer.error).toBe('InputValidationError');
    expect(answer.issues.map((i: { field: string }) => i.field)).toEqual(expect.arrayContaining(['migrationId', 'source.adminSecret', 'target.adminSecret']));

    const notJson = await start(apiEvent('POST /migrations', { rawBody: '{"migrationId": "x",' }), apiContext());
    expect(notJson.statusCode).toBe(400);
    expect(body(notJson)).toMatchObject({ error: 'BadRequestError', message: expect.stringContaining('not valid JSON') });
    const empty = await start(apiEvent('POST /migrations'), apiContext());
    expect(body(empty)).toMatchObject({ error: 'BadRequestError', message: 'The request needs a JSON body' });
  });
  // The next run's name (<id>--r2) is asserted with aws-sdk-client-mock (test/unit/operations-sdk.test.ts):
  // moto 5.2.1 fails a second StartExecution in one account (cannot pickle RLock).
});

describe('approve through the token store', () => {
  it('resolves the gate with SendTaskSuccess: the execution cuts over and succeeds; status tells the story', async () => {
    const started = body(await start(apiEvent('POST /migrations', { body: migrationInput('orders-3') }), apiContext()));
    await waitingToken('orders-3');

    const waiting = body(await status(apiEvent('GET /migrations/{migrationId}', { migrationId: 'orders-3' }), apiContext()));
    expect(waiting).toMatchObject({
      migrationId: 'orders-3',
      executionStatus: 'RUNNING',
      phase: 'awaiting-approval',
      currentState: 'Ask for cutover approval',
      lag: { heartbeatLagMs: 120, byteLag: 0, caughtUp: true },
      replication: { health: 'running', ioRunning: true, sqlRunning: true },
      approval: { status: 'pending' },
    });
    expect(waiting.waitingForApprovalSince).toEqual(expect.any(String));
    expect(JSON.stringify(waiting)).not.toMatch(/taskToken/i);

    const approved = await approve(apiEvent('POST /migrations/{migrationId}/approve', { migrationId: 'orders-3' }), apiContext());
    expect(approved.statusCode).toBe(200);
    expect(body(approved)).toMatchObject({ migrationId: 'orders-3', decision: 'approved', by: CALLER_ARN });

    const done = await finished(started.executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!).approval).toMatchObject({ approved: true, by: CALLER_ARN });

    const after = body(await status(apiEvent('GET /migrations/{migrationId}', { migrationId: 'orders-3' }), apiContext()));
    expect(after.phase).toBe('succeeded');
    expect(after.phases.map((p: { phase: string }) => p.phase)).toEqual(['validating', 'replicating', 'awaiting-approval', 'cutting-over', 'succeeded']);
    expect(after.approval).toMatchObject({ status: 'approved', answeredBy: CALLER_ARN });
    expect(after.waitingForApprovalSince).toBeNull();

    const twice = await approve(apiEvent('POST /migrations/{migrationId}/approve', { migrationId: 'orders-3' }), apiContext());
    expect(twice.statusCode).toBe(409);
    expect(body(twice)).toMatchObject({ error: 'ApprovalAlreadyAnsweredError', message: expect.stringContaining(`already approved by ${CALLER_ARN}`) });
  });

  it('rejects with SendTaskFailure(ApprovalRejected, reason); a reason is required; reject twice is 409', async () => {
    const started = body(await start(apiEvent('POST /migrations', { body: migrationInput('orders-4') }), apiContext()));
    await waitingToken('orders-4');

    const noReason = await reject(apiEvent('POST /migrations/{migrationId}/reject', { migrationId: 'orders-4', body: {} }), apiContext());
    expect(noReason.statusCode).toBe(400);
    expect(body(noReason).message).toContain('needs a reason');

    const rejected = await reject(
      apiEvent('POST /migrations/{migrationId}/reject', { migrationId: 'orders-4', body: { reason: 'month-end batch running' } }),
      apiContext(),
    );
    expect(rejected.statusCode).toBe(200);
    const done = await finished(started.executionArn);
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('ApprovalRejected');
    // moto 5.2.1 drops SendTaskFailure's cause; its exact value is asserted in test/unit/operations-sdk.test.ts.

    const twice = await reject(
      apiEvent('POST /migrations/{migrationId}/reject', { migrationId: 'orders-4', body: { reason: 'again' } }),
      apiContext(),
    );
    expect(twice.statusCode).toBe(409);
    expect(body(twice)).toMatchObject({ error: 'ApprovalAlreadyAnsweredError', message: expect.stringContaining('already rejected') });

    const st = body(await status(apiEvent('GET /migrations/{migrationId}', { migrationId: 'orders-4' }), apiContext()));
    expect(st).toMatchObject({ phase: 'failed', failure: { error: 'ApprovalRejected' }, approval: { status: 'rejected', reason: 'month-end batch running' } });
  });

  it('answers 410 when Step Functions no longer waits on the stored token (the gate timed out), and remembers it as expired', async () => {
    stateMachineArn = await createGateMachine(gateMachine(undefined, 1), 'crossmove-migration-short');
    const started = body(await start(apiEvent('POST /migrations', { body: migrationInput('orders-5') }), apiContext()));
    await waitingToken('orders-5');
    // moto names the gate's timeout States.Runtime (AWS: States.Timeout); either way the run ended.
    expect((await finished(started.executionArn)).status).toBe('FAILED');

    const late = await approve(apiEvent('POST /migrations/{migrationId}/approve', { migrationId: 'orders-5' }), apiContext());
    expect(late.statusCode).toBe(410);
    expect(body(late)).toMatchObject({ error: 'ApprovalExpiredError', message: expect.stringMatching(/no longer waits on this request \((InvalidToken|TaskTimedOut)\)/) });
    const item = (await ddb.send(new GetItemCommand({ TableName: TABLE, Key: { migrationId: { S: 'orders-5' } } }))).Item!;
    expect(item.status!.S).toBe('expired');
    const again = await approve(apiEvent('POST /migrations/{migrationId}/approve', { migrationId: 'orders-5' }), apiContext());
    expect(again.statusCode).toBe(410);
  });

  it('answers 410 without calling Step Functions when the request is past its expiry', async () => {
    stateMachineArn = await createGateMachine(gateMachine('2020-01-01T00:00:00.000Z'), 'crossmove-migration-expired');
    const started = body(await start(apiEvent('POST /migrations', { body: migrationInput('orders-6') }), apiContext()));
    await waitingToken('orders-6');
    const late = await approve(apiEvent('POST /migrations/{migrationId}/approve', { migrationId: 'orders-6' }), apiContext());
    expect(late.statusCode).toBe(410);
    expect(body(late).message).toContain('expired at 2020-01-01T00:00:00.000Z');
    // The gate still waits: nothing was sent.
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }))).status).toBe('RUNNING');
  });
});

describe('bad requests', () => {
  it('unknown migration: 404 on status and approve', async () => {
    const st = await status(apiEvent('GET /migrations/{migrationId}', { migrationId: 'nope' }), apiContext());
    expect(st.statusCode).toBe(404);
    expect(body(st)).toEqual({ error: 'MigrationNotFoundError', message: expect.stringContaining('No migration "nope" was started on this stack') });
    const ap = await approve(apiEvent('POST /migrations/{migrationId}/approve', { migrationId: 'nope' }), apiContext());
    expect(ap.statusCode).toBe(404);
  });

  it('approve when nothing waits: 409 naming the run', async () => {
    // A run that never reaches the gate (waits before it).
    const early = { StartAt: 'Plan the copy', States: { 'Plan the copy': { Type: 'Wait', Seconds: 300, End: true } } };
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: await createGateMachine(early, 'crossmove-migration-early'),
        name: 'orders-7',
        input: JSON.stringify(migrationInput('orders-7')),
      }),
    );
    const ap = await approve(apiEvent('POST /migrations/{migrationId}/approve', { migrationId: 'orders-7' }), apiContext());
    expect(ap.statusCode).toBe(409);
    expect(body(ap)).toMatchObject({ error: 'NothingToApproveError', message: expect.stringContaining('run orders-7 (RUNNING) has not asked for one') });
    const st = body(await status(apiEvent('GET /migrations/{migrationId}', { migrationId: 'orders-7' }), apiContext()));
    expect(st).toMatchObject({ phase: 'initial-load', currentState: 'Plan the copy', approval: null, waitingForApprovalSince: null });
  });

  it('bad path ids and bodies are 400s; nothing internal leaks from a 500', async () => {
    const badId = await status(apiEvent('GET /migrations/{migrationId}', { migrationId: 'DROP TABLE' }), apiContext());
    expect(badId.statusCode).toBe(400);
    const arrayBody = await approve(apiEvent('POST /migrations/{migrationId}/approve', { migrationId: 'x', body: [1] }), apiContext());
    expect(body(arrayBody)).toMatchObject({ error: 'BadRequestError', message: expect.stringContaining('JSON object') });
    const badFilter = await list(apiEvent('GET /migrations', { query: { status: 'weird' } }), apiContext());
    expect(badFilter.statusCode).toBe(400);

    // A misconfigured stack: the answer names only the request id; the details go to the logs.
    delete process.env.CROSSMOVE_STATE_MACHINE_ARN;
    const broken = await list(apiEvent('GET /migrations'), apiContext());
    expect(broken.statusCode).toBe(500);
    expect(body(broken)).toEqual({ error: 'InternalError', message: expect.stringContaining('request id'), requestId: expect.any(String) });
    expect(broken.body).not.toMatch(/CROSSMOVE_|stack|at .*\.ts/);
  });

  it('a record for a token the gate wrote lists as pending; list shows the latest run of each migration', async () => {
    await start(apiEvent('POST /migrations', { body: migrationInput('orders-8') }), apiContext());
    await waitingToken('orders-8');
    await ddb.send(new PutItemCommand({ TableName: TABLE, Item: { migrationId: { S: 'unrelated' }, watch: { S: '{}' } } }));
    const all = body(await list(apiEvent('GET /migrations'), apiContext()));
    expect(all.migrations).toEqual([expect.objectContaining({ migrationId: 'orders-8', executionName: 'orders-8', status: 'RUNNING', run: 1 })]);
    const running = body(await list(apiEvent('GET /migrations', { query: { status: 'running' } }), apiContext()));
    expect(running.migrations).toHaveLength(1);
    const none = body(await list(apiEvent('GET /migrations', { query: { status: 'SUCCEEDED' } }), apiContext()));
    expect(none.migrations).toEqual([]);
  });
});

// moto enforces no IAM: the routes' calls are recorded (real clients against moto, attributed to the
// function that sent them) and evaluated against the packaged roles of the API functions. moto's
// account is 123456789012; the stack is simulated as deployed there.
describe('the API routes under their packaged roles (IAM simulated)', () => {
  const MOTO_ACCOUNT = '123456789012';
  const recorder = new SendRecorder({ states: SFNClient, dynamodb: DynamoDBClient }, () => MOTO_ACCOUNT);
  const as = <E, C, R>(key: string, h: (e: E, c: C) => Promise<R>) => (e: E, c: C) => recorder.as(key, () => h(e, c));
  let setup: SimulationSetup;

  beforeAll(async () => {
    const packaged = await packagedRoles(MOTO_ACCOUNT);
    setup = { principalFor: (call) => packaged.functionRole(call.caller) };
    recorder.install();
  }, 330_000);
  afterAll(() => recorder.uninstall());
  beforeEach(() => recorder.clear());

  it('start, list, status, approve: every call Allowed (SendTaskSuccess on "*": it has no resource type), a wrong resource Denied', async () => {
    await as('apiStart', start)(apiEvent('POST /migrations', { body: migrationInput('orders-iam-1') }), apiContext());
    await waitingToken('orders-iam-1');
    await as('apiList', list)(apiEvent('GET /migrations'), apiContext());
    await as('apiStatus', status)(apiEvent('GET /migrations/{migrationId}', { migrationId: 'orders-iam-1' }), apiContext());
    expect((await as('apiApprove', approve)(apiEvent('POST /migrations/{migrationId}/approve', { migrationId: 'orders-iam-1' }), apiContext())).statusCode).toBe(200);
    const calls = await recorder.recorded();
    expect(calls.map((c) => `${c.caller} ${c.service}:${c.operation}`)).toEqual(expect.arrayContaining(['apiStart states:StartExecution', 'apiApprove states:SendTaskSuccess', 'apiStatus dynamodb:GetItem']));
    expect(await deniedCalls(calls, setup)).toEqual([]);
    expect(unintended(await allowedMutants(calls, setup))).toEqual([]);
  });

  it('reject: SendTaskFailure Allowed', async () => {
    await as('apiStart', start)(apiEvent('POST /migrations', { body: migrationInput('orders-iam-2') }), apiContext());
    await waitingToken('orders-iam-2');
    const rejected = await as('apiReject', reject)(apiEvent('POST /migrations/{migrationId}/reject', { migrationId: 'orders-iam-2', body: { reason: 'not tonight' } }), apiContext());
    expect(rejected.statusCode).toBe(200);
    const calls = await recorder.recorded();
    expect(calls.map((c) => `${c.caller} ${c.service}:${c.operation}`)).toContain('apiReject states:SendTaskFailure');
    expect(await deniedCalls(calls, setup)).toEqual([]);
  });
});
