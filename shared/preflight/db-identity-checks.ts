// Preflight: source and target are two different servers, told apart by what the servers say they are,
// not by their addresses (127.0.0.1 and localhost, a DNS alias or a proxy reach the same server).
// MySQL and Aurora have @@server_uuid; MariaDB has none, so server_id + hostname + port identify it.
// Two servers with the same server_id cannot replicate to each other either. Read-only (SELECT @@...).
import type { MigrationInput } from '../input/validate.js';
import type { Conn } from '../mysql/connection.js';
import type { Endpoint } from '../endpoints.js';
import { fail, pass, type CheckOutcome } from './checks.js';

export interface ServerIdentity {
  uuid: string | null;
  serverId: number;
  hostname: string;
  port: number;
}

export async function readIdentity(conn: Conn): Promise<ServerIdentity> {
  const [[row]] = (await conn.query('SELECT @@server_id AS id, @@hostname AS host, @@port AS port')) as unknown as [Record<string, unknown>[]];
  let uuid: string | null = null;
  try {
    const [[u]] = (await conn.query('SELECT @@server_uuid AS uuid')) as unknown as [Record<string, unknown>[]];
    uuid = u?.uuid ? String(u.uuid) : null;
  } catch {
    // MariaDB: no server_uuid.
  }
  return { uuid, serverId: Number(row!.id), hostname: String(row!.host), port: Number(row!.port) };
}

export function sameServer(a: ServerIdentity, b: ServerIdentity): boolean {
  if (a.uuid && b.uuid) return a.uuid === b.uuid;
  return a.serverId === b.serverId && a.hostname === b.hostname && a.port === b.port;
}

const described = (i: ServerIdentity) => (i.uuid ? `server_uuid ${i.uuid}` : `server_id ${i.serverId}, hostname ${i.hostname}, port ${i.port}`);

export function identityChecks(input: MigrationInput, sourceEp: Endpoint, targetEp: Endpoint, source: ServerIdentity, target: ServerIdentity): CheckOutcome[] {
  const where = (ep: Endpoint) => `${ep.host}:${ep.port}`;
  if (sameServer(source, target)) {
    return [
      fail(
        'db-same-server',
        `target.endpoint (${where(targetEp)}) reaches the same server as the source (${where(sourceEp)}): ${described(source)}. A migration onto itself would overwrite the source's tables and replicate into itself.`,
        `Set target.endpoint${input.target.clusterIdentifier ? ' (or target.clusterIdentifier)' : ''} to the server that is to become the new primary.`,
      ),
    ];
  }
  if (source.serverId === target.serverId) {
    return [
      fail(
        'db-server-ids',
        `The source (${where(sourceEp)}) and the target (${where(targetEp)}) are different servers with the same server_id ${source.serverId}: replication between them refuses to start (a server ignores or refuses events of its own server_id).`,
        'Give the target another server_id (server_id in its configuration, or SET GLOBAL server_id = <unused number> before the migration).',
      ),
    ];
  }
  return [pass('db-same-server', `Source and target are different servers (${described(source)}; ${described(target)}).`)];
}
