// Connections and dialects of both sides of a migration, opened for one step and closed after it.
import type { MigrationState } from '../../state.js';
import { closeQuietly, type Conn } from '../connection.js';
import { connectSource, connectTarget } from '../connect.js';
import { resolveDialect, type Dialect } from '../dialect.js';

export interface Side {
  conn: Conn;
  dialect: Dialect;
}

export async function openSource(state: MigrationState): Promise<Side> {
  const conn = await connectSource(state);
  try {
    return { conn, dialect: await resolveDialect(conn, state.input.source.engine) };
  } catch (err) {
    await closeQuietly(conn);
    throw err;
  }
}

export async function openTarget(state: MigrationState): Promise<Side> {
  const conn = await connectTarget(state);
  try {
    return { conn, dialect: await resolveDialect(conn, state.input.target.engine) };
  } catch (err) {
    await closeQuietly(conn);
    throw err;
  }
}

export async function withSides<T>(
  state: MigrationState,
  which: { source?: boolean; target?: boolean },
  fn: (s: { source: Side | null; target: Side | null }) => Promise<T>,
): Promise<T> {
  let source: Side | null = null;
  let target: Side | null = null;
  try {
    if (which.target) target = await openTarget(state);
    if (which.source) source = await openSource(state);
    return await fn({ source, target });
  } finally {
    await closeQuietly(source?.conn);
    await closeQuietly(target?.conn);
  }
}
