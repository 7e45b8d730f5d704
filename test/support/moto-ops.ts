// The operations tests' own moto server: one per test file on a free loopback port, reset between
// tests (moto 5.2.1 can fail a second StartExecution in one account otherwise), killed on teardown.
// A missing moto fails the suite loudly: it never skips.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface MotoServer {
  endpoint: string;
  port: number;
  /** Clears every account and region; re-applies the config (state machines really execute). */
  reset(): Promise<void>;
  stop(): Promise<void>;
  /** Client options for SDK v3 clients: endpoint, region, fake credentials. */
  clientConfig(): { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function startMoto(options: { executeStateMachines?: boolean } = {}): Promise<MotoServer> {
  const check = spawnSync('python3', ['-c', 'import moto, flask'], { encoding: 'utf8' });
  if (check.status !== 0) {
    throw new Error(`moto is missing (python3 -c 'import moto, flask' failed: ${check.stderr.trim()}). Install moto[server] 5.2.1.`);
  }
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr = (stderr + String(d)).slice(-4000)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto server exited (${child.exitCode}): ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.status < 500) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto server did not answer on ${endpoint} within 30 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const configure = async () => {
    if (!options.executeStateMachines) return;
    const res = await fetch(`${endpoint}/moto-api/config`, {
      method: 'POST',
      body: JSON.stringify({ stepfunctions: { execute_state_machine: true } }),
    });
    if (!res.ok) throw new Error(`moto config failed: ${res.status}`);
  };
  await configure();
  return {
    endpoint,
    port,
    async reset() {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
      await configure();
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
    clientConfig() {
      return { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
    },
  };
}

/**
 * A call of moto's SQS (JSON protocol) without an SQS client (none is installed): enough to create a
 * queue subscribed to an SNS topic and read what was published.
 */
export async function motoSqs(moto: MotoServer, action: string, payload: object): Promise<any> {
  const res = await fetch(moto.endpoint, {
    method: 'POST',
    headers: {
      'X-Amz-Target': `AmazonSQS.${action}`,
      'Content-Type': 'application/x-amz-json-1.0',
      // moto routes a request to a service by the credential scope.
      Authorization: 'AWS4-HMAC-SHA256 Credential=testing/20261124/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=x',
    },
    body: JSON.stringify(payload),
  });
  if (!res.ok) throw new Error(`SQS ${action}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** The SNS envelopes delivered to an SQS queue so far (and removes nothing: moto keeps them invisible). */
export async function snsMessages(moto: MotoServer, queueUrl: string): Promise<{ Subject: string; Message: string; MessageAttributes: Record<string, { Value: string }> }[]> {
  const out = await motoSqs(moto, 'ReceiveMessage', { QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 });
  return (out.Messages ?? []).map((m: { Body: string }) => JSON.parse(m.Body));
}
