/**
 * Bounded-staleness caches of pull reads (READ_CACHE_SECONDS; off at 0, the default). Two
 * tiers: this isolate's memory and the location's Cache API (`caches.default`, shared by the
 * isolates of one Cloudflare location). Every entry lives at most the TTL from when it was
 * read from D1, so a change made elsewhere is seen within the TTL; the isolate and location
 * that made a change update or drop their entries at once (`remember`, `forget`).
 *
 * Only answers that something exists are kept: a miss always goes to D1, so a new push is
 * seen at once. Entries are keyed by repository: an entry is an answer for that repository
 * and no other. Callers decide authorization before they look anything up here.
 *
 * What a tier holds is the caller's choice (`tiers`): a tag's entry lives only in the location
 * tier, which the pushing request updates, so a pusher reads its new tag back at once from the
 * location it pushed through; entries keyed by digest (which only a delete changes) live in
 * both.
 */
import { BoundedMap } from "../bounded-map";

export type ReadCacheKind = "tag" | "manifest" | "link";
export type ReadCacheTiers = "isolate+location" | "location";

/** At most this many entries per isolate, each at most ISOLATE_ENTRY_MAX_CHARS: a few MiB at worst. */
const ISOLATE_ENTRIES = 1024;
const ISOLATE_ENTRY_MAX_CHARS = 16 * 1024;
/** JSON of the value by cache key; each entry expires with its own TTL. */
const isolateTier = new BoundedMap<string, string>(ISOLATE_ENTRIES);

function cacheKey(kind: ReadCacheKind, repository: string, key: string): string {
  return `https://read-cache.registry.internal/${kind}/${encodeURIComponent(repository)}/${encodeURIComponent(key)}`;
}

interface Stored {
  value: unknown;
  expiresAt: number;
}

function isStored(value: unknown): value is Stored {
  return (
    typeof value === "object" &&
    value !== null &&
    "value" in value &&
    typeof Reflect.get(value, "expiresAt") === "number"
  );
}

/**
 * The cached value of (kind, repository, key), checked by `parse` (null: not a value of this
 * kind, treated as a miss), or undefined. `ttlMs` 0: nothing is cached, nothing is read.
 */
export async function cachedRead<T>(
  ttlMs: number,
  kind: ReadCacheKind,
  repository: string,
  key: string,
  parse: (value: unknown) => T | null,
): Promise<T | undefined> {
  if (ttlMs <= 0) return undefined;
  const name = cacheKey(kind, repository, key);
  const now = Date.now();
  const local = isolateTier.get(name);
  if (local !== undefined) {
    const value = parse(JSON.parse(local));
    if (value !== null) return value;
  }
  const response = await caches.default.match(name);
  if (response === undefined) return undefined;
  const stored: unknown = await response.json().catch(() => null);
  if (!isStored(stored) || stored.expiresAt <= now) return undefined;
  return parse(stored.value) ?? undefined;
}

/**
 * Keeps `value` for (kind, repository, key) for `ttlMs` from now in the given tiers (and
 * drops a stale isolate copy when only the location tier is asked for).
 */
export async function remember(
  ttlMs: number,
  tiers: ReadCacheTiers,
  kind: ReadCacheKind,
  repository: string,
  key: string,
  value: unknown,
): Promise<void> {
  if (ttlMs <= 0) return;
  const name = cacheKey(kind, repository, key);
  const expiresAt = Date.now() + ttlMs;
  const json = JSON.stringify({ value, expiresAt } satisfies Stored);
  if (tiers === "isolate+location" && json.length <= ISOLATE_ENTRY_MAX_CHARS) {
    isolateTier.set(name, JSON.stringify(value), ttlMs);
  } else {
    isolateTier.delete(name);
  }
  // The Cache API counts whole seconds; the entry's own expiresAt keeps the exact bound.
  const maxAge = Math.ceil(ttlMs / 1000);
  await caches.default.put(
    name,
    new Response(json, { headers: { "Content-Type": "application/json", "Cache-Control": `max-age=${maxAge}` } }),
  );
}

/** Drops (kind, repository, key) from this isolate and this location (nothing to drop when off). */
export async function forget(ttlMs: number, kind: ReadCacheKind, repository: string, key: string): Promise<void> {
  if (ttlMs <= 0) return;
  const name = cacheKey(kind, repository, key);
  isolateTier.delete(name);
  await caches.default.delete(name);
}
