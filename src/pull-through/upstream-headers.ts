/**
 * Reading what an upstream registry says in its headers: the `WWW-Authenticate` challenge of
 * a 401 (RFC 6750 / the Docker token spec) and Docker Hub's rate-limit headers. Pure.
 */

export type Challenge =
  | { scheme: "bearer"; realm: string; service: string | null; scope: string | null }
  | { scheme: "basic" }
  | { scheme: "unknown" };

/**
 * Parses `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="..."`.
 * Parameter values may be quoted (with `\` escapes) or bare tokens.
 */
export function parseChallenge(header: string | null): Challenge {
  if (header === null) return { scheme: "unknown" };
  const match = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!match) return { scheme: "unknown" };
  const scheme = match[1]!.toLowerCase();
  if (scheme === "basic") return { scheme: "basic" };
  if (scheme !== "bearer") return { scheme: "unknown" };
  const params = new Map<string, string>();
  const pattern = /([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/g;
  for (const param of match[2]!.matchAll(pattern)) {
    params.set(param[1]!.toLowerCase(), param[2] !== undefined ? param[2].replace(/\\(.)/g, "$1") : (param[3] ?? ""));
  }
  const realm = params.get("realm");
  if (realm === undefined || !/^https?:\/\//.test(realm)) return { scheme: "unknown" };
  return { scheme: "bearer", realm, service: params.get("service") ?? null, scope: params.get("scope") ?? null };
}

export interface RateLimit {
  limit: string | null;
  remaining: string | null;
  source: string | null;
}

/** Docker Hub's `ratelimit-limit: 100;w=21600` and friends; null when none is sent (not limited). */
export function readRateLimit(headers: Headers): RateLimit | null {
  const limit = headers.get("ratelimit-limit");
  const remaining = headers.get("ratelimit-remaining");
  const source = headers.get("docker-ratelimit-source");
  if (limit === null && remaining === null && source === null) return null;
  return { limit, remaining, source };
}

/** How long a bearer token may be used: `expires_in` seconds (60 when absent or smaller, as the spec says). */
export function tokenLifetimeSeconds(expiresIn: unknown): number {
  return typeof expiresIn === "number" && Number.isFinite(expiresIn) && expiresIn >= 60 ? expiresIn : 60;
}
