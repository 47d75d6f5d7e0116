/**
 * Registry tokens (Docker token-auth JWTs) and ECR-style authorization tokens, signed with
 * ES256 and verified with the algorithm pinned: a token in any other algorithm (`none`,
 * HS256 keyed with the public key, ...) is refused, as is one whose `kid` is not a configured
 * verification key.
 */
import { jwtVerify, SignJWT, type JWTPayload } from "jose";
import { BoundedMap } from "../bounded-map";
import type { AccessEntry } from "./caller";
import { TOKEN_ALGORITHM, TOKEN_ISSUER, type AuthConfig } from "./config";
import { ConfigurationError } from "../errors";

/** Lifetime of a registry token (the Docker spec's minimum is 60 s). */
export const REGISTRY_TOKEN_SECONDS = 300;
/** Lifetime of an authorization token (`docker login -u AWS`), as ECR's. */
export const AUTHORIZATION_TOKEN_SECONDS = 12 * 60 * 60;

export interface RegistryTokenClaims {
  /** The principal's ARN, or "" for anonymous. */
  sub: string;
  /** Expiry, seconds since the epoch (set when verified). */
  exp: number;
  /** The principal's unique user id, or "" for anonymous. */
  uid: string;
  access: AccessEntry[];
  /** The access key id whose credentials the token was issued for (the audit trail's key). */
  akid?: string;
}

/** Whom a login token was issued to. */
export interface TokenSubject {
  arn: string;
  userId: string;
}

/** Lifetime of a layer download URL minted without R2's S3 API (GetDownloadUrlForLayer). */
export const DOWNLOAD_TOKEN_SECONDS = 300;

/** What a token is for; a token of one use is refused for any other. */
type TokenUse = "registry" | "login" | "download";

/** What a download token lets its bearer fetch: one blob of one repository. */
export interface DownloadGrant {
  repository: string;
  digest: string;
}

async function sign(
  config: AuthConfig,
  claims: JWTPayload,
  seconds: number,
): Promise<{ token: string; issuedAt: Date; expiresAt: Date }> {
  if (!config.signingKey) throw new ConfigurationError("REGISTRY_TOKEN_SIGNING_KEY is not set: no token can be issued");
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: config.signingKey.kid, typ: "JWT" })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(config.service)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + seconds)
    .setJti(crypto.randomUUID())
    .sign(config.signingKey.key);
  return { token, issuedAt: new Date(now * 1000), expiresAt: new Date((now + seconds) * 1000) };
}

/**
 * How far a token's `iat` may lie ahead of this clock: the isolate that signed it may run a
 * little ahead of the one verifying it, but a token issued later than that was not issued by
 * this registry's clock (jose checks `iat` only against a maximum age, and its clockTolerance
 * would also stretch `exp`, so the check is ours).
 */
export const CLOCK_SKEW_SECONDS = 60;

/** True when `iat` is later than `now` (seconds) plus the allowed clock skew. */
export function issuedInTheFuture(iat: number | undefined, now: number): boolean {
  return iat === undefined || iat > now + CLOCK_SKEW_SECONDS;
}

async function verify(config: AuthConfig, token: string, use: TokenUse): Promise<JWTPayload | null> {
  try {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        const key = header.kid ? config.verificationKeys.get(header.kid) : undefined;
        if (!key) throw new Error("unknown signing key");
        return key;
      },
      {
        algorithms: [TOKEN_ALGORITHM],
        issuer: TOKEN_ISSUER,
        audience: config.service,
        requiredClaims: ["exp", "nbf", "iat", "sub"],
      },
    );
    if (issuedInTheFuture(payload.iat, Math.floor(Date.now() / 1000))) return null;
    return payload.use === use ? payload : null;
  } catch {
    return null;
  }
}

export function issueRegistryToken(config: AuthConfig, claims: Omit<RegistryTokenClaims, "exp">) {
  return sign(
    config,
    {
      sub: claims.sub,
      uid: claims.uid,
      access: claims.access,
      ...(claims.akid === undefined ? {} : { akid: claims.akid }),
      use: "registry" satisfies TokenUse,
    },
    REGISTRY_TOKEN_SECONDS,
  );
}

function isAccessEntry(value: unknown): value is AccessEntry {
  if (typeof value !== "object" || value === null) return false;
  const entry = value as Record<string, unknown>;
  return (
    typeof entry.type === "string" &&
    typeof entry.name === "string" &&
    Array.isArray(entry.actions) &&
    entry.actions.every((action) => typeof action === "string")
  );
}

/**
 * Verified registry tokens, remembered per isolate until they expire: a client sends the same
 * token with every request of a pull, and the signature need only be checked once.
 */
const verifiedTokens = new BoundedMap<string, { claims: RegistryTokenClaims; keys: AuthConfig["verificationKeys"] }>(
  10_000,
);

export async function verifyRegistryToken(config: AuthConfig, token: string): Promise<RegistryTokenClaims | null> {
  const known = verifiedTokens.get(token);
  // Reused only while it has not expired and the same verification keys are configured.
  if (known && known.keys === config.verificationKeys) return known.claims;
  const claims = await verifyRegistryTokenSignature(config, token);
  if (claims) {
    verifiedTokens.set(token, { claims, keys: config.verificationKeys }, claims.exp * 1000 - Date.now());
  }
  return claims;
}

async function verifyRegistryTokenSignature(config: AuthConfig, token: string): Promise<RegistryTokenClaims | null> {
  const payload = await verify(config, token, "registry");
  if (!payload || typeof payload.sub !== "string" || typeof payload.uid !== "string" || !Array.isArray(payload.access))
    return null;
  if (!payload.access.every(isAccessEntry) || typeof payload.exp !== "number") return null;
  return {
    sub: payload.sub,
    uid: payload.uid,
    access: payload.access,
    exp: payload.exp,
    ...(typeof payload.akid === "string" ? { akid: payload.akid } : {}),
  };
}

/** A login token (the password of user `AWS`, or a refresh token), valid 12 hours. */
export function issueLoginToken(config: AuthConfig, subject: TokenSubject) {
  return sign(
    config,
    { sub: subject.arn, uid: subject.userId, use: "login" satisfies TokenUse },
    AUTHORIZATION_TOKEN_SECONDS,
  );
}

/** Whom a login token was issued to, or null. */
export async function verifyLoginToken(config: AuthConfig, token: string): Promise<TokenSubject | null> {
  const payload = await verify(config, token, "login");
  if (typeof payload?.sub !== "string" || payload.sub === "" || typeof payload.uid !== "string") return null;
  return { arn: payload.sub, userId: payload.uid };
}

/** A download token: GET of one blob of one repository, for whoever holds the URL. */
export function issueDownloadToken(
  config: AuthConfig,
  subject: TokenSubject,
  grant: DownloadGrant,
  seconds = DOWNLOAD_TOKEN_SECONDS,
) {
  return sign(
    config,
    {
      sub: subject.arn,
      uid: subject.userId,
      repository: grant.repository,
      digest: grant.digest,
      use: "download" satisfies TokenUse,
    },
    seconds,
  );
}

/** The blob a download token grants, or null when it is invalid or expired. */
export async function verifyDownloadToken(config: AuthConfig, token: string): Promise<DownloadGrant | null> {
  const payload = await verify(config, token, "download");
  if (typeof payload?.repository !== "string" || typeof payload.digest !== "string") return null;
  return { repository: payload.repository, digest: payload.digest };
}
