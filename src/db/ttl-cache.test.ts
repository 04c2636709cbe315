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

test('stale while revalidate: an expired value is served at once while one background read replaces it', async () => {
  const cached = ttlCache<string, number>(50, { staleWhileRevalidate: true });
  const db = {};
  let reads = 0;
  let release: () => void = () => {};
  const slow = () => new Promise<number>((r) => (release = () => r(++reads)));
  const first = cached(db, 'k', slow);
  release();
  assert.equal(await first, 1, 'the first caller waits for the first read');
  await new Promise((r) => setTimeout(r, 70));
  const [a, b] = await Promise.all([cached(db, 'k', slow), cached(db, 'k', slow)]);
  assert.deepEqual([a, b], [1, 1], 'expired: the old value, without waiting');
  release(); // the one background read (a second caller did not start another)
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(reads, 2);
  assert.equal(await cached(db, 'k', slow), 2, 'then the new value');

  await new Promise((r) => setTimeout(r, 70));
  assert.equal(await cached(db, 'k', () => Promise.reject(new Error('down'))), 2, 'a failed refresh keeps the old value');
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(await cached(db, 'k', async () => 99), 2, 'and the old value is kept until it expires again');
});

test('spread: entries filled together expire at different moments within ttl × (1 … 1 + spread)', async () => {
  const cached = ttlCache<number, number>(40, { spread: 1 });
  const db = {};
  let reads = 0;
  for (let k = 0; k < 200; k++) await cached(db, k, async () => ++reads);
  await new Promise((r) => setTimeout(r, 60)); // past 40 ms, before 80 ms: about half expired
  const before = reads;
  for (let k = 0; k < 200; k++) await cached(db, k, async () => ++reads);
  const again = reads - before;
  assert.ok(again > 20 && again < 180, `${again} of 200 read again`);
  await new Promise((r) => setTimeout(r, 90));
  const before2 = reads;
  for (let k = 0; k < 200; k++) await cached(db, k, async () => ++reads);
  assert.equal(reads - before2, 200, 'all expired after ttl × (1 + spread)');
});
