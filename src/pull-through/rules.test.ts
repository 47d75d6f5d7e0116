import { describe, expect, it } from "vitest";
import { matchRule, tagNeedsRevalidation, upstreamBaseUrl, upstreamRegistryOf, type RuleFields } from "./rules";

function rule(
  prefix: string,
  upstreamRegistry = "docker-hub",
  upstreamRepositoryPrefix: string | null = null,
): RuleFields {
  return {
    prefix,
    upstreamRegistryUrl: "registry-1.docker.io",
    upstreamRegistry,
    upstreamRepositoryPrefix,
    credentialArn: null,
  };
}

describe("matchRule", () => {
  const rules = [rule("docker-hub"), rule("quay", "quay"), rule("team/hub"), rule("ROOT", "ecr-public")];

  it.each<[string, string | null, string | null]>([
    ["docker-hub/library/nginx", "docker-hub", "library/nginx"],
    ["docker-hub/nginx", "docker-hub", "library/nginx"],
    ["docker-hub/bitnami/redis", "docker-hub", "bitnami/redis"],
    ["docker-hub/a/b/c", "docker-hub", "a/b/c"],
    ["quay/coreos/etcd", "quay", "coreos/etcd"],
    // Only docker-hub rules add library/: other registries have no such convention.
    ["quay/etcd", "quay", "etcd"],
    ["team/hub/nginx", "team/hub", "library/nginx"],
    // Not under a prefix (a prefix is a whole path segment): ROOT takes it.
    ["docker-hubx/nginx", "ROOT", "docker-hubx/nginx"],
    ["docker-hub", "ROOT", "docker-hub"],
    ["team/other", "ROOT", "team/other"],
  ])("%s is served by %s as %s", (name, prefix, upstream) => {
    const target = matchRule(rules, name);
    expect(target?.rule.prefix ?? null).toBe(prefix);
    expect(target?.upstreamRepository ?? null).toBe(upstream);
    expect(target?.repository ?? null).toBe(prefix === null ? null : name);
  });

  it("prefers the longest prefix whatever the order", () => {
    expect(matchRule([rule("team/hub"), rule("team")], "team/hub/x")?.rule.prefix).toBe("team/hub");
    expect(matchRule([rule("team"), rule("team/hub")], "team/hub/x")?.rule.prefix).toBe("team/hub");
    expect(matchRule([rule("team"), rule("team/hub")], "team/other/x")?.rule.prefix).toBe("team");
  });

  it("leaves ordinary repositories alone when there is no ROOT rule", () => {
    expect(matchRule([rule("docker-hub")], "team-a/web-app")).toBeNull();
    expect(matchRule([], "docker-hub/nginx")).toBeNull();
  });

  it("puts the upstream repository prefix in front of the path", () => {
    expect(matchRule([rule("mirror", "ecr-public", "docker/library")], "mirror/nginx")?.upstreamRepository).toBe(
      "docker/library/nginx",
    );
    // With an upstream prefix the path is no longer a single segment, so no library/ either.
    expect(matchRule([rule("hub", "docker-hub", "bitnami")], "hub/redis")?.upstreamRepository).toBe("bitnami/redis");
  });
});

describe("upstreamBaseUrl", () => {
  it.each([
    ["registry-1.docker.io", "https://registry-1.docker.io"],
    ["quay.io:443", "https://quay.io:443"],
    ["http://127.0.0.1:5000", "http://127.0.0.1:5000"],
    ["https://ghcr.io/", "https://ghcr.io"],
  ])("%s -> %s", (given, expected) => {
    expect(upstreamBaseUrl(given)).toBe(expected);
  });
});

describe("tagNeedsRevalidation", () => {
  const day = 86_400_000;
  const now = 1_800_000_000_000;
  it("never for pushed tags (no validation time)", () => {
    expect(tagNeedsRevalidation(null, now, day)).toBe(false);
  });
  it("only once the interval has passed", () => {
    expect(tagNeedsRevalidation(now - day + 1, now, day)).toBe(false);
    expect(tagNeedsRevalidation(now - day, now, day)).toBe(true);
    expect(tagNeedsRevalidation(now - 2 * day, now, day)).toBe(true);
  });
  it("always with a zero interval", () => {
    expect(tagNeedsRevalidation(now, now, 0)).toBe(true);
  });
  it("when the validation time is implausibly in the future (a clock jump)", () => {
    expect(tagNeedsRevalidation(now + 2 * 60_000, now, day)).toBe(true);
    expect(tagNeedsRevalidation(now + 1_000, now, day)).toBe(false);
  });
});

describe("upstreamRegistryOf", () => {
  it.each<[string, string | null]>([
    // ECR's list (CreatePullThroughCacheRule's upstreamRegistryUrl).
    ["public.ecr.aws", "ecr-public"],
    ["registry-1.docker.io", "docker-hub"],
    ["quay.io", "quay"],
    ["registry.k8s.io", "k8s"],
    ["ghcr.io", "github-container-registry"],
    ["myregistry.azurecr.io", "azure-container-registry"],
    ["registry.gitlab.com", "gitlab-container-registry"],
    ["123456789012.dkr.ecr.eu-west-1.amazonaws.com", "ecr"],
    ["cgr.dev", "chainguard"],
    // Docker Hub under the names `docker pull` uses; a scheme, a port, a trailing dot or case.
    ["docker.io", "docker-hub"],
    ["index.docker.io", "docker-hub"],
    ["https://quay.io", "quay"],
    ["https://ghcr.io:443/", "github-container-registry"],
    ["QUAY.IO", "quay"],
    ["registry.k8s.io.", "k8s"],
    // Hosts ECR does not list, or that only look like one.
    ["http://127.0.0.1:5000", null],
    ["localhost", null],
    ["quay.io.evil.example", null],
    ["notquay.io", null],
    ["evildocker.io", null],
    ["azurecr.io", null],
    ["12345.dkr.ecr.us-east-1.amazonaws.com", null],
    ["123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example", null],
    ["gcr.io", null],
  ])("%s is %s", (url, expected) => {
    expect(upstreamRegistryOf(url)).toBe(expected);
  });
});
