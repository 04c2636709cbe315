/**
 * A small read-through cache for database reads that many requests repeat and that change rarely (an office's
 * description, the services it offers, its open counters for an estimate): one entry per database and key, kept
 * `ttlMs`, shared by concurrent callers (the promise is cached, so a burst of requests makes one query). Failures are
 * not remembered. Each process has its own copy: a change made elsewhere is seen at most `ttlMs` later.
 */
export function ttlCache<K, V>(ttlMs: number, maxEntries = 10_000) {
  const perDb = new WeakMap<object, Map<K, { at: number; value: Promise<V> }>>();
  function cached(db: object, key: K, load: () => Promise<V>): Promise<V> {
    let cache = perDb.get(db);
    if (!cache) perDb.set(db, (cache = new Map()));
    const hit = cache.get(key);
    const now = Date.now();
    if (hit && now - hit.at < ttlMs) return hit.value;
    const value = load();
    if (cache.size >= maxEntries) cache.clear();
    cache.set(key, { at: now, value });
    const c = cache;
    value.catch(() => {
      if (c.get(key)?.value === value) c.delete(key);
    });
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
