// Local secrets for `npm start`: creates .dev.vars (the file wrangler and Miniflare read for
// secrets in local development) with a random bootstrap admin key, a fresh ES256 token
// signing key and a key that seals access-key secrets, the first time the registry is
// started, and adds whichever of them a file lacks later. Never committed (.gitignore).
// Also checks those settings before the registry starts (checkSettings), so a malformed key
// is one clear line at start instead of a failure on every request.
import { randomBytes, webcrypto } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";

/** Names of the settings that are secrets; the environment overrides .dev.vars for them. */
export const SECRET_NAMES = [
  "REGISTRY_ADMIN_ACCESS_KEY_ID",
  "REGISTRY_ADMIN_SECRET_ACCESS_KEY",
  "REGISTRY_TOKEN_SIGNING_KEY",
  "REGISTRY_TOKEN_VERIFICATION_KEYS",
  "REGISTRY_SECRETS_KEY",
  // Not a secret: turns on the benchmark routes and operation counters (bench/ sets it).
  "REGISTRY_BENCH_MODE",
  // Not a secret: how often pull records are written (tests set it to 0 to write every pull).
  "PULL_RECORD_INTERVAL_SECONDS",
  // Not a secret: how often a pull-through cache revalidates a tag (tests shorten it).
  "PULL_THROUGH_TAG_REVALIDATE_SECONDS",
  // Not secrets: the failed-login throttles (bench/auth-timing.mjs turns them off).
  "LOGIN_THROTTLE_KEY_FAILURES",
  "LOGIN_THROTTLE_IP_FAILURES",
  "LOGIN_THROTTLE_WINDOW_SECONDS",
  // Not secrets: the blob size limit and the request body timeout (tests shorten them).
  "BLOB_MAX_BYTES",
  "REQUEST_BODY_TIMEOUT_SECONDS",
  // Not secrets: who the registry is and how fast replication retries (a second local
  // registry for replication tests and benchmarks is another account).
  "REGISTRY_ACCOUNT_ID",
  "REPLICATION_RETRY_SECONDS",
  "CREATE_ON_PUSH",
  // Not secrets: pulls near users (bench/ turns on the caches, the replica regions and the
  // simulated geography, whose extra bindings scripts/start.mjs adds).
  "READ_CACHE_SECONDS",
  "EDGE_CACHE_MAX_BYTES",
  "REPLICA_REGIONS",
  "REGISTRY_SIMULATED_GEOGRAPHY",
  // Not a secret: the OSV folders the advisories job reads (tests serve their own on 127.0.0.1).
  "ADVISORY_SOURCES",
  // Not secrets: webhook retries and the audit trail's retention (tests shorten them).
  "EVENT_RETRY_SECONDS",
  "EVENT_DELIVERY_ATTEMPTS",
  "AUDIT_RETENTION_DAYS",
];

export async function newSigningKeyJwk() {
  const pair = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const jwk = await webcrypto.subtle.exportKey("jwk", pair.privateKey);
  return {
    kty: jwk.kty,
    crv: jwk.crv,
    x: jwk.x,
    y: jwk.y,
    d: jwk.d,
    kid: randomBytes(8).toString("hex"),
    alg: "ES256",
  };
}

export function newAdminKey() {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const id = "AKIA" + [...randomBytes(16)].map((b) => alphabet[b % 32]).join("");
  const secret = randomBytes(30).toString("base64").replace(/\+/g, "A").replace(/\//g, "B");
  return { id, secret };
}

/** 32 random bytes, base64: the key that seals access-key secrets for SigV4. */
export function newSecretsKey() {
  return randomBytes(32).toString("base64");
}

/**
 * The generated settings, each a group of names generated together (the admin key's id and
 * secret only make sense as a pair), with what it is called in messages.
 */
const GENERATED = [
  {
    names: ["REGISTRY_ADMIN_ACCESS_KEY_ID", "REGISTRY_ADMIN_SECRET_ACCESS_KEY"],
    what: "a bootstrap admin access key",
    values: async () => {
      const admin = newAdminKey();
      return { REGISTRY_ADMIN_ACCESS_KEY_ID: admin.id, REGISTRY_ADMIN_SECRET_ACCESS_KEY: admin.secret };
    },
  },
  {
    names: ["REGISTRY_TOKEN_SIGNING_KEY"],
    what: "a token signing key",
    values: async () => ({ REGISTRY_TOKEN_SIGNING_KEY: JSON.stringify(await newSigningKeyJwk()) }),
  },
  {
    names: ["REGISTRY_SECRETS_KEY"],
    what: "a secrets key",
    values: async () => ({ REGISTRY_SECRETS_KEY: newSecretsKey() }),
  },
];

/**
 * Fresh values for the generated settings whose names are listed (every one by default), by
 * name: what `npm run deploy` puts as Worker secrets.
 */
export async function generateSecrets(names = GENERATED.flatMap((group) => group.names)) {
  const values = {};
  for (const group of GENERATED) {
    if (group.names.some((name) => names.includes(name))) Object.assign(values, await group.values());
  }
  return values;
}

/** A .dev.vars line; JSON goes in single quotes, as dotenv reads it. */
function devVarsLine(name, value) {
  return value.startsWith("{") ? `${name}='${value}'` : `${name}=${value}`;
}

/**
 * Creates `path`, or adds to it, every generated setting that neither the file nor `provided`
 * (names set in the environment, which wins) has. A group half present (an admin key id
 * without its secret) is left alone: checkSettings reports it. Returns what was added, e.g.
 * ["a token signing key"]; nothing is written when nothing is missing.
 */
export async function ensureDevVars(path, provided = new Set()) {
  const existing = existsSync(path) ? readDevVars(path) : null;
  const has = (name) => provided.has(name) || (existing !== null && name in existing);
  const lines = [];
  const added = [];
  for (const group of GENERATED) {
    if (group.names.some(has)) continue;
    lines.push(...Object.entries(await group.values()).map(([name, value]) => devVarsLine(name, value)));
    added.push(group.what);
  }
  if (lines.length === 0) return added;
  if (existing === null) {
    writeFileSync(
      path,
      ["# Local secrets for `npm start` (created on first start; not committed).", ...lines, ""].join("\n"),
      { mode: 0o600 },
    );
  } else {
    const text = readFileSync(path, "utf8");
    appendFileSync(path, `${text === "" || text.endsWith("\n") ? "" : "\n"}${lines.join("\n")}\n`);
  }
  return added;
}

/** Reads KEY=value lines (values optionally in single or double quotes). */
export function readDevVars(path) {
  const vars = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*)\s*$/.exec(line);
    if (!match) continue;
    let value = match[2];
    if ((value.startsWith("'") && value.endsWith("'")) || (value.startsWith('"') && value.endsWith('"')))
      value = value.slice(1, -1);
    vars[match[1]] = value;
  }
  return vars;
}

/** Why a JWK text is not an ES256 key the Worker can use, or null when it is. */
async function jwkProblem(text, name, { privateKey }) {
  let jwk;
  try {
    jwk = JSON.parse(text);
  } catch {
    return `${name} is not JSON (it must be an ES256 JWK)`;
  }
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) return `${name} must be a JWK object`;
  if (jwk.kty !== "EC" || jwk.crv !== "P-256")
    return `${name} must be an EC P-256 key (ES256), not kty ${jwk.kty} crv ${jwk.crv}`;
  if (typeof jwk.kid !== "string" || jwk.kid === "") return `${name} needs a "kid"`;
  if (privateKey && typeof jwk.d !== "string") return `${name} must be a private key (with "d")`;
  try {
    const { d, kty, crv, x, y } = jwk;
    await webcrypto.subtle.importKey(
      "jwk",
      privateKey ? { kty, crv, x, y, d } : { kty, crv, x, y },
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      privateKey ? ["sign"] : ["verify"],
    );
  } catch (error) {
    return `${name} is not a valid P-256 key (${error.message})`;
  }
  return null;
}

/**
 * Problems with the secret settings the Worker will see (`values` by name; the same checks
 * as src/auth/config.ts makes): one { name, message } per problem, the message naming the
 * setting; [] when fine.
 */
export async function checkSettings(values) {
  const problems = [];
  const report = (name, message) => problems.push({ name, message });
  const id = values.REGISTRY_ADMIN_ACCESS_KEY_ID;
  const secret = values.REGISTRY_ADMIN_SECRET_ACCESS_KEY;
  // Named after the line that is there: deleting it lets a new pair be generated.
  if (id && !secret)
    report(
      "REGISTRY_ADMIN_ACCESS_KEY_ID",
      "REGISTRY_ADMIN_ACCESS_KEY_ID is set without REGISTRY_ADMIN_SECRET_ACCESS_KEY",
    );
  if (secret && !id)
    report(
      "REGISTRY_ADMIN_SECRET_ACCESS_KEY",
      "REGISTRY_ADMIN_SECRET_ACCESS_KEY is set without REGISTRY_ADMIN_ACCESS_KEY_ID",
    );
  const signing = values.REGISTRY_TOKEN_SIGNING_KEY;
  if (!signing) report("REGISTRY_TOKEN_SIGNING_KEY", "REGISTRY_TOKEN_SIGNING_KEY is not set: no token can be issued");
  else {
    const problem = await jwkProblem(signing, "REGISTRY_TOKEN_SIGNING_KEY", { privateKey: true });
    if (problem) report("REGISTRY_TOKEN_SIGNING_KEY", problem);
  }
  const verification = values.REGISTRY_TOKEN_VERIFICATION_KEYS;
  if (verification) {
    let list;
    try {
      list = JSON.parse(verification);
    } catch {
      list = null;
    }
    if (!Array.isArray(list))
      report(
        "REGISTRY_TOKEN_VERIFICATION_KEYS",
        "REGISTRY_TOKEN_VERIFICATION_KEYS must be a JSON array of public JWKs",
      );
    else {
      for (const [index, entry] of list.entries()) {
        const problem = await jwkProblem(JSON.stringify(entry), `REGISTRY_TOKEN_VERIFICATION_KEYS[${index}]`, {
          privateKey: false,
        });
        if (problem) report("REGISTRY_TOKEN_VERIFICATION_KEYS", problem);
      }
    }
  }
  const secretsKey = values.REGISTRY_SECRETS_KEY;
  if (secretsKey) {
    const trimmed = secretsKey.trim();
    const length = Buffer.from(trimmed, "base64").length;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed))
      report("REGISTRY_SECRETS_KEY", "REGISTRY_SECRETS_KEY must be base64 (of 32 random bytes)");
    else if (length !== 32)
      report(
        "REGISTRY_SECRETS_KEY",
        `REGISTRY_SECRETS_KEY must be 32 bytes (base64 of 32 random bytes), not ${length}`,
      );
  }
  return problems;
}
