// A real moto server per test file, on loopback, on a free port. Every AWS SDK v3 client in the
// process reaches it through AWS_ENDPOINT_URL. Fails loudly when python3 or moto is missing: an AWS
// suite never skips silently.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { STSClient } from '@aws-sdk/client-sts';
import { setStsClient } from '../../shared/aws/source-account.js';
import { clearSecretCache } from '../../shared/secrets.js';

export interface Moto {
  endpoint: string;
  port: number;
  /** POST /moto-api/reset: clears every account's state; also drops cached assumed-role credentials and secrets. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function startMoto(): Promise<Moto> {
  const check = spawnSync('python3', ['-c', 'import moto, flask; print(moto.__version__)'], { encoding: 'utf8' });
  if (check.status !== 0) {
    throw new Error(`moto is required for test/aws (python3 -m moto.server): ${check.error?.message ?? check.stderr.trim()}. Install it with: pip install 'moto[server]==5.2.1'`);
  }
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`moto.server exited (${code}): ${stderr}`))));
  exited.catch(() => undefined);
  const ready = (async () => {
    for (;;) {
      try {
        const res = await fetch(`${endpoint}/moto-api/`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`moto.server did not answer on ${endpoint} within 30 s: ${stderr}`)), 30_000).unref());
  await Promise.race([ready, exited, deadline]);

  process.env.AWS_ENDPOINT_URL = endpoint;
  process.env.MOTO_PORT = String(port);
  const reset = async () => {
    const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
    if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
    // Assumed-role credentials map to accounts inside moto; after a reset they must be fetched again.
    setStsClient(new STSClient({}));
    clearSecretCache();
  };
  await reset();
  return {
    endpoint,
    port,
    reset,
    stop: async () => {
      delete process.env.AWS_ENDPOINT_URL;
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
