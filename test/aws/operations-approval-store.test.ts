// The approval table as the gate's ApprovalStore: the state machine's "Ask for cutover approval"
// handler (handlers/request-approval.ts) puts the request, the approve/reject handlers find the token
// by migration id. DynamoDB is moto; Step Functions is a mock (the token is a made-up one, so only the
// exact SendTaskSuccess parameters can be checked here; test/aws/operations-api.test.ts resolves real
// tokens of running executions).
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, ListExecutionsCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as approve } from '../../handlers/api-approve.js';
import { handler as requestApproval } from '../../handlers/request-approval.js';
import { handler as status } from '../../handlers/api-status.js';
import { setApprovalStore } from '../../shared/approval/current.js';
import { localLambdaContext } from '../../shared/handler.js';
import { validateMigrationInput } from '../../shared/input/validate.js';
import { ApprovalTable } from '../../shared/approval/table.js';
import { setDynamoClient } from '../../shared/aws/dynamodb.js';
import { setSfnClient } from '../../shared/aws/sfn.js';
import type { MigrationState } from '../../shared/state.js';
import { apiContext, apiEvent, CALLER_ARN } from '../support/api-event.js';
import { startMoto, type MotoServer } from '../support/moto-ops.js';
import { migrationInput, TABLE } from '../support/ops-fixtures.js';

const SM = 'arn:aws:states:us-east-1:123456789012:stateMachine:crossmove-migration-test';
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAQ-token-of-orders-30';
let moto: MotoServer;
let ddb: DynamoDBClient;
const sfnInstance = new SFNClient({ region: 'us-east-1' });
const sfn = mockClient(sfnInstance);

beforeAll(async () => {
  moto = await startMoto();
  ddb = new DynamoDBClient(moto.clientConfig());
  setDynamoClient(ddb);
  setSfnClient(sfnInstance);
  process.env.CROSSMOVE_APPROVAL_TABLE = TABLE;
  process.env.CROSSMOVE_STATE_MACHINE_ARN = SM;
  await ddb.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'migrationId', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'migrationId', AttributeType: 'S' }],
    }),
  );
  setApprovalStore(new ApprovalTable(TABLE));
});

afterAll(async () => {
  setApprovalStore(undefined);
  setDynamoClient(undefined);
  setSfnClient(undefined);
  sfn.restore();
  await moto?.stop();
});

describe('approval request -> table -> approve', () => {
  it('the token the gate received is the one SendTaskSuccess sends; the table never shows it to callers', async () => {
    const input = validateMigrationInput(migrationInput('orders-30'));
    const state: MigrationState = {
      input,
      accounts: { source: null, target: null, sameAccount: true, sourceRegion: null, targetRegion: null },
      lag: { heartbeatLagMs: 80, byteLag: 0, secondsBehind: 0, ioRunning: true, sqlRunning: true, healthy: true, underLimit: true, consecutiveUnderLimit: 3, caughtUp: true, checkedAt: '2026-11-24T09:00:00.000Z', attempts: 4 },
    };
    await requestApproval({ taskToken: TOKEN, state } as never, localLambdaContext('requestApproval'));

    const item = (await ddb.send(new GetItemCommand({ TableName: TABLE, Key: { migrationId: { S: 'orders-30' } } }))).Item!;
    expect(item.status!.S).toBe('pending');
    expect(JSON.parse(item.details!.S!)).toMatchObject({ lag: { heartbeatLagMs: 80 }, commands: { approve: 'crossmove approve orders-30' } });

    sfn.on(ListExecutionsCommand).resolves({
      executions: [{ executionArn: `${SM.replace(':stateMachine:', ':execution:')}:orders-30`, stateMachineArn: SM, name: 'orders-30', status: 'RUNNING', startDate: new Date() }],
    });
    sfn.on(SendTaskSuccessCommand).resolves({});
    const answer = await approve(apiEvent('POST /migrations/{migrationId}/approve', { migrationId: 'orders-30', body: { reason: 'lag 80 ms, window agreed' } }), apiContext());
    expect(answer.statusCode).toBe(200);
    expect(answer.body).not.toContain(TOKEN);
    const sent = sfn.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input;
    expect(sent.taskToken).toBe(TOKEN);
    expect(JSON.parse(sent.output!)).toMatchObject({ approved: true, by: CALLER_ARN, reason: 'lag 80 ms, window agreed' });

    // The store now answers "nothing waits" to the gate's own interface.
    expect(await new ApprovalTable(TABLE).get('orders-30')).toBeNull();
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: 'x', stateMachineArn: SM, status: 'RUNNING', startDate: new Date() });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
    const st = await status(apiEvent('GET /migrations/{migrationId}', { migrationId: 'orders-30' }), apiContext());
    expect(st.statusCode).toBe(200);
    expect(JSON.parse(st.body).approval).toMatchObject({ status: 'approved', answeredBy: CALLER_ARN, reason: 'lag 80 ms, window agreed' });
    expect(st.body).not.toContain(TOKEN);
  });
});
