/**
 * Self-test of the Docker Hub stand-in (support/docker-hub-upstream.ts) with real clients: plain
 * fetch for Hub's token flow, rate-limit headers and faults, and skopeo doing the token dance
 * itself through the front.
 */
import { createHash } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { MANIFEST_ACCEPT } from "./support/context";
import { startDockerHubUpstream, type DockerHubUpstream } from "./support/docker-hub-upstream";
import { buildSingleArchLayout, MediaTypes, type SingleArchLayout } from "./support/image-builder";
import { describeRun, runSkopeo } from "./support/skopeo";

const KiB = 1024;
const sha256Hex = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

describe("Docker Hub upstream harness", () => {
  let hub: DockerHubUpstream;
  let image: SingleArchLayout;

  beforeAll(async () => {
    const dir = await mkdtemp(join(inject("e2eTempDir"), "hub-"));
    hub = await startDockerHubUpstream({ dir });
    image = await buildSingleArchLayout({
      seed: "hub/alpine",
      tag: "3.20",
      layers: [{ size: 200 * KiB }, { size: 50 * KiB }],
      dir: join(dir, "layout"),
    });
    await hub.seed(`oci:${image.path}:3.20`, "library/alpine:3.20");
    await hub.seed(`oci:${image.path}:3.20`, "library/other:1");
  });
  afterAll(async () => {
    await hub?.stop();
  });
  beforeEach(() => hub.reset());

  const get = (path: string, init: RequestInit & { token?: string } = {}) => {
    const headers = new Headers(init.headers);
    if (init.token) headers.set("Authorization", `Bearer ${init.token}`);
    if (path.includes("/manifests/") && !headers.has("Accept")) headers.set("Accept", MANIFEST_ACCEPT);
    return fetch(`${hub.url}${path}`, { ...init, headers, signal: AbortSignal.timeout(10_000) });
  };

  async function token(scopes: string[], basic?: string): Promise<string> {
    const url = new URL(hub.tokenUrl);
    url.searchParams.set("service", "registry.docker.io");
    for (const scope of scopes) url.searchParams.append("scope", scope);
    const response = await fetch(url, { headers: basic ? { Authorization: `Basic ${basic}` } : {} });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      token: string;
      access_token: string;
      expires_in: number;
      issued_at: string;
    };
    expect(body.access_token).toBe(body.token);
    expect(body.expires_in).toBe(300);
    expect(Number.isNaN(Date.parse(body.issued_at))).toBe(false);
    return body.token;
  }

  it("challenges like Docker Hub, then serves the manifest with rate-limit headers (GET counts, HEAD does not)", async () => {
    const ping = await get("/v2/");
    expect(ping.status).toBe(401);
    expect(ping.headers.get("www-authenticate")).toBe(`Bearer realm="${hub.tokenUrl}",service="registry.docker.io"`);

    const anonymous = await get("/v2/library/alpine/manifests/3.20");
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe(
      `Bearer realm="${hub.tokenUrl}",service="registry.docker.io",scope="repository:library/alpine:pull"`,
    );
    const error = (await anonymous.json()) as { errors: { code: string; message: string; detail: unknown[] }[] };
    expect(error.errors[0]).toMatchObject({ code: "UNAUTHORIZED", message: "authentication required" });
    expect(Array.isArray(error.errors[0]?.detail)).toBe(true);

    const t = await token(["repository:library/alpine:pull"]);
    const first = await get("/v2/library/alpine/manifests/3.20", { token: t });
    expect(first.status).toBe(200);
    expect(first.headers.get("docker-content-digest")).toBe(image.manifestDigest);
    expect(first.headers.get("content-type")).toBe(MediaTypes.OCI_MANIFEST);
    expect(first.headers.get("ratelimit-limit")).toBe("100;w=21600");
    expect(first.headers.get("ratelimit-remaining")).toBe("99;w=21600");
    expect(first.headers.get("docker-ratelimit-source")).toBe("127.0.0.1");
    expect(Buffer.from(await first.arrayBuffer()).equals(image.image.manifest.bytes)).toBe(true);

    const head = await get("/v2/library/alpine/manifests/3.20", { method: "HEAD", token: t });
    expect(head.status).toBe(200);
    expect(head.headers.get("ratelimit-remaining")).toBe("99;w=21600");
    const second = await get(`/v2/library/alpine/manifests/${image.manifestDigest}`, { token: t });
    expect(second.status).toBe(200);
    expect(second.headers.get("ratelimit-remaining")).toBe("98;w=21600");
    await second.arrayBuffer();

    const blob = await get(`/v2/library/alpine/blobs/${image.layerDigests[0]}`, { token: t });
    expect(blob.status).toBe(200);
    const bytes = Buffer.from(await blob.arrayBuffer());
    expect(`sha256:${createHash("sha256").update(bytes).digest("hex")}`).toBe(image.layerDigests[0]);

    expect(hub.count({ kind: "manifest", method: "GET" })).toBe(3);
    expect(hub.count({ kind: "manifest", method: "HEAD" })).toBe(1);
    expect(hub.count({ kind: "token" })).toBe(1);
    expect(hub.count({ kind: "ping" })).toBe(1);
    expect(hub.count({ kind: "blob" })).toBe(1);
    expect(hub.count({ pathIncludes: "scope=repository:library/alpine:pull" })).toBe(1);
    expect(hub.requests.map((r) => [r.kind, r.status, r.authorized])).toEqual([
      ["ping", 401, false],
      ["manifest", 401, false],
      ["token", 200, false],
      ["manifest", 200, true],
      ["manifest", 200, true],
      ["manifest", 200, true],
      ["blob", 200, true],
    ]);
  });

  it("scopes tokens to their repositories and checks Basic credentials at the token server", async () => {
    const t = await token(["repository:library/alpine:pull"]);
    const refused = await get("/v2/library/other/manifests/1", { token: t });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toContain(`scope="repository:library/other:pull"`);
    await refused.arrayBuffer();
    const unknown = await get("/v2/library/alpine/manifests/3.20", { token: "not-a-token" });
    expect(unknown.status).toBe(401);
    await unknown.arrayBuffer();

    const both = await token(["repository:library/alpine:pull", "repository:library/other:pull"]);
    for (const path of ["/v2/library/alpine/manifests/3.20", "/v2/library/other/manifests/1"]) {
      const response = await get(path, { token: both });
      expect(response.status, path).toBe(200);
      await response.arrayBuffer();
    }

    const wrong = await fetch(`${hub.tokenUrl}?service=registry.docker.io&scope=repository:library/alpine:pull`, {
      headers: { Authorization: `Basic ${Buffer.from(`${hub.credentials.username}:wrong`).toString("base64")}` },
    });
    expect(wrong.status).toBe(401);
    await wrong.arrayBuffer();
    const basic = Buffer.from(`${hub.credentials.username}:${hub.credentials.accessToken}`).toString("base64");
    await token(["repository:library/alpine:pull"], basic);
    expect(hub.requests.filter((r) => r.kind === "token").map((r) => [r.status, r.authorized])).toEqual([
      [200, false],
      [200, false],
      [401, false],
      [200, true],
    ]);
  });

  it("answers 429 when rate limited, tampers blobs, fails everything on demand", async () => {
    const t = await token(["repository:library/alpine:pull"]);
    hub.modes.rateLimited = true;
    const limited = await get("/v2/library/alpine/manifests/3.20", { token: t });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("ratelimit-remaining")).toBe("0;w=21600");
    const body = (await limited.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]?.code).toBe("TOOMANYREQUESTS");
    expect(body.errors[0]?.message).toContain("You have reached your pull rate limit");
    const head = await get("/v2/library/alpine/manifests/3.20", { method: "HEAD", token: t });
    expect(head.status).toBe(200);
    hub.modes.rateLimitHeads = true;
    expect((await get("/v2/library/alpine/manifests/3.20", { method: "HEAD", token: t })).status).toBe(429);
    hub.modes.rateLimited = false;

    const digest = image.layerDigests[0]!;
    hub.modes.tamperedBlobs.add(digest);
    const tampered = await get(`/v2/library/alpine/blobs/${digest}`, { token: t });
    expect(tampered.status).toBe(200);
    expect(tampered.headers.get("docker-content-digest")).toBe(digest);
    const bytes = Buffer.from(await tampered.arrayBuffer());
    expect(Number(tampered.headers.get("content-length"))).toBe(bytes.length);
    expect(bytes.length).toBe(image.image.layers[0]!.blob.bytes.length);
    expect(`sha256:${createHash("sha256").update(bytes).digest("hex")}`).not.toBe(digest);

    hub.modes.failAll = 503;
    const failed = await get("/v2/library/alpine/manifests/3.20", { token: t });
    expect(failed.status).toBe(503);
    await failed.arrayBuffer();
    expect((await get("/v2/")).status).toBe(503);
    hub.reset();
    expect(hub.requests).toEqual([]);
    const ok = await get("/v2/library/alpine/manifests/3.20", { token: t });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("ratelimit-remaining")).toBe("99;w=21600");
    await ok.arrayBuffer();
  });

  it("redirects blob GETs to the CDN in blobRedirect mode; the CDN serves the bytes without credentials", async () => {
    const t = await token(["repository:library/alpine:pull"]);
    hub.modes.blobRedirect = true;
    const digest = image.layerDigests[0]!;
    const redirected = await get(`/v2/library/alpine/blobs/${digest}`, { token: t, redirect: "manual" });
    expect(redirected.status).toBe(307);
    expect((await redirected.arrayBuffer()).byteLength).toBe(0);
    const location = new URL(redirected.headers.get("location") ?? "");
    expect(location.origin).toBe(hub.cdnUrl);
    expect(location.origin).not.toBe(hub.url);
    expect(location.pathname).toBe(`/blobs/${digest}`);
    expect(location.searchParams.get("repo")).toBe("library/alpine");
    expect(location.searchParams.get("sig")).toMatch(/^[0-9a-f]{32}$/);

    const served = await fetch(location, { signal: AbortSignal.timeout(10_000) });
    expect(served.status).toBe(200);
    expect(served.headers.get("docker-content-digest")).toBeNull();
    const bytes = Buffer.from(await served.arrayBuffer());
    expect(Number(served.headers.get("content-length"))).toBe(bytes.length);
    expect(bytes.equals(image.image.layers[0]!.blob.bytes)).toBe(true);

    // HEADs are still answered by the front; a forged signature is refused; tampering happens at the CDN.
    const head = await get(`/v2/library/alpine/blobs/${digest}`, { method: "HEAD", token: t, redirect: "manual" });
    expect(head.status).toBe(200);
    const forged = new URL(location);
    forged.searchParams.set("sig", "0".repeat(32));
    expect((await fetch(forged)).status).toBe(403);
    hub.modes.tamperedBlobs.add(digest);
    const tampered = await fetch(location, { headers: { Authorization: `Bearer ${t}` } });
    expect(tampered.status).toBe(200);
    expect(sha256Hex(Buffer.from(await tampered.arrayBuffer()))).not.toBe(digest);
    // Unknown blobs are a 404 from the front, not a redirect.
    const unknown = await get(`/v2/library/alpine/blobs/sha256:${"1".repeat(64)}`, { token: t, redirect: "manual" });
    expect(unknown.status).toBe(404);
    await unknown.arrayBuffer();

    expect(
      hub.requests.filter((r) => r.kind !== "token").map((r) => [r.kind, r.method, r.status, r.authorized]),
    ).toEqual([
      ["blob", "GET", 307, true],
      ["cdn", "GET", 200, false],
      ["blob", "HEAD", 200, true],
      ["cdn", "GET", 403, false],
      ["cdn", "GET", 200, true],
      ["blob", "GET", 404, true],
    ]);
    expect(hub.requests.find((r) => r.kind === "cdn")?.path).toBe(
      `/blobs/${digest}?repo=library/alpine&sig=${location.searchParams.get("sig")}`,
    );
    hub.reset();
    expect(hub.modes.blobRedirect).toBe(false);
  });

  it("refuses connections while paused and serves the same data after resume", async () => {
    const t = await token(["repository:library/alpine:pull"]);
    // A kept-alive connection must not survive the pause.
    const before = await get("/v2/library/alpine/manifests/3.20", { token: t });
    expect(before.status).toBe(200);
    await before.arrayBuffer();
    await hub.pause();
    try {
      const started = Date.now();
      const error = await get("/v2/library/alpine/manifests/3.20", { token: t }).then(
        () => null,
        (e: unknown) => e as Error & { cause?: Error & { code?: string } },
      );
      expect(error?.cause?.code, String(error?.cause)).toBe("ECONNREFUSED");
      const tokenError = await fetch(hub.tokenUrl).then(
        () => null,
        (e: unknown) => e as Error & { cause?: Error & { code?: string } },
      );
      expect(tokenError?.cause?.code, String(tokenError?.cause)).toBe("ECONNREFUSED");
      const cdnError = await fetch(`${hub.cdnUrl}/blobs/${image.layerDigests[0]}`).then(
        () => null,
        (e: unknown) => e as Error & { cause?: Error & { code?: string } },
      );
      expect(cdnError?.cause?.code, String(cdnError?.cause)).toBe("ECONNREFUSED");
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await hub.resume();
    }
    const again = await get("/v2/library/alpine/manifests/3.20", { token: t });
    expect(again.status).toBe(200);
    expect(again.headers.get("docker-content-digest")).toBe(image.manifestDigest);
    await again.arrayBuffer();
  });

  it("lets skopeo inspect through the front, anonymously and with the account", async () => {
    const ref = `docker://${hub.host}/library/alpine:3.20`;
    const anonymous = await runSkopeo(["inspect", "--tls-verify=false", ref], {
      authFile: inject("skopeoAnonymousAuthFile"),
    });
    expect(anonymous.code, describeRun(anonymous)).toBe(0);
    expect((JSON.parse(anonymous.stdoutText) as { Digest: string }).Digest).toBe(image.manifestDigest);
    expect(hub.count({ kind: "token" })).toBeGreaterThanOrEqual(1);
    expect(hub.requests.some((r) => r.kind === "manifest" && r.status === 200 && r.authorized)).toBe(true);

    hub.reset();
    const { username, accessToken } = hub.credentials;
    const logged = await runSkopeo(["inspect", "--tls-verify=false", "--creds", `${username}:${accessToken}`, ref], {
      authFile: inject("skopeoAnonymousAuthFile"),
    });
    expect(logged.code, describeRun(logged)).toBe(0);
    expect(hub.requests.filter((r) => r.kind === "token").every((r) => r.status === 200 && r.authorized)).toBe(true);

    const refused = await runSkopeo(["inspect", "--tls-verify=false", "--creds", `${username}:wrong`, ref], {
      authFile: inject("skopeoAnonymousAuthFile"),
    });
    expect(refused.code, describeRun(refused)).not.toBe(0);
  });
});
