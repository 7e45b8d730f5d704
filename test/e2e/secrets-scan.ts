// Collects every secret value a run knows (admin passwords, the application's password, and every
// generated password in the local secret store or in Secrets Manager) so a test can assert none leaked.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { GetSecretValueCommand, ListSecretsCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { join } from 'node:path';

export function secretValuesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...secretValuesIn(path));
    else if (name.endsWith('.json')) {
      const value = JSON.parse(readFileSync(path, 'utf8')) as { password?: string };
      if (value.password) out.push(value.password);
    }
  }
  return out;
}

export function leaks(text: string, secrets: string[]): string[] {
  return secrets.filter((s) => text.includes(s));
}

/**
 * Every password held in Secrets Manager (moto in the AWS tests): the secrets crossmove generated there
 * (the target admin of a clone, the replication user) included, so a test can assert none leaked.
 */
export async function secretValuesInSecretsManager(client: SecretsManagerClient): Promise<string[]> {
  const out: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await client.send(new ListSecretsCommand({ NextToken }));
    for (const s of page.SecretList ?? []) {
      const value = await client.send(new GetSecretValueCommand({ SecretId: s.ARN! }));
      try {
        const password = (JSON.parse(value.SecretString ?? '{}') as { password?: string }).password;
        if (password) out.push(password);
      } catch {
        if (value.SecretString) out.push(value.SecretString);
      }
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}
