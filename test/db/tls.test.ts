// TLS as on RDS: MariaDB serves a certificate from a CA made for this test (openssl), as an RDS
// endpoint serves one from the Amazon RDS CA, and its admin account REQUIRE SSL refuses plain-text logins.
// A step run through its Lambda handler connects only when that CA is configured (CROSSMOVE_DB_CA, as
// a file or as PEM text) on top of the RDS bundle, and refuses a certificate issued for another name:
// verification is on and means something. The logical copy's connections follow the same rules.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MariaDbServer } from '../../local/mariadb.js';
import { handler as keepBinlogs } from '../../handlers/keep-binlogs.js';
import { openConnection, q } from '../../shared/mysql/connection.js';
import { openConnection as openCopyConnection } from '../../shared/initial-load/connections.js';
import type { BinlogSettings } from '../../shared/state.js';
import { makeTestCa, mariaDbTlsConfig, type TestCa } from '../support/test-ca.js';
import { startMariaDb } from '../../local/mariadb.js';
import { invoke, stateFor, useLocalSecrets } from './fixtures.js';

let ca: TestCa;
let rightName: MariaDbServer; // certificate for "localhost", the name crossmove connects to
let wrongName: MariaDbServer; // certificate for another name, signed by the same CA
const saved = { tls: process.env.CROSSMOVE_DB_TLS, ca: process.env.CROSSMOVE_DB_CA };

beforeAll(async () => {
  useLocalSecrets();
  ca = makeTestCa();
  [rightName, wrongName] = await Promise.all([
    startMariaDb({ serverId: 81, config: mariaDbTlsConfig(ca.issue('localhost')) }),
    startMariaDb({ serverId: 82, config: mariaDbTlsConfig(ca.issue('db.elsewhere.test')) }),
  ]);
  // After start (the start-up probe logs in without TLS): from now on the admin needs TLS.
  for (const server of [rightName, wrongName]) {
    const c = await server.connect();
    await c.query("ALTER USER 'admin'@'%' REQUIRE SSL");
    await c.end();
  }
});

afterEach(() => {
  for (const [k, v] of [['CROSSMOVE_DB_TLS', saved.tls], ['CROSSMOVE_DB_CA', saved.ca]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

afterAll(async () => {
  await Promise.all([rightName?.stop(), wrongName?.stop()]);
  ca?.remove();
});

/** The migration state with the source reached by name (a loopback address would not match any certificate). */
const stateAt = (server: MariaDbServer) => stateFor(server, server, { source: { endpoint: { host: 'localhost', port: server.port } } });
const keepBinlogsOn = (server: MariaDbServer) => invoke<BinlogSettings>(keepBinlogs, stateAt(server)).then((r) => r, (e: Error) => e);
const admin = (server: MariaDbServer) => server.admin;

describe('database TLS (RDS CA bundle + CROSSMOVE_DB_CA, verification on)', () => {
  it('refuses a plain-text login: the admin account requires TLS (what the tests below rely on)', async () => {
    process.env.CROSSMOVE_DB_TLS = 'off';
    const err = await keepBinlogsOn(rightName);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/Access denied for user 'admin'/);
  });

  it('connects through the Lambda handler when the test CA is given as a PEM file, over TLS', async () => {
    process.env.CROSSMOVE_DB_TLS = 'on';
    process.env.CROSSMOVE_DB_CA = ca.caFile;
    const result = await keepBinlogsOn(rightName);
    expect(result).toMatchObject({ logBin: true });
    const conn = await openConnection({ host: 'localhost', port: rightName.port }, admin(rightName));
    const [row] = await q<{ Value: string }>(conn, "SHOW SESSION STATUS LIKE 'Ssl_version'");
    await conn.end();
    expect(row?.Value).toMatch(/^TLSv1\.[23]$/);
  });

  it('connects when the CA is given as PEM text (the form a deploy parameter takes)', async () => {
    process.env.CROSSMOVE_DB_TLS = 'on';
    process.env.CROSSMOVE_DB_CA = ca.caPem;
    expect(await keepBinlogsOn(rightName)).toMatchObject({ logBin: true });
  });

  it('refuses the server when its CA is not configured (the RDS bundle alone does not trust it), naming CROSSMOVE_DB_CA', async () => {
    process.env.CROSSMOVE_DB_TLS = 'on';
    delete process.env.CROSSMOVE_DB_CA;
    const err = (await keepBinlogsOn(rightName)) as Error;
    expect(err.name).toBe('ConfigurationError');
    expect(err.message).toMatch(/TLS certificate of localhost:\d+ was refused \(HANDSHAKE_SSL_ERROR: (unable to verify the first certificate|self-signed certificate)/);
    expect(err.message).toContain('CROSSMOVE_DB_CA');
  });

  it('refuses a certificate of the trusted CA issued for another name (hostname verification)', async () => {
    process.env.CROSSMOVE_DB_TLS = 'on';
    process.env.CROSSMOVE_DB_CA = ca.caFile;
    const err = (await keepBinlogsOn(wrongName)) as Error;
    expect(err.name).toBe('ConfigurationError');
    expect(err.message).toMatch(/Hostname\/IP does not match certificate's altnames: .*DNS:db\.elsewhere\.test/);
    expect(err.message).toContain("name localhost");
    // Only the name is wrong: without verification the same server is reached.
    process.env.CROSSMOVE_DB_TLS = 'skip-verify';
    expect(await keepBinlogsOn(wrongName)).toMatchObject({ logBin: true });
  });

  it('applies the same rules to the logical copy: refused without the CA, connected with it', async () => {
    process.env.CROSSMOVE_DB_TLS = 'on';
    delete process.env.CROSSMOVE_DB_CA;
    const refused = await openCopyConnection({ host: 'localhost', port: rightName.port }, admin(rightName), 'source').then(() => null, (e: Error) => e);
    expect(refused?.name).toBe('ConfigurationError');
    process.env.CROSSMOVE_DB_CA = ca.caFile;
    const conn = await openCopyConnection({ host: 'localhost', port: rightName.port }, admin(rightName), 'source');
    const [[row]] = (await conn.query("SHOW SESSION STATUS LIKE 'Ssl_version'")) as unknown as [{ Value: string }[]];
    await conn.end();
    expect(row?.Value).toMatch(/^TLSv1\.[23]$/);
  });
});
