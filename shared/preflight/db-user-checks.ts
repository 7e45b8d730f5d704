// Preflight: application users and grants. Aurora MySQL 3's binlog replication skips the mysql schema,
// so CREATE USER / GRANT do not reach the target: users that exist only on the source are listed now
// (never their password hashes), so the operator creates them or sets cutover.applyMissingGrants.
import type { MigrationInput } from '../input/validate.js';
import type { Conn } from '../mysql/connection.js';
import { applicationGrants } from '../mysql/grants.js';
import { pass, warn, type CheckOutcome } from './checks.js';

export async function userChecks(input: MigrationInput, source: Conn, target: Conn | null, crossmoveUsers: string[]): Promise<CheckOutcome[]> {
  const id = 'db-users';
  const onSource = await applicationGrants(source, crossmoveUsers);
  if (!target) {
    return [
      pass(
        id,
        `${onSource.size} application user(s) exist on the source; the ${input.initialLoad.method} copies them. Users or grants created or changed on the source after it do not replicate on Aurora MySQL 3: the cutover compares them${input.cutover.applyMissingGrants ? ' and applies what is missing' : ''}.`,
      ),
    ];
  }
  const onTarget = await applicationGrants(target, crossmoveUsers);
  const missing = [...onSource.keys()].filter((a) => !onTarget.has(a));
  const lacking = [...onSource.values()].filter((u) => onTarget.has(u.account) && u.grants.some((g) => !onTarget.get(u.account)!.grants.includes(g))).map((u) => u.account);
  if (!missing.length && !lacking.length) return [pass(id, `All ${onSource.size} application user(s) of the source exist on the target with the same grants.`)];
  const parts = [
    ...(missing.length ? [`exist only on the source: ${missing.join(', ')}`] : []),
    ...(lacking.length ? [`have fewer grants on the target: ${lacking.join(', ')}`] : []),
  ];
  return [
    warn(
      id,
      `Application users that will not replicate (Aurora MySQL 3 skips CREATE USER/GRANT) ${parts.join('; ')}.`,
      input.cutover.applyMissingGrants
        ? 'cutover.applyMissingGrants is on: the cutover creates them on the target (with their password hashes).'
        : 'Create them on the target (SHOW CREATE USER / SHOW GRANTS on the source), or set cutover.applyMissingGrants to true.',
    ),
  ];
}
