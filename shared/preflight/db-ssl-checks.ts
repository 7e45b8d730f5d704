// Preflight: encrypted replication (replication.ssl) is only possible where the engine can do it:
// Aurora MySQL 2 cannot (ssl_encryption is not implemented), Aurora MySQL 3 only after
// mysql.rds_import_binlog_ssl_material. Checked for the target (forward replication) and, when reverse
// replication is on, for the source (it replicates from the target after the cutover). The same rule
// refuses "Start replication" (shared/mysql/steps/start-replication.ts), but here it fails before
// anything changed.
import type { Engine } from '../input/schema.js';
import type { MigrationInput } from '../input/validate.js';
import { dialectFor } from '../mysql/dialect.js';
import { checkSslSupport } from '../mysql/steps/start-replication.js';
import type { MigrationState } from '../state.js';
import { fail, pass, type CheckOutcome } from './checks.js';

export function sslChecks(input: MigrationInput, sourceEngine: Engine, targetEngine: Engine): CheckOutcome[] {
  if (!input.replication.ssl) return [pass('replication-ssl', 'replication.ssl is false: replication is not encrypted by crossmove (keep it on a private network path).')];
  const sides: [string, Engine][] = [['target', targetEngine]];
  if (input.cutover.reverseReplication) sides.push(['source (reverse replication)', sourceEngine]);
  const problems: string[] = [];
  for (const [side, engine] of sides) {
    try {
      checkSslSupport({ input } as MigrationState, dialectFor(engine));
    } catch (err) {
      problems.push(`${side} (${engine}): ${(err as Error).message}`);
    }
  }
  if (!problems.length) return [pass('replication-ssl', `Encrypted replication is possible on ${sides.map(([s, e]) => `${s} (${e})`).join(' and ')}.`)];
  return [fail('replication-ssl', problems.join(' '), 'Set replication.ssl to false, or import the SSL material on Aurora MySQL 3 and set replication.sslMaterialImported to true.')];
}
