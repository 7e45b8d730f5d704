// Source and target told apart by what the servers say they are, not by their addresses.
import { describe, expect, it } from 'vitest';
import { identityChecks, sameServer, type ServerIdentity } from '../../shared/preflight/db-identity-checks.js';
import { validateMigrationInput } from '../../shared/input/validate.js';

const input = validateMigrationInput({
  migrationId: 'orders-1',
  source: { endpoint: { host: 'db-a.internal', port: 3306 }, adminSecret: 'env:S' },
  target: { endpoint: { host: 'db-b.internal', port: 3306 }, adminSecret: 'env:T' },
  initialLoad: { method: 'logical' },
});
const ep = (host: string) => ({ host, port: 3306 });
const mysql = (uuid: string, serverId = 1, hostname = 'ip-10-0-0-1'): ServerIdentity => ({ uuid, serverId, hostname, port: 3306 });
const mariadb = (serverId: number, hostname: string, port = 3306): ServerIdentity => ({ uuid: null, serverId, hostname, port });

describe('same server', () => {
  it('MySQL and Aurora: by @@server_uuid, whatever the other variables say', () => {
    expect(sameServer(mysql('3e11fa47-71ca-11e1-9e33-c80aa9429562'), mysql('3e11fa47-71ca-11e1-9e33-c80aa9429562', 2, 'other'))).toBe(true);
    // Aurora instances may share a hostname-looking value and server_id across clusters: the uuid decides.
    expect(sameServer(mysql('3e11fa47-71ca-11e1-9e33-c80aa9429562'), mysql('8a94f357-aab4-11df-86ab-c80aa9429562'))).toBe(false);
  });

  it('MariaDB (no server_uuid): by server_id + hostname + port', () => {
    expect(sameServer(mariadb(1, 'vm'), mariadb(1, 'vm'))).toBe(true);
    expect(sameServer(mariadb(1, 'vm', 3306), mariadb(1, 'vm', 3307))).toBe(false);
    expect(sameServer(mariadb(1, 'vm'), mariadb(2, 'vm'))).toBe(false);
  });

  it('the same server through two addresses fails naming target.endpoint; two servers with one server_id fail too', () => {
    const [same] = identityChecks(input, ep('db-a.internal'), ep('db-alias.internal'), mariadb(7, 'db-a'), mariadb(7, 'db-a'));
    expect(same).toMatchObject({ id: 'db-same-server', status: 'fail' });
    expect(same!.message).toMatch(/^target\.endpoint \(db-alias\.internal:3306\) reaches the same server as the source \(db-a\.internal:3306\): server_id 7, hostname db-a, port 3306/);
    const [ids] = identityChecks(input, ep('db-a.internal'), ep('db-b.internal'), mariadb(7, 'db-a'), mariadb(7, 'db-b'));
    expect(ids).toMatchObject({ id: 'db-server-ids', status: 'fail' });
    expect(identityChecks(input, ep('db-a.internal'), ep('db-b.internal'), mariadb(7, 'db-a'), mariadb(8, 'db-b'))[0]!.status).toBe('pass');
  });
});
