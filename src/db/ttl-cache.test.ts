/** The read-through TTL cache (src/db/ttl-cache.ts): shared in-flight reads, expiry, failures not kept, per database. */
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { ttlCache } from './ttl-cache';

/** A cache over two databases and a loader that counts its reads (each read answers the count so far). */
function counting(ttlMs: number) {
  let reads = 0;
  return { cached: ttlCache<string, number>(ttlMs), dbA: {}, dbB: {}, load: async () => ++reads, reads: () => reads };
}

/** A loader each read of which waits for release(); each read answers the number of reads so far. */
function gated() {
  const g = { reads: 0, release: () => {}, slow: () => new Promise<number>((r) => (g.release = () => r(++g.reads))) };
  return g;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The first read (waited for), then `later` two callers get its value at once while ONE background read runs
 * (the second caller starts no other); answers the first read's value.
 */
async function servedWhileOneReads(cached: ReturnType<typeof ttlCache<string, number>>, db: object, g: ReturnType<typeof gated>, later: () => unknown) {
  const first = cached(db, 'k', g.slow);
  g.release();
  const v = await first;
  assert.equal(v, 1, 'the first caller waits for the first read');
  await later();
  const [a, b] = await Promise.all([cached(db, 'k', g.slow), cached(db, 'k', g.slow)]);
  assert.deepEqual([a, b], [v, v], 'the old value, without waiting');
  g.release();
  await sleep(5);
  assert.equal(g.reads, 2, 'one background read');
  return v;
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
  const g = gated();
  await servedWhileOneReads(cached, db, g, () => sleep(70)); // expired
  assert.equal(await cached(db, 'k', g.slow), 2, 'then the new value');

  await new Promise((r) => setTimeout(r, 70));
  assert.equal(await cached(db, 'k', () => Promise.reject(new Error('down'))), 2, 'a failed refresh keeps the old value');
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(await cached(db, 'k', async () => 99), 2, 'and the old value is kept until it expires again');
});

test('spread: entries filled together expire at different moments within ttl × (1 … 1 + spread)', () => {
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  try {
    const cached = ttlCache<number, number>(1_000, { spread: 1 });
    const db = {};
    let reads = 0;
    const readAll = () => {
      const before = reads;
      for (let k = 0; k < 200; k++) void cached(db, k, async () => ++reads);
      return reads - before;
    };
    assert.equal(readAll(), 200);
    mock.timers.tick(999);
    assert.equal(readAll(), 0, 'none expires before the time to live');
    mock.timers.tick(501);
    const half = readAll();
    assert.ok(half > 20 && half < 180, `at 1.5 × ttl about half expired: ${half} of 200`);
    mock.timers.tick(501); // 2 × ttl: every first entry gone; those read again at 1.5 × live at least until 2.5 ×
    assert.equal(readAll(), 200 - half);
  } finally {
    mock.timers.reset();
  }
});

/** Runs `body` with Date.now() under the test's control (timers and promises run as usual). */
async function withClock(body: (tick: (ms: number) => void) => Promise<void>) {
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  try {
    await body((ms) => mock.timers.tick(ms));
  } finally {
    mock.timers.reset();
  }
}

test('read ahead: in the last part of its life a value is served at once while ONE background read replaces it; none is served past its life', () =>
  withClock(async (tick) => {
    const cached = ttlCache<string, number>(100, { refreshAhead: 0.5 });
    const db = {};
    const g = gated();
    await servedWhileOneReads(cached, db, g, () => tick(60)); // past half of its life, not expired
    assert.equal(await cached(db, 'k', g.slow), 2, 'then the new value');
    tick(40);
    assert.equal(await cached(db, 'k', g.slow), 2, 'its life counts from the start of its read: young still');
    assert.equal(g.reads, 2);

    // a failed read ahead keeps the value until it expires, is not retried before, and the caller after expiry reads and waits
    const failing = ttlCache<string, number>(80, { refreshAhead: 0.5 });
    let tries = 0;
    assert.equal(await failing(db, 'k', async () => 10), 10);
    tick(50);
    const boom = async () => {
      tries++;
      throw new Error('down');
    };
    assert.equal(await failing(db, 'k', boom), 10);
    await sleep(1);
    assert.equal(await failing(db, 'k', boom), 10, 'still served before expiry');
    assert.equal(tries, 1, 'not retried before expiry');
    tick(30);
    assert.equal(await failing(db, 'k', async () => 11), 11, 'expired: read again, and waited for');
  }));

test('read ahead: a value forgotten while its read ahead runs is not brought back by it', () =>
  withClock(async (tick) => {
    const cached = ttlCache<string, string>(60, { refreshAhead: 0.5 });
    const db = {};
    assert.equal(await cached(db, 'k', async () => 'old'), 'old');
    tick(40);
    let release: (v: string) => void = () => {};
    assert.equal(await cached(db, 'k', () => new Promise<string>((r) => (release = r))), 'old');
    cached.forget(db, ['k']); // a change announced (a session revoked)
    release('read before the change');
    await sleep(1);
    assert.equal(await cached(db, 'k', async () => 'new'), 'new');
  }));

test('read ahead with stale while revalidate: after a failed read ahead, the expired copy is still refreshed in the background', () =>
  withClock(async (tick) => {
    const cached = ttlCache<string, number>(100, { refreshAhead: 0.5, staleWhileRevalidate: true });
    const db = {};
    assert.equal(await cached(db, 'k', async () => 1), 1);
    tick(60);
    assert.equal(await cached(db, 'k', async () => Promise.reject(new Error('down'))), 1, 'the read ahead fails');
    await sleep(1);
    tick(50); // expired
    let reads = 0;
    assert.equal(await cached(db, 'k', async () => ++reads + 1), 1, 'the expired copy, at once');
    await sleep(1);
    assert.equal(reads, 1, 'and one background read');
    assert.equal(await cached(db, 'k', async () => 99), 2, 'then its value');
  }));
