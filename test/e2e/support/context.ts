/**
 * Per-test scratch directories and plain HTTP access to the registry under test.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, inject } from "vitest";

/**
 * Gives each test of the calling file a fresh directory (under the run's scratch directory),
 * removed after the test. Call at file or describe level; read `.path` inside a test.
 */
export function useTempDir(prefix = "test-"): { readonly path: string } {
  let current: string | undefined;
  beforeEach(async () => {
    current = await mkdtemp(join(inject("e2eTempDir"), prefix));
  });
  afterEach(async () => {
    if (current) await rm(current, { recursive: true, force: true });
    current = undefined;
  });
  return {
    get path(): string {
      if (!current) throw new Error("useTempDir().path is only available inside a test");
      return current;
    },
  };
}

/** A request to the registry under test, e.g. `registryFetch("GET", "/v2/team-a/app/tags/list")`. */
/** Sends the bootstrap admin's credentials unless the request sets its own Authorization. */
export function registryFetch(method: string, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has("Authorization")) headers.set("Authorization", inject("adminAuthorization"));
  return fetch(`${inject("registryUrl")}${path}`, { ...init, headers, method, signal: AbortSignal.timeout(60_000) });
}

export const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");

/** GETs a manifest by tag or digest and returns its bytes and headers; fails unless 200. */
export async function fetchManifest(
  repository: string,
  reference: string,
): Promise<{ bytes: Buffer; digest: string | null; contentType: string | null }> {
  const response = await registryFetch("GET", `/v2/${repository}/manifests/${reference}`, {
    headers: { Accept: MANIFEST_ACCEPT },
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200)
    throw new Error(`GET manifest ${repository}:${reference} answered ${response.status}: ${bytes.toString("utf8")}`);
  return {
    bytes,
    digest: response.headers.get("Docker-Content-Digest"),
    contentType: response.headers.get("Content-Type"),
  };
}

/** GETs a blob's bytes; fails unless 200. */
export async function fetchBlob(repository: string, digest: string): Promise<Buffer> {
  const response = await registryFetch("GET", `/v2/${repository}/blobs/${digest}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200)
    throw new Error(`GET blob ${digest} in ${repository} answered ${response.status}: ${bytes.toString("utf8")}`);
  return bytes;
}
