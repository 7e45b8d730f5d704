// The operations commands end to end against moto: through the HTTP API (SigV4-signed requests to an
// in-process stand-in for API Gateway that re-computes the signature like the IAM authoriser and
// routes to the real handlers), and directly against Step Functions + the approval table.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateStateMachineCommand, DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { handler as apiApprove } from '../../handlers/api-approve.js';
import { handler as apiList } from '../../handlers/api-list.js';
import { handler as apiReject } from '../../handlers/api-reject.js';
import { handler as apiStart } from '../../handlers/api-start.js';
import { handler as apiStatus } from '../../handlers/api-status.js';
import { approveCommand, listCommand, rejectCommand, startCommand, statusCommand, type CommandIo } from '../../cli/operations/commands.js';
import { signRequest } from '../../cli/operations/signed-fetch.js';
import { registerOperationsCommands } from '../../cli/operations/register.js';
import { Command } from 'commander';
import { setDynamoClient } from '../../shared/aws/dynamodb.js';
import { setSfnClient } from '../../shared/aws/sfn.js';
import { apiEvent } from '../support/api-event.js';
import { startMoto, type MotoServer } from '../support/moto-ops.js';
import { gateMachine, migrationInput, TABLE } from '../support/ops-fixtures.js';

const CREDS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
let moto: MotoServer;
let sfn: SFNClient;
let api: Server;
let apiUrl: string;
let stateMachineArn: string;
const seenAuth: string[] = [];

const ROUTES: [string, RegExp, (e: any, c?: any) => Promise<any>][] = [
  ['POST /migrations', /^\/migrations$/, apiStart],
  ['GET /migrations', /^\/migrations$/, apiList],
  ['GET /migrations/{migrationId}', /^\/migrations\/([^/]+)$/, apiStatus],
  ['POST /migrations/{migrationId}/approve', /^\/migrations\/([^/]+)\/approve$/, apiApprove],
  ['POST /migrations/{migrationId}/reject', /^\/migrations\/([^/]+)\/reject$/, apiReject],
];

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// What API Gateway's IAM authoriser does, as far as a test can: re-sign the received request with the
// caller's key and the request's own date; a different signature is a 403.
async function verifySignature(req: IncomingMessage, body: string, url: URL): Promise<boolean> {
  const auth = String(req.headers.authorization ?? '');
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/execute-api\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m || m[1] !== CREDS.accessKeyId) return false;
  const signedHeaders = m[4]!.split(';');
  const headers: Record<string, string> = {};
  for (const h of signedHeaders) headers[h] = String(req.headers[h] ?? '');
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => (query[k] = v));
  const date = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
  const again = await new SignatureV4({ service: 'execute-api', region: m[3]!, credentials: CREDS, sha256: Sha256 }).sign(
    { method: req.method!, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query, headers, body: body || undefined },
    { signingDate: date },
  );
  return again.headers.authorization === auth;
}

beforeAll(async () => {
  moto = await startMoto({ executeStateMachines: true });
  sfn = new SFNClient(moto.clientConfig());
  setSfnClient(sfn);
  setDynamoClient(new DynamoDBClient(moto.clientConfig()));
  process.env.CROSSMOVE_APPROVAL_TABLE = TABLE;
  api = createServer(async (req, res) => {
    const url = new URL(req.url!, `http://${req.headers.host}`);
    const body = await readBody(req);
    seenAuth.push(String(req.headers.authorization));
    if (!(await verifySignature(req, body, url))) {
      res.writeHead(403, { 'content-type': 'application/json' }).end('{"message":"Forbidden"}');
      return;
    }
    const route = ROUTES.find(([key, re]) => key.startsWith(`${req.method} `) && re.test(url.pathname));
    if (!route) {
      res.writeHead(404).end('{"message":"Not Found"}');
      return;
    }
    const id = route[1].exec(url.pathname)![1];
    const query = Object.fromEntries(url.searchParams);
    const event = apiEvent(route[0], { migrationId: id ? decodeURIComponent(id) : undefined, rawBody: body || undefined, query: Object.keys(query).length ? query : undefined });
    const answer = await route[2](event);
    res.writeHead(answer.statusCode, answer.headers).end(answer.body);
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  apiUrl = `http://127.0.0.1:${(api.address() as { port: number }).port}`;
});

afterAll(async () => {
  setSfnClient(undefined);
  setDynamoClient(undefined);
  await new Promise((r) => api?.close(r));
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  await new DynamoDBClient(moto.clientConfig()).send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'migrationId', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'migrationId', AttributeType: 'S' }],
    }),
  );
  stateMachineArn = (
    await sfn.send(new CreateStateMachineCommand({ name: 'crossmove-migration-test', definition: JSON.stringify(gateMachine()), roleArn: 'arn:aws:iam::123456789012:role/sfn' }))
  ).stateMachineArn!;
  process.env.CROSSMOVE_STATE_MACHINE_ARN = stateMachineArn;
});

function capture(): CommandIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t) };
}

async function untilStatus(migrationId: string, phase: string, opts: object, approval?: string) {
  for (let i = 0; i < 60; i++) {
    const io = capture();
    await statusCommand(migrationId, { ...opts, json: true }, io);
    const s = io.stdout[0] ? JSON.parse(io.stdout[0]) : undefined;
    if (s?.phase === phase && (!approval || s.approval?.status === approval)) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${migrationId} never reached ${phase}`);
}

describe('crossmove start/status/approve/reject/list through the signed HTTP API', () => {
  const http = () => ({ apiUrl, region: 'us-east-1' });

  it('starts from a YAML file, shows the waiting gate, approves, and the migration completes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crossmove-cli-'));
    const file = join(dir, 'input.yaml');
    writeFileSync(file, stringify(migrationInput('orders-20')));

    const started = capture();
    expect(await startCommand(file, http(), started)).toBe(0);
    expect(started.stdout[0]).toContain('Started orders-20 (execution orders-20, run 1)');
    expect(seenAuth.at(-1)).toMatch(/^AWS4-HMAC-SHA256 Credential=testing\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=.*host.*x-amz-date/);

    await untilStatus('orders-20', 'awaiting-approval', http(), 'pending');
    const text = capture();
    expect(await statusCommand('orders-20', http(), text)).toBe(0);
    expect(text.stdout[0]).toContain('awaiting-approval');
    expect(text.stdout[0]).toContain('waiting for cutover approval since');
    expect(text.stdout[0]).toContain('approve: crossmove approve orders-20');

    const again = capture();
    expect(await startCommand(file, http(), again)).toBe(1);
    expect(again.stderr[0]).toMatch(/^MigrationAlreadyRunningError: Migration orders-20 is already running/);

    const approved = capture();
    expect(await approveCommand('orders-20', http(), approved)).toBe(0);
    expect(approved.stdout[0]).toContain('Cutover of orders-20 approved by arn:aws:iam::123456789012:user/alice');
    const done = await untilStatus('orders-20', 'succeeded', http());
    expect(done.approval.status).toBe('approved');

    // Watch mode stops by itself once the execution ended.
    const watched = capture();
    expect(await statusCommand('orders-20', { ...http(), watch: true, intervalSeconds: 0 }, watched)).toBe(0);
    expect(watched.stdout).toHaveLength(1);

    const listed = capture();
    expect(await listCommand({ ...http(), json: true }, listed)).toBe(0);
    expect(JSON.parse(listed.stdout[0]!)).toEqual([expect.objectContaining({ migrationId: 'orders-20', status: 'SUCCEEDED' })]);
  });

  it('reject needs --reason; service refusals exit 1 with the API message', async () => {
    const noReason = capture();
    expect(await rejectCommand('orders-21', { apiUrl, region: 'us-east-1' }, noReason)).toBe(2);
    expect(noReason.stderr[0]).toContain('--reason');
    const unknown = capture();
    expect(await rejectCommand('orders-21', { apiUrl, region: 'us-east-1', reason: 'no', json: true }, unknown)).toBe(1);
    expect(JSON.parse(unknown.stderr[0]!)).toEqual({ error: 'MigrationNotFoundError', message: expect.stringContaining('No migration "orders-21"') });
  });

  it('a request signed for another key is refused by the authoriser stand-in (the check can fail)', async () => {
    const s = await signRequest({ method: 'GET', url: `${apiUrl}/migrations` }, { region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'wrong' } });
    const { host: _h, ...headers } = s.headers;
    expect((await fetch(s.url, { headers })).status).toBe(403);
  });
});

describe('crossmove commands directly against Step Functions (no API)', () => {
  it('status and reject with --state-machine-arn/--table, the caller taken from STS', async () => {
    const direct = { stateMachineArn, table: TABLE, endpoint: moto.endpoint, region: 'us-east-1' };
    const started = capture();
    const dir = mkdtempSync(join(tmpdir(), 'crossmove-cli-'));
    writeFileSync(join(dir, 'input.json'), JSON.stringify(migrationInput('orders-22')));
    expect(await startCommand(join(dir, 'input.json'), direct, started)).toBe(0);
    const waiting = await untilStatus('orders-22', 'awaiting-approval', direct, 'pending');
    expect(waiting.approval.status).toBe('pending');

    const rejected = capture();
    expect(await rejectCommand('orders-22', { ...direct, reason: 'not tonight' }, rejected)).toBe(0);
    expect(rejected.stdout[0]).toMatch(/Cutover of orders-22 rejected by arn:aws:(iam|sts)::123456789012:\S+ at .* \(not tonight\)/);
    const exec = (await sfn.send(new DescribeExecutionCommand({ executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:orders-22` })));
    for (let i = 0; i < 50 && exec.status === 'RUNNING'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      Object.assign(exec, await sfn.send(new DescribeExecutionCommand({ executionArn: exec.executionArn })));
    }
    expect(exec).toMatchObject({ status: 'FAILED', error: 'ApprovalRejected' });
  });
});

describe('commander wiring (registerOperationsCommands)', () => {
  it('parses the commands and their options; list through the API prints the migrations', async () => {
    const program = new Command('crossmove').exitOverride();
    registerOperationsCommands(program);
    expect(program.commands.map((c) => c.name())).toEqual(['start', 'status', 'approve', 'reject', 'list']);
    const lines: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((t: string) => (lines.push(String(t)), true)) as typeof process.stdout.write;
    try {
      await program.parseAsync(['list', '--api-url', apiUrl, '--region', 'us-east-1', '--json'], { from: 'user' });
    } finally {
      process.stdout.write = write;
    }
    expect(JSON.parse(lines.join(''))).toEqual([]);
    expect(process.exitCode ?? 0).toBe(0);
    const errors: string[] = [];
    const writeErr = process.stderr.write;
    process.stderr.write = ((t: string) => (errors.push(String(t)), true)) as typeof process.stderr.write;
    try {
      await program.parseAsync(['reject', 'orders-1', '--api-url', apiUrl], { from: 'user' });
    } finally {
      process.stderr.write = writeErr;
    }
    expect(process.exitCode).toBe(2);
    expect(errors.join('')).toContain('--reason');
    process.exitCode = 0;
  });
});
