// Every migration on the stack with its latest run (read-only).
import { listRuns } from './executions.js';

export interface MigrationSummary {
  migrationId: string;
  executionName: string;
  run: number;
  status: string;
  startedAt: string | null;
  stoppedAt: string | null;
}

export async function listMigrations(stateMachineArn: string, statusFilter?: string): Promise<MigrationSummary[]> {
  const latest = new Map<string, MigrationSummary>();
  for (const r of await listRuns(stateMachineArn)) {
    const seen = latest.get(r.migrationId);
    if (seen && seen.run >= r.run) continue;
    latest.set(r.migrationId, {
      migrationId: r.migrationId,
      executionName: r.name,
      run: r.run,
      status: String(r.status),
      startedAt: r.startDate ? new Date(r.startDate).toISOString() : null,
      stoppedAt: r.stopDate ? new Date(r.stopDate).toISOString() : null,
    });
  }
  return [...latest.values()]
    .filter((m) => !statusFilter || m.status === statusFilter)
    .sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? ''));
}
