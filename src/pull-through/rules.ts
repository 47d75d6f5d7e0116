/**
 * Which pull-through cache rule serves a repository name, and which upstream repository the
 * name stands for. Pure.
 *
 * A rule with prefix `docker-hub` serves every repository `docker-hub/<upstream path>`; the
 * special prefix `ROOT` serves any name no other rule claims. The longest matching prefix
 * wins. The upstream path is the rest of the name, behind the rule's
 * `upstreamRepositoryPrefix` when it has one. Docker Hub keeps its official images under
 * `library/`, so for a docker-hub rule a one-segment path (`docker-hub/nginx`) means
 * `library/nginx`, as `docker pull nginx` does.
 */
export const ROOT_PREFIX = "ROOT";

/**
 * Upstream credentials are secrets of this registry whose names start with this (as ECR's
 * Secrets Manager names do): the ECR rule actions and `/admin/secrets` both hold to it.
 */
export const SECRET_PREFIX = "ecr-pullthroughcache/";

/** ECR's names for the registries a pull-through cache rule can mirror. */
export const UPSTREAM_REGISTRIES = [
  "ecr",
  "ecr-public",
  "quay",
  "k8s",
  "docker-hub",
  "github-container-registry",
  "azure-container-registry",
  "gitlab-container-registry",
  "chainguard",
] as const;
export type UpstreamRegistry = (typeof UPSTREAM_REGISTRIES)[number];

/**
 * Each upstream's host as ECR documents it for `upstreamRegistryUrl` (CreatePullThroughCacheRule):
 * Docker Hub's registry host also under the names `docker pull` uses, Azure's per-registry
 * `<name>.azurecr.io`, and a private ECR registry `<account>.dkr.ecr.<region>.amazonaws.com`.
 */
const UPSTREAM_HOSTS: readonly (readonly [RegExp, UpstreamRegistry])[] = [
  [/^public\.ecr\.aws$/, "ecr-public"],
  [/^(registry-1\.|index\.)?docker\.io$/, "docker-hub"],
  [/^quay\.io$/, "quay"],
  [/^registry\.k8s\.io$/, "k8s"],
  [/^ghcr\.io$/, "github-container-registry"],
  [/^[a-z0-9-]+(\.[a-z0-9-]+)*\.azurecr\.io$/, "azure-container-registry"],
  [/^registry\.gitlab\.com$/, "gitlab-container-registry"],
  [/^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com$/, "ecr"],
  [/^cgr\.dev$/, "chainguard"],
];

/**
 * Which of ECR's upstream registries `upstreamRegistryUrl` names (a host, with an optional
 * scheme and port); null for a host ECR does not list, such as a local registry.
 */
export function upstreamRegistryOf(upstreamRegistryUrl: string): UpstreamRegistry | null {
  const host = upstreamRegistryUrl
    .toLowerCase()
    .replace(/^https?:\/\//, "")
    .replace(/\/+$/, "")
    .replace(/:\d+$/, "")
    .replace(/\.$/, "");
  return UPSTREAM_HOSTS.find(([pattern]) => pattern.test(host))?.[1] ?? null;
}

export interface RuleFields {
  prefix: string;
  upstreamRegistryUrl: string;
  upstreamRegistry: string;
  upstreamRepositoryPrefix: string | null;
  credentialArn: string | null;
}

export interface CacheTarget<R extends RuleFields = RuleFields> {
  rule: R;
  /** The repository name here (what the client asked for). */
  repository: string;
  /** The repository name at the upstream registry. */
  upstreamRepository: string;
}

function pathUnder(prefix: string, name: string): string | null {
  if (prefix === ROOT_PREFIX) return name;
  return name.startsWith(`${prefix}/`) && name.length > prefix.length + 1 ? name.slice(prefix.length + 1) : null;
}

export function matchRule<R extends RuleFields>(rules: readonly R[], name: string): CacheTarget<R> | null {
  let best: { rule: R; path: string } | null = null;
  for (const rule of rules) {
    const path = pathUnder(rule.prefix, name);
    if (path === null) continue;
    const better =
      best === null ||
      best.rule.prefix === ROOT_PREFIX ||
      (rule.prefix !== ROOT_PREFIX && rule.prefix.length > best.rule.prefix.length);
    if (better) best = { rule, path };
  }
  if (best === null) return null;
  let upstreamRepository =
    best.rule.upstreamRepositoryPrefix === null ? best.path : `${best.rule.upstreamRepositoryPrefix}/${best.path}`;
  if (best.rule.upstreamRegistry === "docker-hub" && !upstreamRepository.includes("/"))
    upstreamRepository = `library/${upstreamRepository}`;
  return { rule: best.rule, repository: name, upstreamRepository };
}

/** The base URL of an upstream: `registry-1.docker.io` means HTTPS; a URL keeps its scheme. */
export function upstreamBaseUrl(upstreamRegistryUrl: string): string {
  const withScheme = /^https?:\/\//.test(upstreamRegistryUrl) ? upstreamRegistryUrl : `https://${upstreamRegistryUrl}`;
  return withScheme.replace(/\/+$/, "");
}

/** Whether a tag confirmed at `validatedAt` must be checked against the upstream again. */
export function tagNeedsRevalidation(validatedAt: number | null, now: number, intervalMs: number): boolean {
  if (validatedAt === null) return false;
  return now - validatedAt >= intervalMs || validatedAt > now + 60_000;
}
