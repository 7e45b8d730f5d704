// Local runs keep crossmove's state and the secrets it generates on disk (.crossmove/ and
// .crossmove/secrets/ by default). Their folders are the owner's alone (0700), as their files are
// (0600): a folder others can list shows which migrations ran and which secrets exist, and one created
// by an older crossmove (0755) is tightened the next time it is used.
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

/**
 * Creates `dir` and any missing parents with mode 0700, then sets 0700 on every folder from `ownRoot`
 * (crossmove's own folder: the state folder, or the secret store given by CROSSMOVE_SECRET_STORE) down
 * to `dir`. Folders above `ownRoot` are never touched.
 */
export function ensurePrivateDir(dir: string, ownRoot: string): void {
  const leaf = resolve(dir);
  const root = resolve(ownRoot);
  if (relative(root, leaf).startsWith('..')) throw new Error(`${leaf} is not inside ${root}`);
  mkdirSync(leaf, { recursive: true, mode: 0o700 });
  for (let current = leaf; ; current = dirname(current)) {
    chmodSync(current, 0o700);
    if (current === root) break;
  }
}
