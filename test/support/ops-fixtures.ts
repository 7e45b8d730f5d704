// Fixtures of the operations tests: a valid migration input and a state machine shaped like the
// migration where the API looks (state names of statemachine/migration.asl.yaml), run by moto.

export const TABLE = 'crossmove-approvals-test';

export function migrationInput(migrationId: string): Record<string, unknown> {
  return {
    migrationId,
    source: { endpoint: { host: '127.0.0.1', port: 3306 }, adminSecret: 'env:CROSSMOVE_SOURCE_ADMIN' },
    target: { endpoint: { host: '127.0.0.1', port: 3307 }, adminSecret: 'env:CROSSMOVE_TARGET_ADMIN' },
    initialLoad: { method: 'logical' },
    replication: { ssl: false },
  };
}

// The gate stores its token with the same item layout as ApprovalTable.put, standing in for requestApproval.
export function gateMachine(expiresAt = '2099-01-01T00:00:00.000Z', timeoutSeconds = 300) {
  return {
    StartAt: 'Validate the input',
    States: {
      'Validate the input': { Type: 'Pass', Parameters: { 'input.$': '$' }, Next: 'Keep the last lag check' },
      'Keep the last lag check': {
        Type: 'Pass',
        Result: { heartbeatLagMs: 120, byteLag: 0, secondsBehind: 0, ioRunning: true, sqlRunning: true, healthy: true, underLimit: true, caughtUp: true, consecutiveUnderLimit: 3, checkedAt: '2026-11-24T09:00:00.000Z', attempts: 7 },
        ResultPath: '$.lag',
        Next: 'Ask for cutover approval',
      },
      'Ask for cutover approval': {
        Type: 'Task',
        Resource: 'arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken',
        Parameters: {
          TableName: TABLE,
          Item: {
            migrationId: { 'S.$': '$.input.migrationId' },
            taskToken: { 'S.$': '$$.Task.Token' },
            executionName: { 'S.$': '$$.Execution.Name' },
            requestedAt: { 'S.$': '$$.State.EnteredTime' },
            expiresAt: { S: expiresAt },
            status: { S: 'pending' },
          },
        },
        TimeoutSeconds: timeoutSeconds,
        ResultPath: '$.approval',
        Catch: [{ ErrorEquals: ['ApprovalRejected', 'States.Timeout'], ResultPath: '$.approvalFailure', Next: 'Approval not given' }],
        Next: 'Cut over',
      },
      'Cut over': { Type: 'Pass', Result: { ok: true }, ResultPath: '$.cutover', Next: 'Migration complete' },
      'Migration complete': { Type: 'Succeed' },
      'Approval not given': { Type: 'Fail', ErrorPath: '$.approvalFailure.Error', CausePath: '$.approvalFailure.Cause' },
    },
  };
}
