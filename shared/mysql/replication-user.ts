// The user a replica logs in with. The password is generated here, stored as a secret under a name
// derived from the migration id, and only the secret's reference leaves this module. Re-running
// reuses the stored password (or generates one when there is none) and makes the user match it:
// nothing is created twice.
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { secretsManagerClient } from '../aws/secrets-manager.js';
import { registerSecretValue } from '../redact.js';
import { storeCredentials, type DbCredentials } from '../secrets.js';
import type { ReplicationUserResult } from '../state.js';
import { q, type Conn } from './connection.js';
import type { Dialect } from './dialect.js';

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
    else text = (await (sm ?? secretsManagerClient()).send(new GetSecretValueCommand({ SecretId: secretName }))).SecretString;
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

export async function ensureReplicationUser(conn: Conn, dialect: Dialect, spec: ReplicationUserSpec, sm?: SecretsManagerClient): Promise<ReplicationUserResult> {
  const password = (await storedPassword(spec.secretName, spec.userName, sm)) ?? generatePassword();
  const account = `?@'%'`;
  const tls = spec.requireSsl ? 'REQUIRE SSL' : 'REQUIRE NONE';
  // Stored first: if the ALTER below fails, the secret holds a password nobody uses (harmless); the
  // other order could leave a working user whose password exists nowhere.
  const secretRef = await storeCredentials(spec.secretName, { username: spec.userName, password }, { description: 'crossmove replication user', secretsManager: sm });
  const auth = await replicationAuth(conn, dialect, password);
  await q(conn, `CREATE USER IF NOT EXISTS ${account} ${auth.sql} ${tls}`, [spec.userName, auth.value]);
  await q(conn, `ALTER USER ${account} ${auth.sql} ${tls}`, [spec.userName, auth.value]);
  await q(conn, `GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO ${account}`, [spec.userName]);
  return { userName: spec.userName, secretRef, requireSsl: spec.requireSsl };
}

/** mysql_native_password's stored form: '*' + upper(hex(sha1(sha1(password)))). */
function nativePasswordHash(password: string): string {
  const once = createHash('sha1').update(password, 'utf8').digest();
  const hash = '*' + createHash('sha1').update(once).digest('hex').toUpperCase();
  registerSecretValue(hash); // it logs in as well as the password does over the native protocol
  return hash;
}

export interface ReplicationAuth {
  plugin: 'mysql_native_password' | 'caching_sha2_password';
  /** The IDENTIFIED clause, with one `?` for `value`. */
  sql: string;
  value: string;
}

/**
 * How the replication user authenticates, per dialect. mysql_native_password wherever the server has
 * it (the AWS example for mysql.rds_set_external_source/_master uses it): a replica that connects
 * without TLS must otherwise ask for the source's RSA key, which Aurora's and RDS's procedures cannot
 * (IO error 2061 under caching_sha2_password). Aurora MySQL 2/3 and MariaDB always have it (Aurora 3
 * even defaults to it); MySQL 8.0 has it, 8.4 only when the plugin was enabled. The hash is sent, not
 * the password: `IDENTIFIED WITH mysql_native_password AS '<hash>'` is valid on MySQL 5.7/8 and
 * MariaDB alike, and MariaDB would otherwise write a plain-text password to its binlog. Without the
 * plugin (MySQL 8.4+ default) caching_sha2_password it is: replicas then need replication.ssl or, for
 * MySQL replicas, GET_SOURCE_PUBLIC_KEY (the mysql-8 dialect asks for it).
 */
export async function replicationAuth(conn: Conn, dialect: Dialect, password: string): Promise<ReplicationAuth> {
  const native: ReplicationAuth = { plugin: 'mysql_native_password', sql: 'IDENTIFIED WITH mysql_native_password AS ?', value: nativePasswordHash(password) };
  if (dialect.aurora || dialect.engine === 'mariadb') return native;
  const [row] = await q<{ s: unknown }>(conn, "SELECT PLUGIN_STATUS AS s FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'mysql_native_password'");
  if (String(row?.s ?? '').toUpperCase() === 'ACTIVE') return native;
  // MySQL rewrites the password to its hash before the statement reaches the binlog.
  return { plugin: 'caching_sha2_password', sql: 'IDENTIFIED WITH caching_sha2_password BY ?', value: password };
}

/** Name of the user the source logs in to the target with for reverse replication. */
export function reverseUserName(userName: string): string {
  return `${userName.slice(0, 30)}_r`;
}
