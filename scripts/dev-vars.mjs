// Local secrets for `npm start`: creates .dev.vars (the file wrangler and Miniflare read for
// secrets in local development) with a random bootstrap admin key, a fresh ES256 token
// signing key and a key that seals access-key secrets, the first time the registry is
// started. Never committed (.gitignore).
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
];

export async function newSigningKeyJwk() {
  const pair = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const jwk = await webcrypto.subtle.exportKey("jwk", pair.privateKey);
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d, kid: randomBytes(8).toString("hex"), alg: "ES256" };
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
 * Creates `path` if it does not exist, and adds settings that a file from an older version
 * lacks; returns true when it wrote anything.
 */
export async function ensureDevVars(path) {
  if (existsSync(path)) {
    if ("REGISTRY_SECRETS_KEY" in readDevVars(path)) return false;
    appendFileSync(path, `REGISTRY_SECRETS_KEY=${newSecretsKey()}\n`);
    return true;
  }
  const admin = newAdminKey();
  const signingKey = await newSigningKeyJwk();
  const lines = [
    "# Local secrets for `npm start` (created on first start; not committed).",
    `REGISTRY_ADMIN_ACCESS_KEY_ID=${admin.id}`,
    `REGISTRY_ADMIN_SECRET_ACCESS_KEY=${admin.secret}`,
    `REGISTRY_TOKEN_SIGNING_KEY='${JSON.stringify(signingKey)}'`,
    `REGISTRY_SECRETS_KEY=${newSecretsKey()}`,
    "",
  ];
  writeFileSync(path, lines.join("\n"), { mode: 0o600 });
  return true;
}

/** Reads KEY=value lines (values optionally in single or double quotes). */
export function readDevVars(path) {
  const vars = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*)\s*$/.exec(line);
    if (!match) continue;
    let value = match[2];
    if ((value.startsWith("'") && value.endsWith("'")) || (value.startsWith('"') && value.endsWith('"'))) value = value.slice(1, -1);
    vars[match[1]] = value;
  }
  return vars;
}
