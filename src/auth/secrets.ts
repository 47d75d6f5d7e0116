/**
 * Access-key secrets: stored only as a salted PBKDF2-SHA256 hash and compared in constant
 * time. Verified (stored hash, secret) pairs are remembered per isolate, so a client sending
 * Basic credentials on every request pays the slow hash once, while a deleted key still fails
 * at once (the stored hash is looked up on every request). A wrong secret always costs one
 * derivation, whether its key exists or not (verifyKeySecret).
 */
import { countCredentialWork } from "../bench/counters";
import { BoundedMap } from "../bounded-map";
import { toHex } from "../bytes";

/** Workers caps PBKDF2 at 100,000 iterations. */
const ITERATIONS = 100_000;
const SCHEME = "pbkdf2-sha256";
/** Verified (stored hash, secret hash) pairs; a changed key or secret is simply a new pair. */
const verified = new BoundedMap<string, true>(10_000);

async function derive(secret: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  countCredentialWork("secretHashes");
  const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, material, 256);
  return new Uint8Array(bits);
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>` */
export async function hashSecret(secret: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await derive(secret, salt, ITERATIONS);
  return `${SCHEME}$${ITERATIONS}$${toHex(salt)}$${toHex(hash)}`;
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const cacheKey = `${stored}\u0000${await sha256Hex(secret)}`;
  if (verified.has(cacheKey)) return true;
  const [scheme, iterations, saltHex, hashHex] = stored.split("$");
  if (scheme !== SCHEME || !iterations || !saltHex || !hashHex) return false;
  const actual = await derive(secret, fromHex(saltHex), Number(iterations));
  const ok = constantTimeEqual(actual, fromHex(hashHex));
  if (ok) {
    verified.set(cacheKey, true);
  }
  return ok;
}

/**
 * What a secret is checked against when its access key does not exist: a hash of the same
 * scheme and cost that no secret derives to (all zeros), so an unknown key id costs the same
 * PBKDF2 derivation as a known one with a wrong secret and the answer's timing does not tell
 * which key ids exist.
 */
const NO_SUCH_KEY_HASH = `${SCHEME}$${ITERATIONS}$${"00".repeat(16)}$${"00".repeat(32)}`;

/**
 * Checks a secret against an access key's stored hash, or against NO_SUCH_KEY_HASH when there
 * is no key (`stored` undefined): the same path and the same work either way.
 */
export async function verifyKeySecret(secret: string, stored: string | undefined): Promise<boolean> {
  const matches = await verifySecret(secret, stored ?? NO_SUCH_KEY_HASH);
  return matches && stored !== undefined;
}

/** Compares two secrets without revealing where they differ. */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([sha256(a), sha256(b)]);
  return constantTimeEqual(ha, hb);
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

async function sha256Hex(text: string): Promise<string> {
  return toHex(await sha256(text));
}

/** A new access key: an `AKIA`-style id and a 40-character secret. */
export function newAccessKey(): { accessKeyId: string; secret: string } {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const idBytes = crypto.getRandomValues(new Uint8Array(16));
  const accessKeyId = "AKIA" + [...idBytes].map((b) => alphabet[b % 32]).join("");
  const secretBytes = crypto.getRandomValues(new Uint8Array(30));
  const secret = btoa(String.fromCharCode(...secretBytes))
    .replace(/\+/g, "A")
    .replace(/\//g, "B");
  return { accessKeyId, secret };
}
