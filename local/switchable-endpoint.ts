// The application's database endpoint as one address that can be pointed at another server, like a
// DNS name after "Switch DNS" or a proxy whose backend is changed: sysbench connects here and follows
// the cutover without being told. Switching drops the connections still open to the old server (as a
// proxy does when a backend is taken out, and as the old primary's read-only errors make a pool do),
// so every client reconnects to the new one.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface Backend {
  host: string;
  port: number;
  /** The name the figures use (source, target). */
  name: string;
}

export class SwitchableEndpoint {
  readonly host = '127.0.0.1';
  private server: Server | null = null;
  private backend: Backend;
  private readonly open = new Map<Socket, { upstream: Socket; backend: Backend }>();
  /** Connections accepted per backend name (the clients' reconnects show up here). */
  readonly accepted: Record<string, number> = {};

  private constructor(backend: Backend, private portNumber = 0) {
    this.backend = backend;
  }

  static async start(backend: Backend): Promise<SwitchableEndpoint> {
    const endpoint = new SwitchableEndpoint(backend);
    await endpoint.listen();
    return endpoint;
  }

  get port(): number {
    return this.portNumber;
  }

  get current(): Backend {
    return this.backend;
  }

  /** New connections go to `backend`; connections still open to another server are closed. */
  switchTo(backend: Backend): void {
    this.backend = backend;
    for (const [client, link] of this.open) {
      if (link.backend.name !== backend.name) {
        client.destroy();
        link.upstream.destroy();
      }
    }
  }

  async close(): Promise<void> {
    for (const [client, link] of this.open) {
      client.destroy();
      link.upstream.destroy();
    }
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private listen(): Promise<void> {
    const server = createServer((client) => this.relay(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.portNumber, this.host, () => {
        const addr = server.address();
        this.portNumber = typeof addr === 'object' && addr ? addr.port : 0;
        resolve();
      });
    });
  }

  private relay(client: Socket): void {
    const backend = this.backend;
    this.accepted[backend.name] = (this.accepted[backend.name] ?? 0) + 1;
    const upstream = connect(backend.port, backend.host);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.open.set(client, { upstream, backend });
    const end = () => {
      this.open.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
