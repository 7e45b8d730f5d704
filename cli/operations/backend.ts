// Where the operations commands go: the deployed HTTP API (SigV4, what operators normally use) or
// Step Functions + the approval table directly (no API needed, same shared/operations code).
import { answerApproval, type ApprovalAnswered } from '../../shared/approval/answer.js';
import { ApprovalTable } from '../../shared/approval/table.js';
import { configureDynamoClient } from '../../shared/aws/dynamodb.js';
import { listMigrations, type MigrationSummary } from '../../shared/operations/list.js';
import { configureSfnClient } from '../../shared/aws/sfn.js';
import { startMigration, type StartResult } from '../../shared/operations/start.js';
import { migrationStatus, type MigrationStatus } from '../../shared/operations/status.js';
import { callerIdentity, clientConfig, resolveAws, type AwsOptions } from './aws-options.js';
import { signedFetch } from './signed-fetch.js';

export interface OperationsBackend {
  start(input: unknown): Promise<StartResult>;
  status(migrationId: string): Promise<MigrationStatus>;
  approve(migrationId: string, reason?: string): Promise<ApprovalAnswered>;
  reject(migrationId: string, reason: string): Promise<ApprovalAnswered>;
  list(status?: string): Promise<MigrationSummary[]>;
}

/** An answer of the API or of the direct calls, with the API's error name and message. */
export class OperationsError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'OperationsError';
  }
}

class HttpBackend implements OperationsBackend {
  private readonly base: string;
  constructor(
    apiUrl: string,
    private readonly aws: AwsOptions,
  ) {
    this.base = apiUrl.replace(/\/$/, '');
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await signedFetch({ method, url: `${this.base}${path}`, body }, await resolveAws(this.aws));
    if (res.status >= 400) {
      const msg =
        res.status === 403 && !res.body?.error
          ? `Forbidden (403): your IAM identity may not call ${method} ${path} (execute-api:Invoke), or the request was signed for another region`
          : (res.body?.message ?? `HTTP ${res.status}`);
      throw new OperationsError(res.body?.error ?? `HTTP${res.status}`, msg, res.status);
    }
    return res.body as T;
  }

  start(input: unknown) {
    return this.call<StartResult>('POST', '/migrations', input);
  }
  status(id: string) {
    return this.call<MigrationStatus>('GET', `/migrations/${encodeURIComponent(id)}`);
  }
  approve(id: string, reason?: string) {
    return this.call<ApprovalAnswered>('POST', `/migrations/${encodeURIComponent(id)}/approve`, reason ? { reason } : {});
  }
  reject(id: string, reason: string) {
    return this.call<ApprovalAnswered>('POST', `/migrations/${encodeURIComponent(id)}/reject`, { reason });
  }
  async list(status?: string) {
    const q = status ? `?status=${encodeURIComponent(status)}` : '';
    return (await this.call<{ migrations: MigrationSummary[] }>('GET', `/migrations${q}`)).migrations;
  }
}

class DirectBackend implements OperationsBackend {
  private readonly table: ApprovalTable;
  constructor(
    private readonly stateMachineArn: string,
    tableName: string,
    private readonly aws: AwsOptions,
  ) {
    configureSfnClient(clientConfig(aws));
    configureDynamoClient(clientConfig(aws));
    this.table = new ApprovalTable(tableName);
  }

  private async wrap<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const e = err as Error;
      throw new OperationsError(e.name, e.message);
    }
  }

  start(input: unknown) {
    return this.wrap(() => startMigration(input, this.stateMachineArn));
  }
  status(id: string) {
    return this.wrap(() => migrationStatus(id, this.stateMachineArn, this.table));
  }
  approve(id: string, reason?: string) {
    return this.wrap(async () =>
      answerApproval({ migrationId: id, decision: 'approved', by: (await callerIdentity(this.aws)).arn, reason }, { table: this.table, stateMachineArn: this.stateMachineArn }),
    );
  }
  reject(id: string, reason: string) {
    return this.wrap(async () =>
      answerApproval({ migrationId: id, decision: 'rejected', by: (await callerIdentity(this.aws)).arn, reason }, { table: this.table, stateMachineArn: this.stateMachineArn }),
    );
  }
  list(status?: string) {
    return this.wrap(() => listMigrations(this.stateMachineArn, status?.toUpperCase()));
  }
}

export interface BackendOptions extends AwsOptions {
  /** The deployed API's URL (stack output HttpApiUrl); or env CROSSMOVE_API_URL. */
  apiUrl?: string;
  /** Direct mode: the stage whose state machine and table to use (names derived as in serverless.yml). */
  stage?: string;
  stateMachineArn?: string;
  table?: string;
}

/** --api-url (or CROSSMOVE_API_URL) -> the HTTP API; otherwise Step Functions directly for --stage. */
export async function chooseBackend(o: BackendOptions): Promise<OperationsBackend> {
  const apiUrl = o.apiUrl ?? process.env.CROSSMOVE_API_URL;
  if (apiUrl) return new HttpBackend(apiUrl, o);
  const stage = o.stage ?? process.env.CROSSMOVE_STAGE ?? 'dev';
  let arn = o.stateMachineArn ?? process.env.CROSSMOVE_STATE_MACHINE_ARN;
  if (!arn) {
    const [{ account }, { region }] = await Promise.all([callerIdentity(o), resolveAws(o)]);
    arn = `arn:aws:states:${region}:${account}:stateMachine:crossmove-migration-${stage}`;
  }
  return new DirectBackend(arn, o.table ?? process.env.CROSSMOVE_APPROVAL_TABLE ?? `crossmove-approvals-${stage}`, o);
}
