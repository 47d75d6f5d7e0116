/**
 * Helpers for tests that drive the Worker through its HTTP interface inside workerd.
 */
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";

export const ORIGIN = "http://registry.test";

/** `Authorization` value of the bootstrap admin's access key. */
export function adminAuthorization(): string {
  return basicAuthorization(env.REGISTRY_ADMIN_ACCESS_KEY_ID, env.REGISTRY_ADMIN_SECRET_ACCESS_KEY);
}

export function basicAuthorization(user: string, password: string): string {
  return `Basic ${btoa(`${user}:${password}`)}`;
}

/**
 * Calls the Worker. Requests carry the bootstrap admin's credentials unless they set their
 * own Authorization header, or `anonymous` is true.
 */
export async function call(method: string, path: string, init: RequestInit & { anonymous?: boolean } = {}): Promise<Response> {
  const { anonymous, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (!anonymous && !headers.has("Authorization")) headers.set("Authorization", adminAuthorization());
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, { ...rest, headers, method }));
}

export function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let at = 0; at < length; at += 65536) crypto.getRandomValues(out.subarray(at, Math.min(at + 65536, length)));
  return out;
}

export async function digestOf(bytes: Uint8Array, algorithm: "sha256" | "sha512" = "sha256"): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest(algorithm === "sha256" ? "SHA-256" : "SHA-512", bytes));
  return `${algorithm}:${[...hash].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export interface ErrorBody {
  errors: { code: string; message: string; detail: unknown }[];
}

/** Asserts an OCI error response and returns its body. */
export async function expectError(response: Response, status: number, code: string): Promise<ErrorBody> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  const body = JSON.parse(text) as ErrorBody;
  expect(body.errors[0]?.code, text).toBe(code);
  return body;
}

/** Pushes a blob with a monolithic POST and returns its digest. */
export async function pushBlob(name: string, bytes: Uint8Array): Promise<string> {
  const digest = await digestOf(bytes);
  const response = await call("POST", `/v2/${name}/blobs/uploads/?digest=${digest}`, { body: bytes });
  expect(response.status, await response.clone().text()).toBe(201);
  return digest;
}

export async function startSession(name: string, query = ""): Promise<string> {
  const response = await call("POST", `/v2/${name}/blobs/uploads/${query}`);
  expect(response.status, await response.clone().text()).toBe(202);
  const location = response.headers.get("Location");
  expect(location).toMatch(new RegExp(`^/v2/${name}/blobs/uploads/[0-9a-f-]{36}$`));
  return location!;
}

/** The spec's media types and the empty descriptor, spelled out as clients send them. */
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const EMPTY_CONFIG = bytesOf("{}");
export const EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

/** Pushes an OCI image manifest over freshly pushed blobs; returns its digest and bytes. */
export async function pushImage(
  name: string,
  reference: string,
  options: { layers?: Uint8Array[]; extra?: Record<string, unknown> } = {},
): Promise<{ digest: string; bytes: Uint8Array; manifest: Record<string, unknown> }> {
  const config = bytesOf(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }));
  const configDigest = await pushBlob(name, config);
  const layers = options.layers ?? [randomBytes(100)];
  const layerDescriptors = [];
  for (const layer of layers) {
    layerDescriptors.push({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: await pushBlob(name, layer), size: layer.length });
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.length },
    layers: layerDescriptors,
    ...options.extra,
  };
  const bytes = bytesOf(JSON.stringify(manifest));
  const response = await putManifestBytes(name, reference, bytes);
  expect(response.status, await response.clone().text()).toBe(201);
  return { digest: await digestOf(bytes), bytes, manifest };
}

export async function putManifestBytes(
  name: string,
  reference: string,
  bytes: Uint8Array,
  mediaType = "application/vnd.oci.image.manifest.v1+json",
): Promise<Response> {
  return call("PUT", `/v2/${name}/manifests/${reference}`, { body: bytes, headers: { "Content-Type": mediaType } });
}

export async function setImmutable(name: string): Promise<void> {
  const response = await call("PUT", `/admin/repositories/${name}`, {
    body: JSON.stringify({ imageTagMutability: "IMMUTABLE" }),
    headers: { "Content-Type": "application/json" },
  });
  expect(response.status, await response.clone().text()).toBe(200);
}
