// The user a replica logs in with. The password is generated here, stored as a secret under a name
// derived from the migration id, and only the secret's reference leaves this module. Re-running
// reuses the stored password (or generates one when there is none) and makes the user match it:
// nothing is created twice.
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { registerSecretValue } from '../redact.js';
import { storeCredentials, type DbCredentials } from '../secrets.js';
import type { ReplicationUserResult } from '../state.js';
import { q, type Conn } from './connection.js';

export interface ReplicationUserSpec {
  userName: string;
  secretName: string;
  requireSsl: boolean;
}

export function generatePassword(): string {
  // 32 characters of [A-Za-z0-9_-]: no quoting issues in any client, well above MySQL's policies.
  const pw = `Cm1-${randomBytes(21).toString('base64url')}`;
  registerSecretValue(pw);
  return pw;
}

/**
 * The password already stored under the secret name, if any: a re-run keeps it, so a replica that is
 * already running with it is not locked out at its next reconnect.
 */
async function storedPassword(secretName: string, userName: string, sm?: SecretsManagerClient): Promise<string | null> {
  const store = process.env.CROSSMOVE_SECRET_STORE ?? 'aws';
  let text: string | undefined;
  try {
    if (store.startsWith('local:')) text = await readFile(resolve(join(store.slice(6), `${secretName}.json`)), 'utf8');
    else text = (await (sm ?? new SecretsManagerClient({})).send(new GetSecretValueCommand({ SecretId: secretName }))).SecretString;
  } catch {
    return null;
  }
  try {
    const c = JSON.parse(text ?? '') as Partial<DbCredentials>;
    if (c.username !== userName || typeof c.password !== 'string' || c.password.length < 16) return null;
    registerSecretValue(c.password);
    return c.password;
  } catch {
    return null;
  }
}

export async function ensureReplicationUser(conn: Conn, spec: ReplicationUserSpec, sm?: SecretsManagerClient): Promise<ReplicationUserResult> {
  const password = (await storedPassword(spec.secretName, spec.userName, sm)) ?? generatePassword();
  const account = `?@'%'`;
  const tls = spec.requireSsl ? 'REQUIRE SSL' : 'REQUIRE NONE';
  // Stored first: if the ALTER below fails, the secret holds a password nobody uses (harmless); the
  // other order could leave a working user whose password exists nowhere.
  const secretRef = await storeCredentials(spec.secretName, { username: spec.userName, password }, { description: 'crossmove replication user', secretsManager: sm });
  const identified = await identifiedClause(conn, password);
  await q(conn, `CREATE USER IF NOT EXISTS ${account} ${identified.sql} ${tls}`, [spec.userName, identified.value]);
  await q(conn, `ALTER USER ${account} ${identified.sql} ${tls}`, [spec.userName, identified.value]);
  await q(conn, `GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO ${account}`, [spec.userName]);
  return { userName: spec.userName, secretRef, requireSsl: spec.requireSsl };
}

/** mysql_native_password's stored form: '*' + upper(hex(sha1(sha1(password)))). */
export function nativePasswordHash(password: string): string {
  const once = createHash('sha1').update(password, 'utf8').digest();
  return '*' + createHash('sha1').update(once).digest('hex').toUpperCase();
}

/**
 * MariaDB writes CREATE/ALTER USER ... IDENTIFIED BY '<plaintext>' to its binlog verbatim (and replicas
 * copy it), so there the hash is sent instead. MySQL 8 / Aurora rewrite the statement to the hash in
 * the binlog themselves, and their default plugin (caching_sha2_password) has no client-side hash.
 */
async function identifiedClause(conn: Conn, password: string): Promise<{ sql: string; value: string }> {
  const [row] = await q<{ v: string }>(conn, 'SELECT VERSION() AS v');
  if (/mariadb/i.test(String(row?.v ?? ''))) return { sql: 'IDENTIFIED BY PASSWORD ?', value: nativePasswordHash(password) };
  return { sql: 'IDENTIFIED BY ?', value: password };
}

/** Name of the user the source logs in to the target with for reverse replication. */
export function reverseUserName(userName: string): string {
  return `${userName.slice(0, 30)}_r`;
}
