/**
 * Access-key secrets sealed for SigV4. A SigV4 signature is an HMAC keyed by the secret, so
 * checking one needs the secret itself, not the slow hash kept for Basic credentials. Secrets
 * are sealed with AES-256-GCM under REGISTRY_SECRETS_KEY (32 random bytes, base64), bound to
 * their access key id as associated data so a sealed value cannot be moved to another key.
 * Format: `v1.<iv base64>.<ciphertext base64>`.
 */
const VERSION = "v1";

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}

/** Imports REGISTRY_SECRETS_KEY; throws when it is not 32 bytes of base64. */
export async function importSecretsKey(text: string): Promise<CryptoKey> {
  let raw: Uint8Array;
  try {
    raw = fromBase64(text.trim());
  } catch {
    throw new Error("REGISTRY_SECRETS_KEY must be base64");
  }
  if (raw.length !== 32) throw new Error("REGISTRY_SECRETS_KEY must be 32 bytes (base64 of 32 random bytes)");
  return crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

export async function sealSecret(key: CryptoKey, accessKeyId: string, secret: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(accessKeyId) },
    key,
    new TextEncoder().encode(secret),
  );
  return `${VERSION}.${toBase64(iv)}.${toBase64(new Uint8Array(sealed))}`;
}

/**
 * A sealed value of a real secret's shape (40 characters) that opens under no key: unsealed in
 * place of a key that does not exist, so every access key id costs the same work.
 */
export const NOTHING_SEALED = `${VERSION}.${toBase64(new Uint8Array(12))}.${toBase64(new Uint8Array(40 + 16))}`;

/** The secret, or null when the value was not sealed for this access key under this key. */
export async function openSecret(key: CryptoKey, accessKeyId: string, sealed: string): Promise<string | null> {
  const [version, ivText, dataText] = sealed.split(".");
  if (version !== VERSION || !ivText || !dataText) return null;
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64(ivText), additionalData: new TextEncoder().encode(accessKeyId) },
      key,
      fromBase64(dataText),
    );
    return new TextDecoder().decode(plain);
  } catch {
    return null;
  }
}
