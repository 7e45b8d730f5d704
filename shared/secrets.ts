// Database credentials are referenced, never carried: `arn:aws:secretsmanager:...` (read with the
// given client, e.g. assumed-role credentials for a source-account secret), `env:NAME` or `file:PATH`
// (local runs). Values are cached per container with an expiry and registered for redaction.
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { ensurePrivateDir } from './private-dir.js';
import { dirname, join, resolve } from 'node:path';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SecretError, TransientError } from './errors.js';
import { isTransientAwsError } from './aws/call.js';
import { secretsManagerClient } from './aws/secrets-manager.js';
import { registerSecretValue } from './redact.js';

export interface DbCredentials {
  username: string;
  password: string;
}

const CACHE_TTL_MS = 5 * 60_000;
const cache = new Map<string, { value: DbCredentials; expires: number }>();

export function clearSecretCache(): void {
  cache.clear();
}

function parseCredentials(ref: string, text: string | undefined): DbCredentials {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '');
  } catch {
    throw new SecretError(`Secret ${ref} is not JSON; it must hold {"username": ..., "password": ...}`);
  }
  const p = parsed as Partial<DbCredentials>;
  if (typeof p?.username !== 'string' || typeof p?.password !== 'string') {
    throw new SecretError(`Secret ${ref} must hold string fields "username" and "password"`);
  }
  registerSecretValue(p.password);
  return { username: p.username, password: p.password };
}

/** The SDK's answers when this process has no AWS credentials, or ones AWS does not accept. */
const NO_CREDENTIALS = ['CredentialsProviderError', 'UnrecognizedClientException', 'InvalidClientTokenId', 'ExpiredTokenException', 'ExpiredToken'];

export async function readCredentials(
  ref: string,
  options: { secretsManager?: SecretsManagerClient; cacheKey?: string } = {},
): Promise<DbCredentials> {
  const key = options.cacheKey ? `${options.cacheKey}|${ref}` : ref;
  const hit = cache.get(key);
  if (hit && hit.expires > Date.now()) return hit.value;

  let value: DbCredentials;
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    if (process.env[name] === undefined) throw new SecretError(`Secret ${ref}: environment variable ${name} is not set`);
    value = parseCredentials(ref, process.env[name]);
  } else if (ref.startsWith('file:')) {
    const path = ref.slice(5);
    const text = await readFile(path, 'utf8').catch(() => {
      throw new SecretError(`Secret ${ref}: cannot read file ${path}`);
    });
    value = parseCredentials(ref, text);
  } else if (ref.startsWith('arn:')) {
    // A secret lives in its ARN's region, which need not be the Lambda's.
    const client = options.secretsManager ?? secretsManagerClient({ region: ref.split(':')[3] });
    const out = await client.send(new GetSecretValueCommand({ SecretId: ref })).catch((err: Error) => {
      if (err.name === 'ResourceNotFoundException') throw new SecretError(`Secret ${ref} does not exist or is not visible to this account`);
      if (err.name === 'AccessDeniedException') throw new SecretError(`Access denied reading secret ${ref}: grant secretsmanager:GetSecretValue on it`);
      // Throttling, 5xx and dropped connections: retried by the state machine like every other AWS call.
      if (isTransientAwsError(err)) throw new TransientError(`Secrets Manager GetSecretValue ${ref} failed temporarily (${err.name}: ${err.message}); the step is safe to retry`, { cause: err });
      // No usable AWS credentials where crossmove runs (typically a local run given an ARN): say what to do.
      if (!NO_CREDENTIALS.includes(err.name)) throw err;
      throw new SecretError(
        `Secret ${ref} cannot be read from Secrets Manager (${err.name}: ${err.message}); give this process AWS credentials that may read it (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), or in a local run use env:NAME or file:PATH`,
        { cause: err },
      );
    });
    value = parseCredentials(ref, out.SecretString);
  } else {
    throw new SecretError(`Secret reference ${ref} must start with arn:, env: or file:`);
  }
  cache.set(key, { value, expires: Date.now() + CACHE_TTL_MS });
  return value;
}

/**
 * Stores generated credentials under a deterministic name and returns the reference to them.
 * Where they go is set by CROSSMOVE_SECRET_STORE: `local:<dir>` writes `<dir>/<name>.json` (mode 0600,
 * in folders 0700 from <dir> down: local runs); anything else uses Secrets Manager (create, or put a new version when it exists).
 */
export async function storeCredentials(
  name: string,
  value: DbCredentials,
  options: { secretsManager?: SecretsManagerClient; description?: string } = {},
): Promise<string> {
  registerSecretValue(value.password);
  const store = process.env.CROSSMOVE_SECRET_STORE ?? 'aws';
  const body = JSON.stringify(value);
  if (store.startsWith('local:')) {
    const root = store.slice(6);
    const path = resolve(join(root, `${name}.json`));
    ensurePrivateDir(dirname(path), root);
    await writeFile(path, body, { mode: 0o600 });
    // A file an older crossmove wrote keeps its mode on overwrite: tightened too.
    await chmod(path, 0o600);
    cache.delete(`file:${path}`);
    return `file:${path}`;
  }
  const client = options.secretsManager ?? secretsManagerClient();
  try {
    const out = await client.send(new CreateSecretCommand({ Name: name, SecretString: body, Description: options.description }));
    return out.ARN!;
  } catch (err) {
    if (!(err instanceof ResourceExistsException) && (err as Error).name !== 'ResourceExistsException') throw err;
    const out = await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: body }));
    cache.delete(out.ARN!);
    return out.ARN!;
  }
}

/**
 * The credentials kept under `name` in Secrets Manager, created with `generate()` when there are none
 * (first the secret, then whatever uses the password: a crash between the two leaves a secret nobody
 * uses, never a password that exists nowhere). A retry finds the same value, so it is idempotent. Only
 * the ARN should leave the caller; the value is registered for redaction.
 */
export async function ensureGeneratedCredentials(
  name: string,
  generate: () => DbCredentials,
  options: { secretsManager: SecretsManagerClient; description: string },
): Promise<{ ref: string; value: DbCredentials; created: boolean }> {
  const sm = options.secretsManager;
  const read = async (): Promise<{ ref: string; value: DbCredentials } | null> => {
    try {
      const out = await sm.send(new GetSecretValueCommand({ SecretId: name }));
      return { ref: out.ARN!, value: parseCredentials(name, out.SecretString) };
    } catch (err) {
      const e = err as Error;
      if (e.name === 'ResourceNotFoundException') return null;
      if (e.name === 'InvalidRequestException' && /marked (for )?delet/i.test(e.message)) {
        throw new SecretError(`Secret ${name} is scheduled for deletion (an earlier cleanup): restore it (aws secretsmanager restore-secret --secret-id ${name}) or delete it for good, then re-run`);
      }
      if (isTransientAwsError(err)) throw new TransientError(`Secrets Manager GetSecretValue ${name} failed temporarily (${e.name}: ${e.message}); the step is safe to retry`, { cause: err });
      throw err;
    }
  };
  const existing = await read();
  if (existing) return { ...existing, created: false };
  const value = generate();
  registerSecretValue(value.password);
  try {
    const out = await sm.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(value), Description: options.description }));
    return { ref: out.ARN!, value, created: true };
  } catch (err) {
    if (isTransientAwsError(err)) throw new TransientError(`Secrets Manager CreateSecret ${name} failed temporarily (${(err as Error).name}); the step is safe to retry`, { cause: err });
    if ((err as Error).name !== 'ResourceExistsException') throw err;
    // A concurrent attempt created it first: its value is the one to use.
    const again = await read();
    if (!again) throw new TransientError(`Secret ${name} exists but cannot be read yet; the step is safe to retry`, { cause: err });
    return { ...again, created: false };
  }
}
