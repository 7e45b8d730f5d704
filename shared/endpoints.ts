// Where the databases are: an explicit `endpoint` in the input wins (self-managed MySQL, local runs,
// or a proxy); otherwise what the AWS steps found (the source cluster's endpoint from preflight, the
// clone's cluster endpoint, which survives a failover unlike an instance address; a run resumed after its
// cutover, which skips those steps, has them from "Read the cutover record on the target").
import { ResourceNotFoundError } from './errors.js';
import type { MigrationState } from './state.js';

export interface Endpoint {
  host: string;
  port: number;
}

export function sourceEndpoint(state: Pick<MigrationState, 'input' | 'preflight'> & Pick<Partial<MigrationState>, 'priorCutover' | 'cutoverRecord'>): Endpoint {
  const explicit = state.input.source.endpoint;
  if (explicit) return { host: explicit.host, port: explicit.port };
  const found = state.preflight?.sourceEndpoint ?? state.priorCutover?.sourceEndpoint ?? state.cutoverRecord?.sourceEndpoint;
  if (found) return found;
  throw new ResourceNotFoundError(
    'The source endpoint is unknown: give source.endpoint, or let "Run preflight checks" read it from source.clusterArn',
  );
}

export function targetEndpoint(state: Pick<MigrationState, 'input' | 'clone'> & Pick<Partial<MigrationState>, 'priorCutover' | 'cutoverRecord'>): Endpoint {
  const explicit = state.input.target.endpoint;
  if (explicit) return { host: explicit.host, port: explicit.port };
  if (state.clone?.endpoint) return { host: state.clone.endpoint, port: state.clone.port ?? 3306 };
  // A run resumed after the cutover skips the clone steps: the record step found the target.
  const recorded = state.priorCutover?.targetEndpoint ?? state.cutoverRecord?.targetEndpoint;
  if (recorded) return recorded;
  throw new ResourceNotFoundError(
    'The target endpoint is unknown: give target.endpoint, or let the clone/restore steps create the target cluster first',
  );
}

/** The address the TARGET uses to reach the source for replication (may differ from ours). */
export function sourceEndpointForTarget(state: Pick<MigrationState, 'input' | 'preflight'>): Endpoint {
  const ep = sourceEndpoint(state);
  return { host: state.input.replication.sourceHostForTarget ?? ep.host, port: ep.port };
}

/** host:port of both sides as crossmove reaches them (null while one is still unknown), for messages. */
export function sideAddresses(state: Pick<MigrationState, 'input'> & Partial<Pick<MigrationState, 'preflight' | 'clone' | 'priorCutover' | 'cutoverRecord'>>): {
  source: string | null;
  target: string | null;
} {
  const address = (f: () => Endpoint): string | null => {
    try {
      const e = f();
      return `${e.host}:${e.port}`;
    } catch {
      return null;
    }
  };
  return { source: address(() => sourceEndpoint(state)), target: address(() => targetEndpoint(state)) };
}
