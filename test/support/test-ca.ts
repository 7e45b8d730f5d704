// A certificate authority made for one test run with openssl (Debian's `openssl` package): a CA
// certificate and server certificates it signs for given names, as PEM files in a temp folder. Lets
// MariaDB serve TLS the way RDS does (a certificate chaining to a CA the client must be told about).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface IssuedCert {
  certFile: string;
  keyFile: string;
}

export interface TestCa {
  dir: string;
  /** The CA certificate (PEM file and text). */
  caFile: string;
  caPem: string;
  /** A server certificate for `dnsName` (subjectAltName DNS and CN), signed by this CA. */
  issue(dnsName: string): IssuedCert;
  /** Deletes the folder (keys included); call after the servers using its certificates stopped. */
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: 'pipe' });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error('openssl not found: install it with apt-get install -y openssl');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString() ?? String(err)}`);
  }
}

export function makeTestCa(name = 'crossmove-test-ca'): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'crossmove-ca-'));
  openssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  let serial = 0;
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    issue(dnsName: string): IssuedCert {
      const base = `server-${++serial}`;
      writeFileSync(
        join(dir, `${base}.ext`),
        `subjectAltName=DNS:${dnsName}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`,
      );
      openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${dnsName}`], dir);
      openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${base}.pem`, '-days', '2', '-extfile', `${base}.ext`], dir);
      return { certFile: join(dir, `${base}.pem`), keyFile: join(dir, `${base}.key`) };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** [mysqld] settings that make MariaDB serve `cert` over TLS. */
export function mariaDbTlsConfig(cert: IssuedCert): Record<string, string> {
  return { ssl_cert: cert.certFile, ssl_key: cert.keyFile };
}
