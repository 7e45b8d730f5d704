// The TLS options every database connection gets (shared/mysql/connection.ts tlsFor): the Amazon RDS
// CA bundle always, CROSSMOVE_DB_CA on top, certificate and name verified; bad configuration named.
// The handshake itself is tested against a real server in test/db/tls.test.ts.
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tlsFor } from '../../shared/mysql/connection.js';
import { makeTestCa } from '../support/test-ca.js';

/** The common names of the certificates in an `ssl.ca` list. */
const subjects = (ca: unknown) => (ca as string[]).map((pem) => new X509Certificate(pem).subject.split('\n').find((l) => l.startsWith('CN=')));

describe('tlsFor', () => {
  it('verifies against the Amazon RDS CA bundle, certificate and host name, for any non-loopback host', () => {
    const ssl = tlsFor('orders.cluster-abc.us-east-1.rds.amazonaws.com', {});
    expect(ssl).toMatchObject({ rejectUnauthorized: true, verifyIdentity: true });
    expect(subjects(ssl!.ca)).toContain('CN=Amazon RDS us-east-1 Root CA RSA2048 G1');
  });

  it('is off on loopback unless asked for, and off/skip-verify when configured', () => {
    expect(tlsFor('127.0.0.1', {})).toBeUndefined();
    expect(tlsFor('localhost', { CROSSMOVE_DB_TLS: 'on' })).toMatchObject({ verifyIdentity: true });
    expect(tlsFor('db.example.com', { CROSSMOVE_DB_TLS: 'off' })).toBeUndefined();
    expect(tlsFor('db.example.com', { CROSSMOVE_DB_TLS: 'skip-verify' })).toEqual({ rejectUnauthorized: false });
  });

  it('adds CROSSMOVE_DB_CA (a PEM file or PEM text) to the RDS bundle', () => {
    const ca = makeTestCa('extra-ca-for-unit-test');
    const rdsOnly = (tlsFor('db.example.com', {})!.ca as string[]).length;
    for (const value of [ca.caFile, ca.caPem]) {
      const ssl = tlsFor('db.example.com', { CROSSMOVE_DB_CA: value })!;
      expect((ssl.ca as string[]).length).toBe(rdsOnly + 1);
      expect(subjects(ssl.ca)).toContain('CN=extra-ca-for-unit-test');
    }
  });

  it('names the variable when the configuration is wrong', () => {
    const ca = makeTestCa();
    const notPem = join(ca.dir, 'not-a-cert.txt');
    writeFileSync(notPem, 'hello');
    const bad = (env: NodeJS.ProcessEnv) => {
      try {
        tlsFor('db.example.com', env);
        return null;
      } catch (err) {
        return err as Error;
      }
    };
    expect(bad({ CROSSMOVE_DB_TLS: 'yes' })).toMatchObject({ name: 'ConfigurationError', message: expect.stringContaining("CROSSMOVE_DB_TLS is 'yes'") });
    expect(bad({ CROSSMOVE_DB_CA: '/nowhere/ca.pem' })).toMatchObject({ name: 'ConfigurationError', message: expect.stringMatching(/CROSSMOVE_DB_CA names the file \/nowhere\/ca\.pem, which cannot be read \(ENOENT\)/) });
    expect(bad({ CROSSMOVE_DB_CA: notPem })).toMatchObject({ name: 'ConfigurationError', message: expect.stringContaining('holds no PEM certificate') });
    expect(bad({ CROSSMOVE_DB_CA: '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----' })).toMatchObject({ message: expect.stringContaining('certificate 1 of 1 does not parse') });
  });
});
