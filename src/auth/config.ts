/**
 * Authentication's keys, imported from the settings' text (src/config/settings.ts parses the
 * variables: REGISTRY_ACCOUNT_ID, REGISTRY_REGION, REGISTRY_SERVICE, the bootstrap admin's key,
 * REGISTRY_TOKEN_SIGNING_KEY, REGISTRY_TOKEN_VERIFICATION_KEYS, REGISTRY_SECRETS_KEY), once per
 * isolate. A malformed key is a ConfigurationError naming it (503 on every request that needs
 * it, logged once), never a 500. `npm start` checks the same before it starts
 * (scripts/dev-vars.mjs checkSettings).
 */
import { importJWK, type JWK } from "jose";
import type { AuthSettings } from "../config/settings";
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

/**
 * The last settings' keys. Importing keys is asynchronous and costs a few milliseconds, so the
 * same secrets reuse the same keys even when they come in another settings object (tests call
 * the Worker with envs of their own).
 */
let cached: { settings: AuthSettings; source: string; config: Promise<AuthConfig> } | null = null;

export function authConfig(settings: AuthSettings): Promise<AuthConfig> {
  if (cached?.settings === settings) return cached.config;
  const source = JSON.stringify(settings);
  if (cached?.source !== source) cached = { settings, source, config: loadConfig(settings) };
  else cached.settings = settings;
  return cached.config;
}

function parseJwk(text: string, what: string): JWK {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigurationError(`${what} is not JSON (it must be an ES256 JWK)`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new ConfigurationError(`${what} must be a JWK object`);
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

async function loadConfig(settings: AuthSettings): Promise<AuthConfig> {
  const verificationKeys = new Map<string, CryptoKey>();
  const published: JWK[] = [];
  let signingKey: AuthConfig["signingKey"] = null;
  if (settings.tokenSigningKey !== null) {
    const jwk = parseJwk(settings.tokenSigningKey, "REGISTRY_TOKEN_SIGNING_KEY");
    if (typeof jwk.d !== "string")
      throw new ConfigurationError('REGISTRY_TOKEN_SIGNING_KEY must be a private key (with "d")');
    const key = await importKey(jwk, "REGISTRY_TOKEN_SIGNING_KEY");
    signingKey = { kid: jwk.kid!, key };
    const pub = publicPart(jwk);
    verificationKeys.set(jwk.kid!, await importKey(pub, "REGISTRY_TOKEN_SIGNING_KEY"));
    published.push(pub);
  }
  if (settings.tokenVerificationKeys !== null) {
    let list: unknown;
    try {
      list = JSON.parse(settings.tokenVerificationKeys);
    } catch {
      throw new ConfigurationError("REGISTRY_TOKEN_VERIFICATION_KEYS is not JSON");
    }
    if (!Array.isArray(list))
      throw new ConfigurationError("REGISTRY_TOKEN_VERIFICATION_KEYS must be a JSON array of JWKs");
    for (const [index, entry] of list.entries()) {
      const jwk = parseJwk(JSON.stringify(entry), `REGISTRY_TOKEN_VERIFICATION_KEYS[${index}]`);
      const pub = publicPart(jwk);
      if (verificationKeys.has(jwk.kid!)) continue;
      verificationKeys.set(jwk.kid!, await importKey(pub, `REGISTRY_TOKEN_VERIFICATION_KEYS[${index}]`));
      published.push(pub);
    }
  }
  return {
    accountId: settings.accountId,
    region: settings.region,
    service: settings.service,
    admin: settings.admin,
    signingKey,
    verificationKeys,
    jwks: { keys: published },
    secretsKey: settings.secretsKey === null ? null : await secretsKeyOf(settings.secretsKey),
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
