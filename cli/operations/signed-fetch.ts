// HTTP requests to the deployed API, signed with SigV4 for API Gateway's IAM authoriser
// (service execute-api). @smithy/signature-v4 is the signer every AWS SDK v3 client uses.
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@aws-sdk/types';

// The hash SignatureV4 needs (sha256 and HMAC-sha256), from node:crypto.
type SourceData = string | ArrayBuffer | ArrayBufferView;
const toBuffer = (d: SourceData): Buffer =>
  typeof d === 'string' ? Buffer.from(d) : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d);

class NodeSha256 {
  private h: Hash | Hmac;
  private readonly key?: Buffer;
  constructor(secret?: SourceData) {
    this.key = secret === undefined ? undefined : toBuffer(secret);
    this.h = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.key === undefined ? createHash('sha256') : createHmac('sha256', this.key);
  }
  update(data: SourceData): void {
    this.h.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {
    this.h = this.fresh();
  }
}

export interface SignedRequest {
  method: 'GET' | 'POST';
  url: string;
  body?: unknown;
}

export async function signRequest(
  req: SignedRequest,
  aws: { credentials: AwsCredentialIdentity; region: string },
  now?: Date,
): Promise<{ url: string; method: string; headers: Record<string, string>; body?: string }> {
  const url = new URL(req.url);
  const body = req.body === undefined ? undefined : JSON.stringify(req.body);
  const signer = new SignatureV4({ service: 'execute-api', region: aws.region, credentials: aws.credentials, sha256: NodeSha256 });
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => (query[k] = v));
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query,
      headers: {
        host: url.host,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body,
    },
    now ? { signingDate: now } : undefined,
  );
  return { url: url.toString(), method: req.method, headers: signed.headers as Record<string, string>, body };
}

export async function signedFetch(req: SignedRequest, aws: { credentials: AwsCredentialIdentity; region: string }): Promise<{ status: number; body: any }> {
  const s = await signRequest(req, aws);
  const { host: _host, ...headers } = s.headers;
  const res = await fetch(s.url, { method: s.method, headers, body: s.body });
  const text = await res.text();
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = { message: text.slice(0, 500) };
  }
  return { status: res.status, body: parsed };
}
