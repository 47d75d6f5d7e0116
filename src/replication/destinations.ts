/**
 * Other registries replication may push to: for each registry id (another account), the OCI
 * endpoint it is reached at and the credentials to push with (a user name and password or
 * access key, as `docker login` takes them). Kept as one sealed registry secret per registry
 * (`replication/<registryId>`, AES-GCM under REGISTRY_SECRETS_KEY, src/auth/sealed-secrets.ts):
 * the credentials are never returned, only the endpoint and the user name.
 */
import { openSecret, sealSecret } from "../auth/sealed-secrets";
import type { Database } from "../storage/database";
import {
  deleteRegistrySecret,
  findRegistrySecret,
  listRegistrySecrets,
  putRegistrySecret,
} from "../storage/pull-through-records";

const PREFIX = "replication/";

export interface RegistryDestination {
  registryId: string;
  /** `https://host[:port]` (http only for a loopback address, as in tests and local runs). */
  endpoint: string;
  credentials: { username: string; password: string } | null;
  /**
   * The largest request body the destination takes (a registry behind Cloudflare: 100 MB on the
   * Free and Pro plans): larger blobs are uploaded in chunks of this size. Null: each blob in one
   * request, as docker and skopeo push.
   */
  chunkBytes: number | null;
}

export async function putRegistryDestination(
  db: Database,
  key: CryptoKey,
  destination: RegistryDestination,
  now: number,
): Promise<void> {
  const name = `${PREFIX}${destination.registryId}`;
  const sealed = await sealSecret(key, name, JSON.stringify(destination));
  await putRegistrySecret(db, name, sealed, now);
}

/** The destination, or null when none is configured (or it no longer opens under the key). */
export async function findRegistryDestination(
  db: Database,
  key: CryptoKey | null,
  registryId: string,
): Promise<RegistryDestination | null> {
  const name = `${PREFIX}${registryId}`;
  const sealed = await findRegistrySecret(db, name);
  if (sealed === undefined || key === null) return null;
  return readDestination(await openSecret(key, name, sealed));
}

export async function listRegistryDestinations(db: Database, key: CryptoKey | null): Promise<RegistryDestination[]> {
  if (key === null) return [];
  const found: RegistryDestination[] = [];
  for (const { name, sealed } of await listRegistrySecrets(db, PREFIX)) {
    const destination = readDestination(await openSecret(key, name, sealed));
    if (destination !== null) found.push(destination);
  }
  return found;
}

export async function deleteRegistryDestination(db: Database, registryId: string): Promise<boolean> {
  return deleteRegistrySecret(db, `${PREFIX}${registryId}`);
}

function readDestination(text: string | null): RegistryDestination | null {
  if (text === null) return null;
  const value: unknown = JSON.parse(text);
  if (typeof value !== "object" || value === null) return null;
  const { registryId, endpoint, credentials, chunkBytes } = value as Record<string, unknown>;
  if (typeof registryId !== "string" || typeof endpoint !== "string") return null;
  const usable =
    typeof credentials === "object" &&
    credentials !== null &&
    typeof (credentials as Record<string, unknown>).username === "string" &&
    typeof (credentials as Record<string, unknown>).password === "string";
  return {
    registryId,
    endpoint,
    credentials: usable ? (credentials as { username: string; password: string }) : null,
    chunkBytes: typeof chunkBytes === "number" ? chunkBytes : null,
  };
}
