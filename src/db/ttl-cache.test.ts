/** The read-through TTL cache (src/db/ttl-cache.ts): shared in-flight reads, expiry, failures not kept, per database. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ttlCache } from './ttl-cache';

/** A cache over two databases and a loader that counts its reads (each read answers the count so far). */
function counting(ttlMs: number) {
  let reads = 0;
  return { cached: ttlCache<string, number>(ttlMs), dbA: {}, dbB: {}, load: async () => ++reads, reads: () => reads };
}

test('concurrent callers share one read; the value is reused until it expires; each database has its own', async () => {
  const { cached, dbA, dbB, load, reads } = counting(80);
  const [x, y] = await Promise.all([cached(dbA, 'k', load), cached(dbA, 'k', load)]);
  assert.deepEqual([x, y, reads()], [1, 1, 1]);
  assert.equal(await cached(dbA, 'k', load), 1, 'reused within the time to live');
  assert.equal(await cached(dbB, 'k', load), 2, 'another database reads for itself');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(await cached(dbA, 'k', load), 3, 'read again once expired');
});

test('a failed read is not remembered: the next caller reads again', async () => {
  const cached = ttlCache<string, string>(10_000);
  const db = {};
  await assert.rejects(cached(db, 'k', async () => Promise.reject(new Error('down'))), /down/);
  assert.equal(await cached(db, 'k', async () => 'up'), 'up');
});

test('forget drops the given keys, or every key, of one database only', async () => {
  const { cached, dbA, dbB, load, reads } = counting(60_000);
  await cached(dbA, 'x', load);
  await cached(dbA, 'y', load);
  await cached(dbB, 'x', load);
  assert.equal(reads(), 3);
  cached.forget(dbA, ['x']);
  assert.equal(await cached(dbA, 'x', load), 4, 'forgotten: read again');
  assert.equal(await cached(dbA, 'y', load), 2, 'other keys kept');
  cached.forget(dbA);
  assert.equal(await cached(dbA, 'y', load), 5);
  assert.equal(await cached(dbB, 'x', load), 3, 'another database untouched');
});
