// Reverse replication for fallback: after the cutover the source replicates from the target, starting
// at the target's position captured right after forward replication stopped, so every write made on
// the target reaches the old source and the application can be moved back without losing anything.
import type { ReverseReplicationResult } from '../state.js';
import type { Conn } from './connection.js';
import type { Dialect } from './dialect.js';
import { configureAndStart } from './replication.js';
import { ensureReplicationUser, reverseUserName } from './replication-user.js';
import type { MigrationInput } from '../input/validate.js';
import type { Endpoint } from '../endpoints.js';
import type { BinlogPosition } from '../state.js';

export async function startReverse(
  source: Conn,
  target: Conn,
  sourceDialect: Dialect,
  targetDialect: Dialect,
  input: MigrationInput,
  targetForSource: Endpoint,
  from: BinlogPosition,
): Promise<ReverseReplicationResult & Required<Pick<ReverseReplicationResult, 'userSecretRef'>>> {
  // The user lives on the target (the new primary); its password is stored like the forward one.
  const user = await ensureReplicationUser(target, targetDialect, {
    userName: reverseUserName(input.replication.userName),
    secretName: `${input.names.replicationSecretName}-reverse`,
    requireSsl: input.replication.ssl,
  });
  await configureAndStart(source, sourceDialect, {
    host: targetForSource.host,
    port: targetForSource.port,
    userSecretRef: user.secretRef,
    from,
    ssl: input.replication.ssl,
    sslMaterialImported: input.replication.sslMaterialImported,
  });
  return { started: true, from, skipped: false, userSecretRef: user.secretRef };
}
