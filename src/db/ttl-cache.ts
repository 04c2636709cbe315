/**
 * A small read-through cache for database reads that many requests repeat and that change rarely (an office's
 * description, the services it offers, its open counters for an estimate): one entry per database and key, kept
 * `ttlMs`, shared by concurrent callers (the promise is cached, so a burst of requests makes one query). Failures are
 * not remembered. Each process has its own copy: a change made elsewhere is seen at most `ttlMs` later.
 */
export interface TtlCacheOptions {
  /** most entries kept (the cache is emptied when full); default 10,000 */
  maxEntries?: number;
  /**
   * Serve an expired value while one background read replaces it (no caller waits for it); for values that may be a
   * little old but are costly to read. A failed background read keeps the old value until the next expiry.
   */
  staleWhileRevalidate?: boolean;
  /**
   * Spread each entry's time to live over ttlMs × (1 … 1 + spread), drawn per read: entries filled together (every
   * office at start) do not all expire, and read again, in the same second.
   */
  spread?: number;
}

export function ttlCache<K, V>(ttlMs: number, options: TtlCacheOptions = {}) {
  const { maxEntries = 10_000, staleWhileRevalidate = false, spread = 0 } = options;
  const perDb = new WeakMap<object, Map<K, { until: number; value: Promise<V>; settled: boolean; refreshing: boolean }>>();
  const lifetime = () => ttlMs * (1 + spread * Math.random());
  function cached(db: object, key: K, load: () => Promise<V>): Promise<V> {
    let cache = perDb.get(db);
    if (!cache) perDb.set(db, (cache = new Map()));
    const hit = cache.get(key);
    const now = Date.now();
    if (hit && now < hit.until) return hit.value;
    if (hit && staleWhileRevalidate && hit.settled) {
      if (!hit.refreshing) {
        hit.refreshing = true;
        const c = cache;
        load().then(
          (v) => {
            if (c.get(key) === hit) c.set(key, { until: Date.now() + lifetime(), value: Promise.resolve(v), settled: true, refreshing: false });
          },
          () => {
            hit.refreshing = false;
            hit.until = Date.now() + lifetime();
          },
        );
      }
      return hit.value;
    }
    const value = load();
    if (cache.size >= maxEntries) cache.clear();
    const entry = { until: now + lifetime(), value, settled: false, refreshing: false };
    cache.set(key, entry);
    const c = cache;
    value.then(
      () => {
        entry.settled = true;
      },
      () => {
        if (c.get(key) === entry) c.delete(key);
      },
    );
    return value;
  }
  /** Drop this process's copies for the database: the given keys, or all of them (after a change made here). */
  cached.forget = (db: object, keys?: K[]): void => {
    const cache = perDb.get(db);
    if (!cache) return;
    if (!keys) cache.clear();
    else for (const k of keys) cache.delete(k);
  };
  return cached;
}
