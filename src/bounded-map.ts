/**
 * A Map with a maximum number of entries and, optionally, a time to live: the one shape for
 * every cache kept at module scope. An isolate serves requests for hours, so anything it
 * remembers across requests must be bounded, whatever the requests carry (a new token, key
 * id or upstream per request must not grow it). The least recently used entry is dropped
 * first (a Map iterates in insertion order; a hit moves its entry to the end); an expired
 * entry is dropped when it is next looked up, or sooner when it is the oldest.
 */
export class BoundedMap<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();

  /**
   * @param maxEntries most entries kept (at least 1)
   * @param ttlMs how long an entry lives unless `set` says otherwise (default: until evicted)
   * @param now the clock (tests give their own); read only when an entry is used, since
   *   workerd's clock does not run at module scope
   */
  constructor(
    readonly maxEntries: number,
    private readonly ttlMs = Number.POSITIVE_INFINITY,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new RangeError(`maxEntries must be a positive integer, not ${maxEntries}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The live value of `key` (which becomes the most recently used), or undefined. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  /** Stores `value`, living `ttlMs` (default: the map's), evicting the oldest entries beyond the bound. */
  set(key: K, value: V, ttlMs = this.ttlMs): this {
    const now = this.now();
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: now + ttlMs });
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && entry.expiresAt > now) break;
      this.entries.delete(oldest);
    }
    return this;
  }

  /** The live values, least recently used first. */
  values(): V[] {
    const now = this.now();
    const live: V[] = [];
    for (const entry of this.entries.values()) if (entry.expiresAt > now) live.push(entry.value);
    return live;
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
