// The approval gate on a terminal: what the person needs to decide (lag, health, what the cutover
// will do), then yes or no. Reads one line from stdin, so it also works when the answer is piped.
import { createInterface } from 'node:readline/promises';
import pc from 'picocolors';
import type { ApprovalRequest } from '../shared/approval/request.js';
import type { ApprovalDecision } from '../local/run-state-machine.js';
import { redact } from '../shared/redact.js';

function describeRequest(request: ApprovalRequest): string {
  const l = request.lag;
  const lag = l
    ? `lag ${l.heartbeatLagMs ?? '?'} ms (heartbeat), byte lag ${l.byteLag ?? '?'}, Seconds_Behind ${l.secondsBehind ?? '?'}; replication ${l.healthy ? 'healthy' : 'BROKEN'}${l.caughtUp ? ', caught up' : ''}`
    : 'no lag figures';
  return redact(
    [
      pc.bold(`Cutover approval for ${request.migrationId}`),
      `  ${lag}`,
      ...(request.verification
        ? request.verification.summary.split('\n').map((line, i) => (i === 0 ? `  ${request.verification!.verdict === 'clean' ? pc.green(line) : pc.red(line)}` : `  ${line}`))
        : []),
      '  The cutover will:',
      ...request.plan.map((step, i) => `    ${i + 1}. ${step}`),
      `  The gate waits until ${request.expiresAt}.`,
    ].join('\n'),
  );
}

export async function askApproval(request: ApprovalRequest, io: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream }, signal: AbortSignal): Promise<ApprovalDecision> {
  io.output.write(`${describeRequest(request)}\n`);
  const rl = createInterface({ input: io.input, output: io.output, terminal: false });
  try {
    const closed = new Promise<null>((resolve) => rl.once('close', () => resolve(null)));
    const answer = await Promise.race([rl.question('Cut over now? [y/N] ', { signal }), closed]);
    const yes = /^\s*y(es)?\s*$/i.test(answer ?? '');
    io.output.write(yes ? 'approved\n' : 'rejected\n');
    return yes ? { approved: true, by: 'cli' } : { approved: false, by: 'cli', reason: answer === null ? 'no answer (input closed)' : 'rejected at the prompt' };
  } finally {
    rl.close();
  }
}
