/**
 * Pull-through rules with upstream credentials (a registry secret, as ECR's Secrets Manager
 * secret): the cache logs in at the upstream's token realm with them, never sends them
 * anywhere else, and reports refused credentials without caching anything.
 */
import { ValidatePullThroughCacheRuleCommand } from "@aws-sdk/client-ecr";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { registryFetch, useTempDir } from "./support/context";
import { ecrClient } from "./support/ecr";
import { buildSingleArchLayout, readBlob, sha256 } from "./support/image-builder";
import { seedLayout, upstreamStatus, useHubCache } from "./support/pull-through";
import { dockerRef, ociRef, skopeo } from "./support/skopeo";

const ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";

describe("pull-through cache with the rule's credentials", () => {
  const cache = useHubCache("hub-login", { credentials: "valid" });
  const tmp = useTempDir("ptc-cred-");

  it("logs in at the token realm with the stored credentials and caches the image", async () => {
    const source = await buildSingleArchLayout({
      seed: "ptc/private",
      tag: "1",
      layers: [{ size: 20 * 1024 }],
      dir: join(tmp.path, "source"),
    });
    await seedLayout(cache.hub, source, "acme/private:1");
    const out = join(tmp.path, "out");
    await skopeo(["copy", "--src-tls-verify=false", dockerRef(`${cache.prefix}/acme/private`, "1"), ociRef(out, "1")]);
    expect(sha256(await readBlob(out, source.layerDigests[0]!))).toBe(source.layerDigests[0]);
    const tokens = cache.hub.requests.filter((r) => r.kind === "token");
    expect(tokens.length).toBeGreaterThan(0);
    // authorized: the token server saw the rule's valid Basic credentials.
    expect(tokens.every((r) => r.authorized)).toBe(true);
    expect(
      (await ecrClient().send(new ValidatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: cache.prefix }))).isValid,
    ).toBe(true);

    // The import is in the repository's audit trail, with who pulled it and from where (the
    // pulls themselves are recorded too, under their own event names).
    const audit = await registryFetch(
      "GET",
      `/admin/audit-events?repository=${encodeURIComponent(`${cache.prefix}/acme/private`)}&eventName=${encodeURIComponent("ecr:BatchImportUpstreamImage")}`,
    );
    expect(audit.status).toBe(200);
    const { events } = (await audit.json()) as {
      events: {
        eventName: string;
        userIdentity: Record<string, unknown>;
        additionalEventData: { imageDigest: string; upstream: string; tag: string };
      }[];
    };
    // vitest types its asymmetric matchers as any; held as unknown, they are used as values.
    const aUser: unknown = expect.stringMatching(/^arn:aws:iam::\d{12}:user\//);
    // The registry imports on the puller's behalf: a service event invoked by the puller.
    const byTheUser: unknown = expect.objectContaining({ type: "AWSService", invokedBy: aUser });
    const theImport: unknown = expect.objectContaining({
      imageDigest: source.manifestDigest,
      upstream: `${cache.hub.url}/acme/private`,
      tag: "1",
    });
    expect(events).toEqual([
      expect.objectContaining({
        eventName: "ecr:BatchImportUpstreamImage",
        userIdentity: byTheUser,
        additionalEventData: theImport,
      }),
    ]);

    // And an "ECR Pull Through Cache Action" event was recorded with the import.
    const recorded = await registryFetch(
      "GET",
      `/admin/events?repository=${encodeURIComponent(`${cache.prefix}/acme/private`)}&detailType=${encodeURIComponent("ECR Pull Through Cache Action")}`,
    );
    expect(recorded.status).toBe(200);
    const { events: imports } = (await recorded.json()) as { events: { source: string; detail: unknown }[] };
    expect(imports).toEqual([
      expect.objectContaining({
        source: "aws.ecr",
        detail: {
          "rule-version": "1",
          "sync-status": "SUCCESS",
          "ecr-repository-prefix": cache.prefix,
          "repository-name": `${cache.prefix}/acme/private`,
          "upstream-registry-url": `${cache.hub.url}/acme/private`,
          "image-tag": "1",
          "image-digest": source.manifestDigest,
        },
      }),
    ]);
  });
});

describe("pull-through cache with refused credentials", () => {
  const cache = useHubCache("hub-badlogin", { credentials: "wrong" });
  const tmp = useTempDir("ptc-badcred-");

  it("answers 502 naming the refusal, caches nothing, and Validate reports the failure", async () => {
    const source = await buildSingleArchLayout({
      seed: "ptc/refused",
      tag: "1",
      layers: [{ size: 4 * 1024 }],
      dir: join(tmp.path, "source"),
    });
    await seedLayout(cache.hub, source, "library/refused:1");
    const response = await registryFetch("GET", `/v2/${cache.prefix}/refused/manifests/1`, {
      headers: { Accept: ACCEPT },
    });
    expect(response.status).toBe(502);
    const body = (await response.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]?.code).toBe("UNAVAILABLE");
    expect(body.errors[0]?.message).toMatch(/refused the credentials/);
    expect(cache.hub.count({ kind: "manifest", method: "GET" })).toBeLessThanOrEqual(1);
    const status = await upstreamStatus(
      cache.prefix,
      (s) => s.upstream?.lastError !== null && s.upstream?.lastError !== undefined,
    );
    expect(status.upstream?.lastError).toMatch(/refused the credentials/);

    const validated = await ecrClient().send(
      new ValidatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: cache.prefix }),
    );
    expect(validated.isValid).toBe(false);
    expect(validated.failure).toMatch(/401/);
  });
});
