/**
 * SigV4 verification of control-plane requests.
 *
 * The signing arithmetic is AWS's own (`@smithy/signature-v4`, the signer inside the AWS SDK
 * for JavaScript v3): the canonical request is rebuilt from the received request (method,
 * path, query, exactly the headers the client listed in SignedHeaders, and the SHA-256 of the
 * body, since the AWS CLI sends no X-Amz-Content-Sha256), signed again with the caller's
 * secret, and the two signatures are compared in constant time. Using the SDK's signer means
 * URI encoding, header folding and query sorting match what the clients do byte for byte.
 *
 * Checked here: the header's shape, a credential scope for the service the request is for
 * (`ecr`, or `ecr-public` for ECR Public's actions: the AWS clients sign with the API's own
 * signing name) ending in `aws4_request` whose date is the request's, X-Amz-Date within 15
 * minutes of now, `host` and `x-amz-date` among the signed headers, a declared
 * X-Amz-Content-Sha256 equal to the body's hash, then the signature. Which secret belongs to
 * the access key is the caller's lookup (`findSecret`); an unknown key's signature is computed
 * all the same (with a stand-in secret) before it is refused, so unknown and known key ids cost
 * the same work.
 */
import { SignatureV4 } from "@smithy/signature-v4";
import type { Checksum, HttpRequest, SourceData } from "@smithy/types";
import { countCredentialWork } from "../bench/counters";
import { toHex } from "../bytes";
import { constantTimeEqual } from "../auth/secrets";
import { EcrError, RegistryError } from "../errors";

export const SIGV4_SERVICE = "ecr";
/** ECR Public's signing name (its API model's `signingName`). */
export const SIGV4_PUBLIC_SERVICE = "ecr-public";
const ALGORITHM = "AWS4-HMAC-SHA256";
const MAX_SKEW_MS = 15 * 60 * 1000;
/** What an unknown access key's signature is computed with (the shape of a real secret). */
const UNKNOWN_KEY_SECRET = "0".repeat(40);

export interface SignedRequest {
  method: string;
  url: URL;
  headers: Headers;
  body: Uint8Array;
  /** The service the credential scope must name; SIGV4_SERVICE when absent. */
  service?: string;
}

export interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

function incomplete(message: string): RegistryError {
  return new RegistryError(EcrError.IncompleteSignatureException, message);
}

function invalid(message: string): RegistryError {
  return new RegistryError(EcrError.InvalidSignatureException, message);
}

/** Parses `AWS4-HMAC-SHA256 Credential=<id>/<date>/<region>/<service>/aws4_request, SignedHeaders=..., Signature=...`. */
export function parseAuthorization(value: string | null): ParsedAuthorization {
  if (value === null)
    throw new RegistryError(EcrError.MissingAuthenticationTokenException, "Missing Authentication Token");
  const space = value.indexOf(" ");
  if (space < 0 || value.slice(0, space) !== ALGORITHM) throw incomplete(`Authorization must use ${ALGORITHM}`);
  const fields = new Map<string, string>();
  for (const part of value.slice(space + 1).split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) throw incomplete(`Authorization header field "${part.trim()}" is not key=value`);
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get("Credential");
  const signedHeaders = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (!credential || !signedHeaders || !signature) {
    throw incomplete("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'");
  }
  const scope = credential.split("/");
  if (scope.length !== 5 || scope.some((piece) => piece === "")) {
    throw incomplete("Credential must be <access key id>/<date>/<region>/<service>/aws4_request");
  }
  const [accessKeyId, date, region, service, terminator] = scope as [string, string, string, string, string];
  if (terminator !== "aws4_request")
    throw invalid("Credential should be scoped with a valid terminator: 'aws4_request'");
  if (!/^\d{8}$/.test(date)) throw invalid("Credential date must be YYYYMMDD");
  if (!/^[0-9a-f]{64}$/.test(signature)) throw invalid("Signature must be 64 hex digits");
  return { accessKeyId, date, region, service, signedHeaders: signedHeaders.split(";"), signature };
}

/** `20261123T101500Z` → epoch ms, or null. */
export function parseAmzDate(text: string | null): number | null {
  const match = text === null ? null : /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * Verifies the request's signature. `findSecret` returns the secret of an access key, or
 * null when the key is unknown. Returns the access key id that signed the request.
 */
export async function verifySigV4(
  request: SignedRequest,
  findSecret: (accessKeyId: string) => Promise<string | null>,
  now: number = Date.now(),
): Promise<string> {
  const auth = parseAuthorization(request.headers.get("Authorization"));
  const service = request.service ?? SIGV4_SERVICE;
  if (auth.service !== service) throw invalid(`Credential should be scoped to correct service: '${service}'.`);
  const signed = new Set(auth.signedHeaders);
  if (!signed.has("host")) throw invalid("'Host' must be a signed header");
  const amzDate = request.headers.get("X-Amz-Date");
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === null || !signed.has("x-amz-date"))
    throw incomplete("a signed X-Amz-Date header (YYYYMMDDTHHMMSSZ) is required");
  if (amzDate?.slice(0, 8) !== auth.date) throw invalid("Credential date does not match X-Amz-Date");
  if (Math.abs(now - signedAt) > MAX_SKEW_MS) {
    throw invalid(
      `Signature expired: ${amzDate} is not within 15 minutes of the server time ${new Date(now).toISOString()}`,
    );
  }
  const bodyHash = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", request.body)));
  const declaredHash = request.headers.get("X-Amz-Content-Sha256");
  if (declaredHash !== null && declaredHash !== bodyHash) throw invalid("X-Amz-Content-Sha256 does not match the body");

  // Null-prototype bags: header and query names come from the request, and on a plain object
  // `__proto__` would set the prototype and `constructor` would read Object's.
  const headers = Object.create(null) as Record<string, string>;
  for (const name of auth.signedHeaders) {
    const value = request.headers.get(name);
    if (value === null) throw invalid(`signed header "${name}" is missing from the request`);
    headers[name] = value;
  }

  const secret = await findSecret(auth.accessKeyId);
  const query = Object.create(null) as Record<string, string | string[]>;
  for (const [key, value] of request.url.searchParams) {
    const existing = query[key];
    query[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  const toSign: HttpRequest = {
    method: request.method,
    protocol: request.url.protocol,
    hostname: request.url.hostname,
    path: decodeURIComponent(request.url.pathname),
    query,
    headers,
    body: request.body,
  };
  const signer = new SignatureV4({
    service: auth.service,
    region: auth.region,
    // An unknown access key is signed for all the same, with a stand-in secret: it costs what a
    // wrong signature costs, so the time taken does not tell which key ids exist.
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey: secret ?? UNKNOWN_KEY_SECRET },
    sha256: WebCryptoSha256,
    applyChecksum: false,
  });
  countCredentialWork("signatureChecks");
  const resigned = await signer.sign(toSign, { signingDate: new Date(signedAt), signableHeaders: signed });
  const expected =
    /Signature=([0-9a-f]{64})/.exec(
      String(resigned.headers.authorization ?? resigned.headers.Authorization ?? ""),
    )?.[1] ?? "";
  const encoder = new TextEncoder();
  const matches = constantTimeEqual(encoder.encode(expected), encoder.encode(auth.signature));
  if (secret === null) throw new RegistryError(EcrError.UnrecognizedClientException);
  if (!matches) {
    throw invalid(
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
    );
  }
  return auth.accessKeyId;
}

/** SHA-256 and HMAC-SHA256 on WebCrypto, in the shape the signer wants (tests sign with it too). */
export class WebCryptoSha256 implements Checksum {
  private chunks: Uint8Array[] = [];

  constructor(private readonly secret?: SourceData) {}

  update(data: Uint8Array): void {
    this.chunks.push(data);
  }

  async digest(): Promise<Uint8Array> {
    const total = this.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const data = new Uint8Array(total);
    let at = 0;
    for (const chunk of this.chunks) {
      data.set(chunk, at);
      at += chunk.length;
    }
    if (this.secret === undefined) return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    const key = await crypto.subtle.importKey("raw", toBytes(this.secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    return new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
  }

  reset(): void {
    this.chunks = [];
  }
}

function toBytes(data: SourceData): Uint8Array {
  if (typeof data === "string") return new TextEncoder().encode(data);
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}
