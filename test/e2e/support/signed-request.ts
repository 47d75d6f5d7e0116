/**
 * Control-plane requests signed by AWS's own signer (@smithy/signature-v4) and sent with
 * fetch, for tests that must alter a signed request or call actions the SDK cannot.
 */
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { inject } from "vitest";
import { adminCredentials, REGION, type Credentials } from "./ecr";

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytesOf(data: SourceData): Uint8Array | string {
  if (typeof data === "string") return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** SHA-256 / HMAC-SHA256 on node:crypto, in the shape the signer wants. */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash("sha256") : createHmac("sha256", bytesOf(this.secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

export interface Call {
  action: string;
  body: string;
  credentials?: Credentials;
  service?: string;
  signingDate?: Date;
  extraHeaders?: Record<string, string>;
}

/** Signs a control-plane request the way the SDK does and returns its parts. */
export async function signed(call: Call): Promise<{ url: string; headers: Record<string, string>; body: string }> {
  const url = new URL(inject("registryUrl"));
  const signer = new SignatureV4({
    service: call.service ?? "ecr",
    region: REGION,
    credentials: call.credentials ?? adminCredentials(),
    sha256: NodeSha256,
  });
  const request = await signer.sign(
    {
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: "/",
      query: {},
      headers: {
        host: url.host,
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": `AmazonEC2ContainerRegistry_V20150921.${call.action}`,
        ...call.extraHeaders,
      },
      body: call.body,
    },
    { signingDate: call.signingDate ?? new Date() },
  );
  return { url: url.origin + "/", headers: request.headers, body: call.body };
}

export async function send(parts: {
  url: string;
  headers: Record<string, string>;
  body: string;
}): Promise<{ status: number; type: string; message: string; body: Record<string, unknown> }> {
  const headers = { ...parts.headers };
  delete headers.host;
  const response = await fetch(parts.url, { method: "POST", headers, body: parts.body });
  const body = (await response.json()) as Record<string, unknown>;
  const text = (value: unknown): string => (typeof value === "string" ? value : "");
  return { status: response.status, type: text(body.__type), message: text(body.message), body };
}
