/**
 * Talking to an upstream registry the way Docker clients do: a request without credentials,
 * and on `401` the challenge's token flow (anonymous, or Basic with the rule's credentials,
 * at the realm the upstream names), then the request again with the bearer token.
 *
 * Per isolate, the challenge of each upstream is remembered (later requests send a token
 * straight away, with no 401 round trip) and tokens are kept until shortly before they
 * expire, one fetch per scope at a time. Redirects (Docker Hub sends blob GETs to a CDN) are
 * followed by hand so credentials never travel to another origin. Every request has a
 * deadline: an upstream that does not answer is an error, never a hang.
 */
import { BoundedMap } from "../bounded-map";
import type { FailureKind } from "../repository/upstream-fetches";
import { parseChallenge, tokenLifetimeSeconds, type Challenge } from "./upstream-headers";

export interface UpstreamCredentials {
  username: string;
  accessToken: string;
}

/** One upstream repository, as a pull-through rule names it. */
export interface Upstream {
  baseUrl: string;
  repository: string;
  credentials: UpstreamCredentials | null;
}

/**
 * Why the upstream could not give what was asked; `status` 0 when it could not be reached.
 * `upstreamCode` is the OCI error code the upstream sent (`NAME_UNKNOWN`, ...), if any.
 */
export class UpstreamFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    readonly status: number,
    message: string,
    readonly upstreamCode: string | null = null,
  ) {
    super(message);
    this.name = "UpstreamFailure";
  }
}

/** Deadline for a manifest, HEAD or token request, and for the headers of a blob GET. */
const UPSTREAM_TIMEOUT_MS = 15_000;
const MAX_REDIRECTS = 5;
/** A token is renewed this long before the upstream says it expires. */
const TOKEN_MARGIN_MS = 10_000;

/** The last challenge of each upstream (by base URL; at most 50 rules, the bound is a safety net). */
const challenges = new BoundedMap<string, Challenge>(100);
/** Upstream tokens by (realm, service, scope, credentials): one per upstream repository pulled. */
const tokens = new BoundedMap<string, Promise<string>>(1000);

export function failureForStatus(status: number, what: string, upstreamCode: string | null = null): UpstreamFailure {
  const code = upstreamCode === null ? "" : ` ${upstreamCode}`;
  if (status === 404)
    return new UpstreamFailure(
      "not-found",
      status,
      `${what}: the upstream has no such content (404${code})`,
      upstreamCode,
    );
  if (status === 429)
    return new UpstreamFailure(
      "rate-limited",
      status,
      `${what}: the upstream is rate-limiting this registry (429)`,
      upstreamCode,
    );
  if (status === 401 || status === 403)
    return new UpstreamFailure(
      "denied",
      status,
      `${what}: the upstream refused the credentials (${status}${code})`,
      upstreamCode,
    );
  return new UpstreamFailure("unavailable", status, `${what}: the upstream answered ${status}${code}`, upstreamCode);
}

/**
 * The failure an upstream's non-200 answer to a content request means. A registry that still
 * challenges a freshly issued token (its realm accepted the credentials) is Docker Hub's way
 * of saying the repository does not exist or is private: the client's 404, not an outage.
 */
export async function failureOfAnswer(response: Response, what: string): Promise<UpstreamFailure> {
  let upstreamCode: string | null = null;
  try {
    const text =
      response.body === null ? "" : new TextDecoder().decode((await response.arrayBuffer()).slice(0, 64 * 1024));
    const parsed: unknown = text === "" ? null : JSON.parse(text);
    const errors = typeof parsed === "object" && parsed !== null ? (parsed as { errors?: unknown }).errors : undefined;
    const first: unknown = Array.isArray(errors) ? errors[0] : undefined;
    const code = typeof first === "object" && first !== null ? (first as { code?: unknown }).code : undefined;
    if (typeof code === "string" && /^[A-Z_]{1,64}$/.test(code)) upstreamCode = code;
  } catch {
    // Not an OCI error body: the status says enough.
  }
  if (response.status === 401 && parseChallenge(response.headers.get("WWW-Authenticate")).scheme === "bearer") {
    return new UpstreamFailure(
      "not-found",
      response.status,
      `${what}: the upstream does not give access to it (${response.status}): it does not exist there or needs other credentials`,
      "NAME_UNKNOWN",
    );
  }
  return failureForStatus(response.status, what, upstreamCode);
}

function basicAuthorization(credentials: UpstreamCredentials): string {
  return `Basic ${btoa(`${credentials.username}:${credentials.accessToken}`)}`;
}

function unreachable(what: string, error: unknown): UpstreamFailure {
  const reason =
    error instanceof Error
      ? error.name === "TimeoutError"
        ? `no answer within ${UPSTREAM_TIMEOUT_MS / 1000} s`
        : error.message
      : String(error);
  return new UpstreamFailure("unavailable", 0, `${what}: the upstream could not be reached (${reason})`);
}

/**
 * fetch with redirects followed by hand: `Authorization` goes only to the origin it was meant
 * for. The deadline covers the whole exchange, or with `streamsBody` only the wait for the
 * headers (a large blob may take longer than any fixed deadline to stream).
 */
async function fetchFollowing(
  url: string,
  init: { method: string; headers: Headers; streamsBody?: boolean },
  what: string,
): Promise<Response> {
  let current = new URL(url);
  const origin = current.origin;
  for (let hop = 0; ; hop++) {
    const headers = new Headers(init.headers);
    if (current.origin !== origin) headers.delete("Authorization");
    let response: Response;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new DOMException("deadline", "TimeoutError")), UPSTREAM_TIMEOUT_MS);
    try {
      response = await fetch(current.toString(), {
        method: init.method,
        headers,
        redirect: "manual",
        signal: deadline.signal,
      });
    } catch (error) {
      clearTimeout(timer);
      throw unreachable(what, error);
    }
    if (init.streamsBody) clearTimeout(timer);
    const location = response.headers.get("Location");
    if (![301, 302, 303, 307, 308].includes(response.status) || location === null) return response;
    await response.body?.cancel();
    if (hop >= MAX_REDIRECTS)
      throw new UpstreamFailure(
        "unavailable",
        response.status,
        `${what}: the upstream redirected more than ${MAX_REDIRECTS} times`,
      );
    current = new URL(location, current);
  }
}

async function fetchToken(
  challenge: Extract<Challenge, { scheme: "bearer" }>,
  scope: string,
  credentials: UpstreamCredentials | null,
): Promise<{ token: string; lifetimeMs: number }> {
  const url = new URL(challenge.realm);
  if (challenge.service !== null) url.searchParams.set("service", challenge.service);
  url.searchParams.set("scope", scope);
  const headers = new Headers({ Accept: "application/json" });
  if (credentials !== null) headers.set("Authorization", basicAuthorization(credentials));
  const what = `token for ${scope} from ${url.origin}`;
  const response = await fetchFollowing(url.toString(), { method: "GET", headers }, what);
  if (response.status !== 200) {
    await response.body?.cancel();
    throw failureForStatus(response.status, what);
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new UpstreamFailure("invalid", 200, `${what}: the answer is not JSON`);
  }
  const fields = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const token = typeof fields.token === "string" ? fields.token : fields.access_token;
  if (typeof token !== "string" || token === "")
    throw new UpstreamFailure("invalid", 200, `${what}: the answer holds no token`);
  return { token, lifetimeMs: tokenLifetimeSeconds(fields.expires_in) * 1000 };
}

/** A token for `scope`, from the isolate's cache or fetched once for every concurrent caller. */
function bearerToken(
  challenge: Extract<Challenge, { scheme: "bearer" }>,
  scope: string,
  credentials: UpstreamCredentials | null,
): Promise<string> {
  const key = JSON.stringify([
    challenge.realm,
    challenge.service,
    scope,
    credentials?.username ?? null,
    credentials?.accessToken ?? null,
  ]);
  const cached = tokens.get(key);
  if (cached !== undefined) return cached;
  // Kept without expiry while in flight (concurrent callers share it), then for its lifetime.
  const pending: Promise<string> = fetchToken(challenge, scope, credentials).then(
    ({ token, lifetimeMs }) => {
      if (tokens.get(key) === pending) tokens.set(key, pending, lifetimeMs - TOKEN_MARGIN_MS);
      return token;
    },
    (error: unknown) => {
      if (tokens.get(key) === pending) tokens.delete(key);
      throw error;
    },
  );
  tokens.set(key, pending);
  return pending;
}

function dropToken(
  challenge: Extract<Challenge, { scheme: "bearer" }>,
  scope: string,
  credentials: UpstreamCredentials | null,
): void {
  tokens.delete(
    JSON.stringify([
      challenge.realm,
      challenge.service,
      scope,
      credentials?.username ?? null,
      credentials?.accessToken ?? null,
    ]),
  );
}

async function authorizationFor(upstream: Upstream, challenge: Challenge | undefined): Promise<string | null> {
  if (challenge === undefined || challenge.scheme === "unknown") return null;
  if (challenge.scheme === "basic")
    return upstream.credentials === null ? null : basicAuthorization(upstream.credentials);
  return `Bearer ${await bearerToken(challenge, `repository:${upstream.repository}:pull`, upstream.credentials)}`;
}

/**
 * Sends `method path` (under `/v2/<repository>/`) to the upstream with whatever authorization
 * it asks for. Returns the upstream's answer, whatever its status, after at most one retry
 * with fresh credentials; throws UpstreamFailure when it cannot be reached or refuses them.
 */
export async function upstreamRequest(
  upstream: Upstream,
  method: "GET" | "HEAD",
  path: string,
  accept: string | null,
  options: { streamsBody?: boolean } = {},
): Promise<Response> {
  const url = `${upstream.baseUrl}/v2/${upstream.repository}/${path}`;
  const what = `${method} ${url}`;
  for (let attempt = 0; ; attempt++) {
    const challenge = challenges.get(upstream.baseUrl);
    const headers = new Headers();
    if (accept !== null) headers.set("Accept", accept);
    const authorization = await authorizationFor(upstream, challenge);
    if (authorization !== null) headers.set("Authorization", authorization);
    const response = await fetchFollowing(url, { method, headers, streamsBody: options.streamsBody ?? false }, what);
    if (response.status !== 401 || attempt > 0) return response;
    await response.body?.cancel();
    const next = parseChallenge(response.headers.get("WWW-Authenticate"));
    if (next.scheme === "unknown" || (next.scheme === "basic" && upstream.credentials === null))
      throw failureForStatus(401, what);
    if (challenge?.scheme === "bearer")
      dropToken(challenge, `repository:${upstream.repository}:pull`, upstream.credentials);
    challenges.set(upstream.baseUrl, next);
  }
}

/**
 * ValidatePullThroughCacheRule's check: the upstream answers `GET /v2/`, and when it asks
 * for a token, its realm issues one for the rule's credentials (or anonymously).
 */
export async function checkUpstream(
  baseUrl: string,
  credentials: UpstreamCredentials | null,
): Promise<{ ok: true } | { ok: false; message: string }> {
  try {
    const ping = await fetchFollowing(
      `${baseUrl}/v2/`,
      { method: "GET", headers: new Headers() },
      `GET ${baseUrl}/v2/`,
    );
    await ping.body?.cancel();
    if (ping.status === 200) return { ok: true };
    if (ping.status !== 401) return { ok: false, message: failureForStatus(ping.status, `GET ${baseUrl}/v2/`).message };
    const challenge = parseChallenge(ping.headers.get("WWW-Authenticate"));
    if (challenge.scheme === "bearer") {
      await fetchToken(challenge, challenge.scope ?? "registry:catalog:*", credentials);
      return { ok: true };
    }
    if (challenge.scheme === "basic" && credentials !== null) {
      const headers = new Headers({ Authorization: basicAuthorization(credentials) });
      const again = await fetchFollowing(`${baseUrl}/v2/`, { method: "GET", headers }, `GET ${baseUrl}/v2/`);
      await again.body?.cancel();
      return again.status === 200
        ? { ok: true }
        : {
            ok: false,
            message: failureForStatus(again.status, `GET ${baseUrl}/v2/ with the rule's credentials`).message,
          };
    }
    return { ok: false, message: `GET ${baseUrl}/v2/ asks for credentials the rule does not have` };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}
