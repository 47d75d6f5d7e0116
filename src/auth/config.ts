/**
 * Authentication settings read from the Worker's environment, parsed once per isolate.
 *
 *   REGISTRY_ACCOUNT_ID               12-digit account id used in ARNs (default 000000000000)
 *   REGISTRY_REGION                   region used in repository ARNs (default us-east-1)
 *   REGISTRY_SERVICE                  token audience / `service` of the challenge
 *   REGISTRY_ADMIN_ACCESS_KEY_ID      bootstrap admin's access key id (a secret)
 *   REGISTRY_ADMIN_SECRET_ACCESS_KEY  bootstrap admin's secret (a secret)
 *   REGISTRY_TOKEN_SIGNING_KEY        private ES256 JWK (JSON, with "kid") that signs tokens
 *   REGISTRY_TOKEN_VERIFICATION_KEYS  optional JSON array of public JWKs still accepted
 *                                     (keys being rotated out)
 *   REGISTRY_SECRETS_KEY              32 random bytes, base64: seals access-key secrets so the
 *                                     control plane can check SigV4 signatures (a secret)
 * A malformed setting is a ConfigurationError naming it (503 on every request that needs it,
 * logged once), never a 500. `npm start` checks the same before it starts
 * (scripts/dev-vars.mjs checkSettings).
 */
import { importJWK, type JWK } from "jose";
import { ConfigurationError } from "../errors";
import { importSecretsKey } from "./sealed-secrets";

export const TOKEN_ALGORITHM = "ES256";
export const TOKEN_ISSUER = "edge-registry";

export interface AuthConfig {
  accountId: string;
  region: string;
  service: string;
  admin: { accessKeyId: string; secret: string } | null;
  signingKey: { kid: string; key: CryptoKey } | null;
  /** Public keys by kid: the signing key's and any still being accepted. */
  verificationKeys: Map<string, CryptoKey>;
  /** The public keys as a JWKS document. */
  jwks: { keys: JWK[] };
  /** Seals access-key secrets for SigV4 (src/auth/sealed-secrets.ts); null when not configured. */
  secretsKey: CryptoKey | null;
}

interface AuthEnv {
  REGISTRY_ACCOUNT_ID?: string;
  REGISTRY_REGION?: string;
  REGISTRY_SERVICE?: string;
  REGISTRY_ADMIN_ACCESS_KEY_ID?: string;
  REGISTRY_ADMIN_SECRET_ACCESS_KEY?: string;
  REGISTRY_TOKEN_SIGNING_KEY?: string;
  REGISTRY_TOKEN_VERIFICATION_KEYS?: string;
  REGISTRY_SECRETS_KEY?: string;
}

let cached: { source: string; config: Promise<AuthConfig> } | null = null;

export function authConfig(env: Env): Promise<AuthConfig> {
  const vars = env as unknown as AuthEnv;
  const source = JSON.stringify([
    vars.REGISTRY_ACCOUNT_ID,
    vars.REGISTRY_REGION,
    vars.REGISTRY_SERVICE,
    vars.REGISTRY_ADMIN_ACCESS_KEY_ID,
    vars.REGISTRY_ADMIN_SECRET_ACCESS_KEY,
    vars.REGISTRY_TOKEN_SIGNING_KEY,
    vars.REGISTRY_TOKEN_VERIFICATION_KEYS,
    vars.REGISTRY_SECRETS_KEY,
  ]);
  if (cached?.source !== source) cached = { source, config: loadConfig(vars) };
  return cached.config;
}

function parseJwk(text: string, what: string): JWK {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigurationError(`${what} is not JSON (it must be an ES256 JWK)`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ConfigurationError(`${what} must be a JWK object`);
  const jwk = value as JWK;
  if (jwk.kty !== "EC" || jwk.crv !== "P-256") throw new ConfigurationError(`${what} must be an EC P-256 key (ES256)`);
  if (typeof jwk.kid !== "string" || jwk.kid === "") throw new ConfigurationError(`${what} needs a "kid"`);
  return jwk;
}

async function importKey(jwk: JWK, what: string): Promise<CryptoKey> {
  try {
    return (await importJWK(jwk, TOKEN_ALGORITHM)) as CryptoKey;
  } catch {
    throw new ConfigurationError(`${what} is not a valid P-256 key`);
  }
}

function publicPart(jwk: JWK): JWK {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid: jwk.kid, alg: TOKEN_ALGORITHM, use: "sig" };
}

async function loadConfig(vars: AuthEnv): Promise<AuthConfig> {
  const accountId = vars.REGISTRY_ACCOUNT_ID || "000000000000";
  if (!/^\d{12}$/.test(accountId)) throw new ConfigurationError("REGISTRY_ACCOUNT_ID must be 12 digits");
  if (Boolean(vars.REGISTRY_ADMIN_ACCESS_KEY_ID) !== Boolean(vars.REGISTRY_ADMIN_SECRET_ACCESS_KEY)) {
    throw new ConfigurationError("REGISTRY_ADMIN_ACCESS_KEY_ID and REGISTRY_ADMIN_SECRET_ACCESS_KEY must be set together");
  }
  const admin =
    vars.REGISTRY_ADMIN_ACCESS_KEY_ID && vars.REGISTRY_ADMIN_SECRET_ACCESS_KEY
      ? { accessKeyId: vars.REGISTRY_ADMIN_ACCESS_KEY_ID, secret: vars.REGISTRY_ADMIN_SECRET_ACCESS_KEY }
      : null;
  const verificationKeys = new Map<string, CryptoKey>();
  const published: JWK[] = [];
  let signingKey: AuthConfig["signingKey"] = null;
  if (vars.REGISTRY_TOKEN_SIGNING_KEY) {
    const jwk = parseJwk(vars.REGISTRY_TOKEN_SIGNING_KEY, "REGISTRY_TOKEN_SIGNING_KEY");
    if (typeof jwk.d !== "string") throw new ConfigurationError('REGISTRY_TOKEN_SIGNING_KEY must be a private key (with "d")');
    const key = await importKey(jwk, "REGISTRY_TOKEN_SIGNING_KEY");
    signingKey = { kid: jwk.kid!, key };
    const pub = publicPart(jwk);
    verificationKeys.set(jwk.kid!, await importKey(pub, "REGISTRY_TOKEN_SIGNING_KEY"));
    published.push(pub);
  }
  if (vars.REGISTRY_TOKEN_VERIFICATION_KEYS) {
    let list: unknown;
    try {
      list = JSON.parse(vars.REGISTRY_TOKEN_VERIFICATION_KEYS);
    } catch {
      throw new ConfigurationError("REGISTRY_TOKEN_VERIFICATION_KEYS is not JSON");
    }
    if (!Array.isArray(list)) throw new ConfigurationError("REGISTRY_TOKEN_VERIFICATION_KEYS must be a JSON array of JWKs");
    for (const [index, entry] of list.entries()) {
      const jwk = parseJwk(JSON.stringify(entry), `REGISTRY_TOKEN_VERIFICATION_KEYS[${index}]`);
      const pub = publicPart(jwk);
      if (verificationKeys.has(jwk.kid!)) continue;
      verificationKeys.set(jwk.kid!, await importKey(pub, `REGISTRY_TOKEN_VERIFICATION_KEYS[${index}]`));
      published.push(pub);
    }
  }
  return {
    accountId,
    region: vars.REGISTRY_REGION || "us-east-1",
    service: vars.REGISTRY_SERVICE || "edge-registry",
    admin,
    signingKey,
    verificationKeys,
    jwks: { keys: published },
    secretsKey: vars.REGISTRY_SECRETS_KEY ? await secretsKeyOf(vars.REGISTRY_SECRETS_KEY) : null,
  };
}

async function secretsKeyOf(text: string): Promise<CryptoKey> {
  try {
    return await importSecretsKey(text);
  } catch (error) {
    // importSecretsKey's messages name the setting and say what it must be.
    throw new ConfigurationError(error instanceof Error ? error.message : "REGISTRY_SECRETS_KEY is malformed");
  }
}
