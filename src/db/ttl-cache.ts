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
  /**
   * Read ahead: a caller who finds a value in the last `refreshAhead` part of its time to live (0.25: the last
   * quarter) gets it at once and starts ONE background read that replaces it. A key read often is then never
   * expired when a caller comes, so no request waits for its read, and no value served is older than its time to live
   * (unlike staleWhileRevalidate, which serves values past it). A failed read ahead is not retried before expiry.
   */
  refreshAhead?: number;
}

export function ttlCache<K, V>(ttlMs: number, options: TtlCacheOptions = {}) {
  const { maxEntries = 10_000, staleWhileRevalidate = false, spread = 0, refreshAhead = 0 } = options;
  /** `ahead`: from when a caller starts the read ahead (never, without refreshAhead) */
  type Entry = { until: number; ahead: number; value: Promise<V>; settled: boolean; refreshing: boolean };
  const perDb = new WeakMap<object, Map<K, Entry>>();
  const lifetime = () => ttlMs * (1 + spread * Math.random());
  const entry = (from: number, value: Promise<V>, settled: boolean): Entry => {
    const life = lifetime();
    return { until: from + life, ahead: refreshAhead > 0 ? from + life * (1 - refreshAhead) : Infinity, value, settled, refreshing: false };
  };
  function cached(db: object, key: K, load: () => Promise<V>): Promise<V> {
    let cache = perDb.get(db);
    if (!cache) perDb.set(db, (cache = new Map()));
    const hit = cache.get(key);
    const now = Date.now();
    const young = hit !== undefined && now < hit.until;
    // ONE background read replaces a settled copy: in the last part of its life (refreshAhead), or once it has
    // expired (staleWhileRevalidate); meanwhile every caller gets the copy at once
    if (hit && hit.settled && (young ? now >= hit.ahead : staleWhileRevalidate)) {
      if (!hit.refreshing) {
        hit.refreshing = true;
        const c = cache;
        load().then(
          // the new value's age counts from the start of its read: what it says is at most that old
          (v) => {
            if (c.get(key) === hit) c.set(key, entry(now, Promise.resolve(v), true));
          },
          () => {
            hit.refreshing = false;
            if (young) hit.ahead = Infinity; // a failed read ahead: not again before expiry, then a caller reads and waits
            else {
              // a failed refresh of an expired copy: the old one is kept for another life
              const next = entry(Date.now(), hit.value, true);
              hit.until = next.until;
              hit.ahead = next.ahead;
            }
          },
        );
      }
      return hit.value;
    }
    if (young) return hit!.value;
    const value = load();
    if (cache.size >= maxEntries) cache.clear();
    const fresh = entry(now, value, false);
    cache.set(key, fresh);
    const c = cache;
    value.then(
      () => {
        fresh.settled = true;
      },
      () => {
        if (c.get(key) === fresh) c.delete(key);
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
