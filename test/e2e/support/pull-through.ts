/**
 * Shared setup of the pull-through cache e2e tests: a Docker Hub stand-in on 127.0.0.1
 * (docker-hub-upstream.ts) and a cache rule of this registry pointing at it, created through
 * the AWS SDK; images built with the image builder and seeded into the upstream.
 */
import { CreatePullThroughCacheRuleCommand, DeletePullThroughCacheRuleCommand } from "@aws-sdk/client-ecr";
import { afterAll, beforeAll, beforeEach, expect } from "vitest";
import { registryFetch } from "./context";
import { startDockerHubUpstream, type DockerHubUpstream } from "./docker-hub-upstream";
import { ecrClient } from "./ecr";
import { readBlob, sha256, type BuiltImage, type MultiArchLayout, type SingleArchLayout } from "./image-builder";

export interface HubCache {
  readonly hub: DockerHubUpstream;
  /** The rule's ecrRepositoryPrefix: `<prefix>/<upstream repository>` pulls through it. */
  readonly prefix: string;
}

/** Stores `value` as the registry secret `ecr-pullthroughcache/<name>` and returns its ARN. */
export async function putCacheSecret(name: string, value: { username: string; accessToken: string }): Promise<string> {
  const response = await registryFetch("PUT", `/admin/secrets/ecr-pullthroughcache/${name}`, {
    body: JSON.stringify(value),
    headers: { "Content-Type": "application/json" },
  });
  if (response.status !== 200) throw new Error(`PUT secret ${name}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { arn: string }).arn;
}

/**
 * Starts the upstream and a rule for it before the file's tests; stops both after. Counters
 * and modes reset before each test. `credentials`: the rule logs in to the upstream with its
 * one valid account, or with a wrong token; anonymous unless given.
 */
export function useHubCache(label: string, options: { credentials?: "valid" | "wrong" } = {}): HubCache {
  let hub: DockerHubUpstream | undefined;
  const prefix = `${label}-${Math.random().toString(36).slice(2, 8)}`;
  beforeAll(async () => {
    hub = await startDockerHubUpstream();
    let credentialArn: string | undefined;
    if (options.credentials !== undefined) {
      const { username, accessToken } = hub.credentials;
      credentialArn = await putCacheSecret(prefix, {
        username,
        accessToken: options.credentials === "valid" ? accessToken : `${accessToken}-wrong`,
      });
    }
    await ecrClient().send(
      new CreatePullThroughCacheRuleCommand({
        ecrRepositoryPrefix: prefix,
        upstreamRegistryUrl: hub.url,
        upstreamRegistry: "docker-hub",
        ...(credentialArn === undefined ? {} : { credentialArn }),
      }),
    );
  }, 120_000);
  beforeEach(() => hub?.reset());
  afterAll(async () => {
    await ecrClient()
      .send(new DeletePullThroughCacheRuleCommand({ ecrRepositoryPrefix: prefix }))
      .catch(() => undefined);
    await hub?.stop();
  });
  return {
    get hub(): DockerHubUpstream {
      if (!hub) throw new Error("the upstream is only available inside tests");
      return hub;
    },
    prefix,
  };
}

/** Seeds a built layout into the upstream as `repository:tag`. */
export async function seedLayout(
  hub: DockerHubUpstream,
  layout: SingleArchLayout | MultiArchLayout,
  destination: string,
): Promise<void> {
  await hub.seed(`oci:${layout.path}:${layout.tag}`, destination, { all: "indexDigest" in layout });
}

/** Blob GETs the upstream answered for `digest` (what the cache is meant to save). */
export function blobGets(hub: DockerHubUpstream, digest: string): number {
  return hub.requests.filter((r) => r.kind === "blob" && r.method === "GET" && r.path.includes(digest) && r.authorized)
    .length;
}

export function manifestRequests(hub: DockerHubUpstream, method: "GET" | "HEAD"): number {
  return hub.requests.filter((r) => r.kind === "manifest" && r.method === method && r.authorized).length;
}

export interface UpstreamStatusView {
  prefix: string;
  upstream: {
    lastStatus: number;
    rateLimit: { limit: string | null; remaining: string | null; source: string | null };
    rateLimitedAt: string | null;
    lastError: string | null;
    manifestRequests: number;
    blobRequests: number;
  } | null;
}

/** What GET /admin/pull-through says of the rule (written just after responses: polled briefly). */
export async function upstreamStatus(
  prefix: string,
  until: (status: UpstreamStatusView) => boolean = () => true,
): Promise<UpstreamStatusView> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const response = await registryFetch("GET", "/admin/pull-through");
    if (response.status !== 200)
      throw new Error(`GET /admin/pull-through answered ${response.status}: ${await response.text()}`);
    const body = (await response.json()) as { rules: UpstreamStatusView[] };
    const rule = body.rules.find((r) => r.prefix === prefix);
    if (!rule) throw new Error(`rule ${prefix} is not listed by /admin/pull-through`);
    if (until(rule) || Date.now() > deadline) return rule;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Asserts that an OCI layout skopeo wrote holds `image` byte for byte. */
export async function expectImageInLayout(layout: string, image: BuiltImage): Promise<void> {
  expect(sha256(await readBlob(layout, image.manifest.digest))).toBe(image.manifest.digest);
  for (const blob of [image.config, ...image.layers.map((l) => l.blob)]) {
    expect((await readBlob(layout, blob.digest)).equals(blob.bytes), `blob ${blob.digest} differs`).toBe(true);
  }
}
