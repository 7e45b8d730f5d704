// Configuration of the operations functions, read from the environment serverless.yml sets.
// Each value is read when first needed and a missing one fails with the variable's name, so a
// misconfigured stack answers "CROSSMOVE_APPROVAL_TABLE is not set" instead of an SDK error.
function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (serverless.yml sets it for every operations function)`);
  return value;
}

export const operationsConfig = {
  stateMachineArn: () => required('CROSSMOVE_STATE_MACHINE_ARN'),
  approvalTable: () => required('CROSSMOVE_APPROVAL_TABLE'),
  topicArn: () => process.env.CROSSMOVE_TOPIC_ARN || null,
  apiUrl: () => process.env.CROSSMOVE_API_URL?.replace(/\/$/, '') || null,
  lagAlertMinutes: () => Number(process.env.CROSSMOVE_LAG_ALERT_MINUTES ?? '5') || 5,
  metricsNamespace: () => process.env.CROSSMOVE_METRICS_NAMESPACE || 'Crossmove',
};
