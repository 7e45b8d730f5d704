// The application's database endpoint as one address that can be pointed at another server, like a
// DNS name after "Switch DNS": a unix socket path that is a symlink to the current server's socket,
// replaced atomically by switchTo(). New connections reach the new server; the application's
// connections still open on the old one are cut (as a proxy does when a backend is taken out, and as a
// pool does with connections that answer read-only), so every client reconnects to the new one.
// No relay sits in between: the clients talk to the servers themselves, so the figures measured
// through it are the servers' and crossmove's, not a proxy's (a TCP relay in this process cost a
// third of a core and a quarter of the transactions at 64 sysbench threads on this machine).
import { mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type mysql from 'mysql2/promise';

export interface Backend {
  /** The name the figures use (source, target). */
  name: string;
  /** The server's unix socket. */
  socket: string;
  /** An admin connection to it (to cut the application's connections at a switch). */
  connect(): Promise<mysql.Connection>;
}

/** A local/mariadb.ts server as a backend. */
export function backendOf(name: string, server: { dir: string; connect(): Promise<mysql.Connection> }): Backend {
  return { name, socket: join(server.dir, 'mysqld.sock'), connect: () => server.connect() };
}

export class SwitchableEndpoint {
  /** Where the application connects (mysql2 `socketPath`, sysbench `--mysql-socket`). */
  readonly socketPath: string;
  private readonly dir: string;
  private backend: Backend;
  private switches = 0;
  private readonly sweeps: Promise<void>[] = [];

  /** `appUser`: the application's user, whose connections a switch cuts on the old server. */
  private constructor(backend: Backend, private readonly appUser: string) {
    this.dir = mkdtempSync(join(tmpdir(), 'crossmove-endpoint-'));
    this.socketPath = join(this.dir, 'app.sock');
    this.backend = backend;
    this.point(backend);
  }

  static async start(backend: Backend, appUser: string): Promise<SwitchableEndpoint> {
    return new SwitchableEndpoint(backend, appUser);
  }

  get current(): Backend {
    return this.backend;
  }

  /** New connections go to `backend` from now on; the application's connections to the old server are cut. */
  async switchTo(backend: Backend): Promise<void> {
    const old = this.backend;
    this.backend = backend;
    this.point(backend);
    if (old.name === backend.name) return;
    await this.cut(old);
    // A client that began connecting through the old link just before the switch may still be in its
    // handshake when the KILL runs, and would stay on the old server for good (its writes refused as
    // read-only, which this client only retries). A proxy that took the backend out closes those too:
    // keep cutting for a while, in the background so that the switch itself is not held up.
    this.sweeps.push(this.sweep(old, 2000).catch(() => undefined));
  }

  private async cut(server: Backend): Promise<void> {
    const admin = await server.connect();
    try {
      await this.killAppSessions(admin);
    } finally {
      await admin.end().catch(() => admin.destroy());
    }
  }

  private async sweep(server: Backend, ms: number): Promise<void> {
    const admin = await server.connect();
    try {
      for (const end = Date.now() + ms; Date.now() < end; ) {
        await new Promise((r) => setTimeout(r, 20));
        const [[left]] = (await admin.query('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?', [this.appUser])) as unknown as [{ n: number }[]];
        if (Number(left!.n) > 0) await this.killAppSessions(admin);
      }
    } finally {
      await admin.end().catch(() => admin.destroy());
    }
  }

  /** MariaDB: every connection of the application's user in one statement. */
  private async killAppSessions(admin: mysql.Connection): Promise<void> {
    await admin.query(`KILL CONNECTION USER '${this.appUser.replace(/'/g, "''")}'`);
  }

  async close(): Promise<void> {
    await Promise.all(this.sweeps);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** An atomic replace: a client connecting meanwhile finds either the old server or the new one. */
  private point(backend: Backend): void {
    const next = join(this.dir, `next-${++this.switches}.sock`);
    symlinkSync(backend.socket, next);
    renameSync(next, this.socketPath);
  }
}
