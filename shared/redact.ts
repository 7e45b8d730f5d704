// Every secret value this process has read or generated is registered here, and every message that
// leaves a handler (log lines, error messages, CLI output) passes through redact(), so a password
// that slipped into a MySQL error text or an SDK message is masked before anyone sees it.
const secretValues = new Set<string>();

export function registerSecretValue(value: string | undefined): void {
  // Very short values would mask ordinary words; real passwords here are long.
  if (value && value.length >= 4) secretValues.add(value);
}

export function redact(text: string): string {
  let out = text;
  for (const value of secretValues) out = out.split(value).join('********');
  // Belt and braces: mask anything shaped like IDENTIFIED BY '...' or PASSWORD = '...'.
  return out
    .replace(/(IDENTIFIED\s+BY\s+)'(?:[^'\\]|\\.|'')*'/gi, "$1'********'")
    .replace(/((?:MASTER|SOURCE)_PASSWORD\s*=\s*)'(?:[^'\\]|\\.|'')*'/gi, "$1'********'");
}

/** Redacts every string inside a JSON-serialisable value (for payloads and reports). */
export function redactDeep<T>(value: T): T {
  return JSON.parse(redact(JSON.stringify(value))) as T;
}

/** For tests only. */
export function knownSecretCount(): number {
  return secretValues.size;
}
