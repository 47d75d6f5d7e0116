/**
 * Helpers for tests that drive the Worker through its HTTP interface inside workerd.
 */
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { ecrCall } from "./ecr";
import { ORIGIN } from "./origin";

export { ORIGIN };

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
export async function call(
  method: string,
  path: string,
  init: RequestInit & { anonymous?: boolean } = {},
): Promise<Response> {
  const { anonymous, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (!anonymous && !headers.has("Authorization")) headers.set("Authorization", adminAuthorization());
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, { redirect: "manual", ...rest, headers, method }));
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
  const config = bytesOf(
    JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }),
  );
  const configDigest = await pushBlob(name, config);
  const layers = options.layers ?? [randomBytes(100)];
  const layerDescriptors = [];
  for (const layer of layers) {
    layerDescriptors.push({
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
      digest: await pushBlob(name, layer),
      size: layer.length,
    });
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

/** Creates the repository IMMUTABLE, or makes it so (ECR API). */
export async function setImmutable(name: string): Promise<void> {
  await createRepository(name, { imageTagMutability: "IMMUTABLE" });
}

// ---- Authentication and authorization helpers ----------------------------------------------

/** The token service's name (audience), and the account and region of the test bindings. */
export const SERVICE = "edge-registry";
export const ACCOUNT_ID = "123456789012";

export function userArnOf(name: string): string {
  return `arn:aws:iam::${ACCOUNT_ID}:user/${name}`;
}

export function repositoryArnOf(name: string): string {
  return `arn:aws:ecr:us-east-1:${ACCOUNT_ID}:repository/${name}`;
}

export function bearerAuthorization(token: string): string {
  return `Bearer ${token}`;
}

/** An identity policy with one Allow statement. */
export function allowPolicy(
  actions: string[],
  resources: string[] = ["*"],
  condition?: Record<string, unknown>,
): Record<string, unknown> {
  const statement: Record<string, unknown> = { Effect: "Allow", Action: actions, Resource: resources };
  if (condition) statement.Condition = condition;
  return { Version: "2012-10-17", Statement: [statement] };
}

/** Calls the admin API with a JSON body (as the bootstrap admin unless `authorization` is given). */
export async function adminCall(
  method: string,
  path: string,
  body?: unknown,
  authorization?: string,
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (authorization) headers.Authorization = authorization;
  return call(method, path, {
    headers,
    body: body === undefined ? null : typeof body === "string" ? body : JSON.stringify(body),
  });
}

export interface TestUser {
  name: string;
  arn: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `Authorization: Basic` value of the user's access key. */
  authorization: string;
}

/** Creates a user with an access key and, optionally, an inline identity policy. */
export async function createUser(name: string, policy?: Record<string, unknown>): Promise<TestUser> {
  const created = await adminCall("POST", "/admin/users", { name });
  expect(created.status, await created.clone().text()).toBe(201);
  const keyResponse = await adminCall("POST", `/admin/users/${name}/access-keys`);
  expect(keyResponse.status, await keyResponse.clone().text()).toBe(201);
  const key = await keyResponse.json<{ accessKeyId: string; secretAccessKey: string }>();
  if (policy) await putUserPolicy(name, "main", policy);
  return {
    name,
    arn: userArnOf(name),
    accessKeyId: key.accessKeyId,
    secretAccessKey: key.secretAccessKey,
    authorization: basicAuthorization(key.accessKeyId, key.secretAccessKey),
  };
}

export async function putUserPolicy(user: string, policyName: string, policy: Record<string, unknown>): Promise<void> {
  const response = await adminCall("PUT", `/admin/users/${user}/policies/${policyName}`, policy);
  expect(response.status, await response.clone().text()).toBe(204);
}

/**
 * Creates a repository, or changes the settings given of one that exists, through the ECR API
 * (CreateRepository, else PutImageTagMutability and TagResource), as the bootstrap admin.
 */
export async function createRepository(
  name: string,
  settings: { imageTagMutability?: string; tags?: Record<string, string> } = {},
): Promise<void> {
  const tags = Object.entries(settings.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
  const created = await ecrCall("CreateRepository", {
    repositoryName: name,
    ...(settings.imageTagMutability ? { imageTagMutability: settings.imageTagMutability } : {}),
    tags,
  });
  if (created.type === "RepositoryAlreadyExistsException") {
    if (settings.imageTagMutability)
      await expectEcrSuccess("PutImageTagMutability", {
        repositoryName: name,
        imageTagMutability: settings.imageTagMutability,
      });
    if (tags.length > 0) await expectEcrSuccess("TagResource", { resourceArn: repositoryArnOf(name), tags });
    return;
  }
  expect(created.status, JSON.stringify(created.body)).toBe(200);
}

/** Sets a repository policy through the ECR API (with `force`: tests may lock the admin out). */
export async function putRepositoryPolicy(name: string, policy: Record<string, unknown>): Promise<void> {
  await expectEcrSuccess("SetRepositoryPolicy", {
    repositoryName: name,
    policyText: JSON.stringify(policy),
    force: true,
  });
}

async function expectEcrSuccess(action: string, input: Record<string, unknown>): Promise<void> {
  const result = await ecrCall(action, input);
  expect(result.status, `${action}: ${JSON.stringify(result.body)}`).toBe(200);
}

export interface TokenBody {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
  scope: string;
  refresh_token?: string;
}

export interface AccessClaim {
  type: string;
  name: string;
  actions: string[];
}

/** `GET /token` for the scopes, anonymous unless `authorization` is given. */
export async function requestToken(scopes: string[], authorization?: string, service = SERVICE): Promise<Response> {
  const query = new URLSearchParams({ service });
  for (const scope of scopes) query.append("scope", scope);
  return call(
    "GET",
    `/token?${query.toString()}`,
    authorization ? { headers: { Authorization: authorization } } : { anonymous: true },
  );
}

/** A token for the scopes (asserting the token endpoint answered 200). */
export async function fetchToken(scopes: string[], authorization?: string): Promise<string> {
  const response = await requestToken(scopes, authorization);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json<TokenBody>()).token;
}

/** The `access` claim of a token (not verified: for inspecting what was granted). */
export function accessOf(token: string): AccessClaim[] {
  const [, payload = ""] = token.split(".");
  const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
  return (JSON.parse(json) as { access?: AccessClaim[] }).access ?? [];
}

/** The actions a token grants on a repository ([] when it does not name it). */
export function grantedActions(token: string, name: string): string[] {
  return accessOf(token).find((entry) => entry.type === "repository" && entry.name === name)?.actions ?? [];
}
