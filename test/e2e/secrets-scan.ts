// Collects every secret value a local run knows (admin passwords, the application's password, and
// every generated password in the local secret store) so a test can assert none leaked.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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
