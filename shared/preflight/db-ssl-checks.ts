// Preflight: encrypted replication (replication.ssl, the default). Each replica encrypts the way its
// engine documents: Aurora MySQL with ssl_encryption=1 of mysql.rds_set_external_master/_source (2.x;
// 3.x with imported client material) or mysql.rds_set_binlog_source_ssl(1) (3.06+, no material), the
// others with SOURCE_SSL/MASTER_SSL. None of them verifies the source's certificate (the RDS procedures
// do not support SSL_VERIFY_SERVER_CERT), so the check warns about it instead of passing silently.
// Checked for the target (forward replication) and, with reverse replication, for the source (it
// replicates from the target after the cutover). "Start replication" refuses the same way
// (shared/mysql/steps/start-replication.ts), but here it fails before anything changed.
import type { MigrationInput } from '../input/validate.js';
import type { Dialect } from '../mysql/dialect.js';
import { fail, pass, warn, type CheckOutcome } from './checks.js';

export function sslChecks(input: MigrationInput, source: Dialect, target: Dialect): CheckOutcome[] {
  const id = 'replication-ssl';
  if (!input.replication.ssl) {
    return [pass(id, 'replication.ssl is false: replication runs in plain text (binlogs, every row change, cross the network unencrypted); keep it on a private network path.')];
  }
  const sides: [string, Dialect][] = [['target', target]];
  if (input.cutover.reverseReplication) sides.push(['source (reverse replication)', source]);
  const materialImported = input.replication.sslMaterialImported;
  const results = sides.map(([side, d]) => ({ side: `${side} (${d.engine})`, ...d.replicationSsl({ materialImported }) }));
  const refused = results.filter((r) => !r.possible);
  if (refused.length) {
    return [fail(id, refused.map((r) => `replication.ssl is true but on the ${r.side} ${r.how}.`).join(' '), [...new Set(refused.map((r) => r.fix))].join(' '))];
  }
  return [
    warn(
      id,
      `Replication will be encrypted: ${results.map((r) => `${r.side}: ${r.how}`).join('; ')}. Without certificate verification a machine on the network path could still read it.`,
      'Keep the replication path private (same VPC, VPC peering, Transit Gateway or PrivateLink; no public endpoint): the replicas cannot verify the source certificate, whatever crossmove asks.',
    ),
  ];
}
