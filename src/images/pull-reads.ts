/**
 * The reads of a pull (`/v2` GET and HEAD of manifests and blobs), placed near the user. Each
 * read goes to the nearest place that may answer it, in this order (README "Pulls near users"):
 *
 *   manifest by digest  read cache → nearest D1 read replica → D1 primary (when the replica
 *                       does not have the row yet)
 *   manifest by tag     read cache (the location's) → D1 primary: a tag moves, and the primary
 *                       is the one place that has every move, so a pusher reads its tag back
 *   blob link           read cache → nearest D1 read replica → D1 primary
 *   bytes               the location's edge cache (src/distribution/blobs.ts) → the replica
 *                       bucket nearest the request (when it has the object) → the home bucket
 *
 * A replica may be behind the primary, so a row it lacks is looked for at the primary; a row
 * it still has after a delete is served until the replica applies the delete (D1's replica
 * lag). The read cache (READ_CACHE_SECONDS, src/storage/read-cache.ts) keeps what a read found
 * for at most that long. Authorization is decided before any of these is called.
 */
import type { AppContext } from "../app-env";
import { replicaBuckets, settingsOf } from "../config/load";
import { locationOf, nearestRegion } from "../geo/nearest";
import { parseDigest, type Reference } from "../oci/grammar";
import { tagNeedsRevalidation } from "../pull-through/rules";
import { findBlobLink, type BlobLocation } from "../storage/blob-links";
import { manifestKey } from "../storage/keys";
import {
  findManifestByDigest,
  findManifestByTag,
  type StoredManifest,
  type TaggedManifest,
} from "../storage/manifest-records";
import { cachedRead, forget, remember } from "../storage/read-cache";

function isNullableString(value: unknown): value is string | null {
  return value === null || typeof value === "string";
}

function field(value: unknown, name: string): unknown {
  return typeof value === "object" && value !== null ? Reflect.get(value, name) : undefined;
}

function asStoredManifest(value: unknown): StoredManifest | null {
  const digest = field(value, "digest");
  const mediaType = field(value, "mediaType");
  const size = field(value, "size");
  const body = field(value, "body");
  const subject = field(value, "subject");
  if (typeof digest !== "string" || typeof mediaType !== "string" || typeof size !== "number") return null;
  if (!isNullableString(body) || !isNullableString(subject)) return null;
  return { digest, mediaType, size, body, subject };
}

function asTaggedManifest(value: unknown): TaggedManifest | null {
  const stored = asStoredManifest(value);
  const updatedAt = field(value, "updatedAt");
  const validatedAt = field(value, "validatedAt");
  if (stored === null || typeof updatedAt !== "number") return null;
  if (validatedAt !== null && typeof validatedAt !== "number") return null;
  return { ...stored, updatedAt, validatedAt };
}

function asBlobLocation(value: unknown): BlobLocation | null {
  const size = field(value, "size");
  const objectKey = field(value, "objectKey");
  return typeof size === "number" && typeof objectKey === "string" ? { size, objectKey } : null;
}

/** Reads the nearest replica, then the primary when the replica does not have it. */
async function nearestThenPrimary<T>(c: AppContext, read: (db: AppContext["var"]["db"]) => Promise<T | undefined>) {
  return (await read(c.var.nearDb)) ?? (await read(c.var.db));
}

/** The manifest a pull asks for, by tag or by digest; undefined when the repository has none. */
export async function findManifestForPull(
  c: AppContext,
  name: string,
  reference: Reference,
): Promise<StoredManifest | TaggedManifest | undefined> {
  const ttl = c.var.settings.readCacheMs;
  if (reference.kind === "tag") {
    const cached = await cachedRead(ttl, "tag", name, reference.tag, asTaggedManifest);
    // A pull-through cache's tag due for revalidation is read again (its validation time moves).
    const due = (tagged: TaggedManifest) =>
      tagNeedsRevalidation(tagged.validatedAt, Date.now(), c.var.settings.pullThroughTagRevalidateMs);
    if (cached !== undefined && !due(cached)) return cached;
    const found = await findManifestByTag(c.var.db, name, reference.tag);
    if (found !== undefined) c.executionCtx.waitUntil(rememberTag(ttl, name, reference.tag, found, "read"));
    return found;
  }
  const digest = reference.digest.digest;
  const cached = await cachedRead(ttl, "manifest", name, digest, asStoredManifest);
  if (cached !== undefined) return cached;
  const found = await nearestThenPrimary(c, (db) => findManifestByDigest(db, name, digest));
  if (found !== undefined) c.executionCtx.waitUntil(remember(ttl, "isolate+location", "manifest", name, digest, found));
  return found;
}

/** The repository's link to a blob (the pull's permission to read it, and where it lives). */
export async function findBlobLinkForPull(
  c: AppContext,
  name: string,
  digest: string,
): Promise<BlobLocation | undefined> {
  const ttl = c.var.settings.readCacheMs;
  const cached = await cachedRead(ttl, "link", name, digest, asBlobLocation);
  if (cached !== undefined) return cached;
  const found = await nearestThenPrimary(c, (db) => findBlobLink(db, name, digest));
  if (found !== undefined) c.executionCtx.waitUntil(remember(ttl, "isolate+location", "link", name, digest, found));
  return found;
}

/**
 * Keeps a tag's manifest in the location's read cache. A pushed tag replaces whatever is
 * there; a tag read from D1 does not replace an entry that moved later (a read that began
 * before a push and ends after it must not put the old digest back over the pusher's).
 */
async function rememberTag(
  ttl: number,
  name: string,
  tag: string,
  manifest: TaggedManifest,
  source: "push" | "read",
): Promise<void> {
  if (source === "read") {
    const current = await cachedRead(ttl, "tag", name, tag, asTaggedManifest);
    if (current !== undefined && current.updatedAt > manifest.updatedAt) return;
  }
  await remember(ttl, "location", "tag", name, tag, manifest);
}

/** After a push that set a tag: this location answers the tag with the new manifest at once. */
export async function rememberPushedTag(env: Env, name: string, tag: string, manifest: TaggedManifest): Promise<void> {
  await rememberTag(settingsOf(env).readCacheMs, name, tag, manifest, "push");
}

/** After a delete: this isolate and location stop answering what was deleted at once. */
export async function forgetDeleted(
  env: Env,
  name: string,
  deleted: { tag: string } | { manifest: string } | { blob: string },
): Promise<void> {
  const ttl = settingsOf(env).readCacheMs;
  if ("tag" in deleted) await forget(ttl, "tag", name, deleted.tag);
  else if ("manifest" in deleted) await forget(ttl, "manifest", name, deleted.manifest);
  else await forget(ttl, "link", name, deleted.blob);
}

/**
 * A manifest's bytes for a pull: the text its D1 row holds, or the object in R2 (nearest
 * bucket first) for one too large for the row; null when R2 no longer has it.
 */
export async function readManifestForPull(
  c: AppContext,
  manifest: StoredManifest,
): Promise<string | R2ObjectBody | null> {
  if (manifest.body !== null) return manifest.body;
  const digest = parseDigest(manifest.digest);
  if (digest === null) return null;
  return getNearestObject(c, manifestKey(digest), manifestKey(digest));
}

/**
 * The object at `key` in the replica bucket nearest the request (when that is not the home
 * region's and it holds the object: R2 shows an object only once it is whole, and replication
 * writes it only after its digest checked), else at `homeKey` in the home bucket.
 */
export async function getNearestObject(
  c: AppContext,
  replicaKey: string,
  homeKey: string,
  options?: R2GetOptions,
): Promise<R2ObjectBody | null> {
  const replica = nearestReplicaBucket(c);
  if (replica !== null) {
    const object = await replica.get(replicaKey, options);
    if (object !== null) return object;
  }
  return c.env.BLOBS.get(homeKey, options);
}

/** The replica bucket of the region nearest the request, or null when home is nearest. */
function nearestReplicaBucket(c: AppContext): R2Bucket | null {
  const settings = c.var.settings;
  if (settings.replicaRegions.length === 0) return null;
  const replicas = replicaBuckets(c.env, settings);
  const home = settings.auth.region;
  const nearest = nearestRegion(locationOf(c.req.raw.cf), [home, ...replicas.map(({ region }) => region)]);
  return replicas.find(({ region }) => region === nearest)?.bucket ?? null;
}
