/**
 * The durable job queue on the test database (PGlite or PostgreSQL): pg-boss installs and runs, a job enqueued in a
 * transaction exists only if the transaction commits, handlers receive batches, failures are retried, delayed jobs
 * wait, singleton keys deduplicate.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../test/support/app';
import { enqueue, enqueueMany, type Job } from './index';

let t: TestApp;
const seen: Array<{ n: number; attempt: number }> = [];
const attempts = new Map<number, number>();

before(async () => {
  t = await createTestApp({ background: true, env: { GUICHET_JOBS_MAINTENANCE_S: '1' } });
  await t.background!.registerQueue<{ n: number; failTimes?: number }>(
    'test.echo',
    async (jobs: Job<{ n: number; failTimes?: number }>[]) => {
      for (const j of jobs) {
        const a = (attempts.get(j.data.n) ?? 0) + 1;
        attempts.set(j.data.n, a);
        if (a <= (j.data.failTimes ?? 0)) throw new Error('planned failure');
        seen.push({ n: j.data.n, attempt: a });
      }
    },
    { batchSize: 5, pollingIntervalSeconds: 0.5, retryLimit: 3, retryDelay: 1, retryBackoff: false },
  );
});
after(async () => t?.close());

async function until(fn: () => boolean, ms = 15_000) {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a job enqueued in a transaction commits or rolls back with it', async () => {
  await t.db.transaction().execute(async (trx) => {
    await enqueue(trx, 'test.echo', { n: 1 });
  });
  await assert.rejects(
    t.db.transaction().execute(async (trx) => {
      await enqueue(trx, 'test.echo', { n: 2 });
      throw new Error('rollback');
    }),
    /rollback/,
  );
  await enqueueMany(t.db, 'test.echo', [{ data: { n: 3 } }, { data: { n: 4 } }]);
  await until(() => [1, 3, 4].every((n) => seen.some((s) => s.n === n)));
  await new Promise((r) => setTimeout(r, 1200));
  assert.ok(!seen.some((s) => s.n === 2), 'the rolled-back job never ran');
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from pgboss.job where name = 'test.echo' and data->>'n' = '2'`.execute(t.db);
  assert.equal(rows[0].n, 0);
});

test('failed jobs are retried; delayed jobs wait; explicit ids and singleton slots deduplicate', async () => {
  await enqueue(t.db, 'test.echo', { n: 10, failTimes: 2 });
  const t0 = Date.now();
  await enqueue(t.db, 'test.echo', { n: 11 }, { startAfter: 2 });
  const id = '6f1c8a52-3b1e-4c8e-9a51-3c2b1d0e9f77';
  const a = await enqueue(t.db, 'test.echo', { n: 12 }, { id, startAfter: 1 });
  const b = await enqueue(t.db, 'test.echo', { n: 13 }, { id, startAfter: 1 });
  assert.equal(a, id);
  assert.equal(b, null, 'second job with the same id is not stored');
  const c = await enqueue(t.db, 'test.echo', { n: 14 }, { singletonKey: 'k', singletonSeconds: 60 });
  const d = await enqueue(t.db, 'test.echo', { n: 15 }, { singletonKey: 'k', singletonSeconds: 60 });
  assert.ok(c);
  assert.equal(d, null, 'same singleton key in the same slot is not stored');
  await until(() => seen.some((s) => s.n === 10) && seen.some((s) => s.n === 11) && seen.some((s) => s.n === 12));
  assert.equal(seen.find((s) => s.n === 10)!.attempt, 3, 'ran a third time after two failures');
  assert.ok(Date.now() - t0 >= 1500, 'the delayed job waited');
  assert.ok(!seen.some((s) => s.n === 13));
});

test('a worker that fetched a full batch fetches again at once instead of sleeping out its polling interval', async () => {
  // 12 jobs, batches of 3, a 10-second polling interval: without the immediate refetch the last batch would wait
  // three intervals (30 s); with it, the four batches run back to back.
  const done: number[] = [];
  await t.background!.boss.createQueue('test.drain'); // the jobs wait before any worker polls
  await enqueueMany(t.db, 'test.drain', Array.from({ length: 12 }, (_, n) => ({ data: { n } })));
  const started = Date.now();
  await t.background!.registerQueue<{ n: number }>(
    'test.drain',
    async (jobs: Job<{ n: number }>[]) => {
      for (const j of jobs) done.push(j.data.n);
    },
    { batchSize: 3, pollingIntervalSeconds: 10 },
  );
  await until(() => done.length === 12, 8_000);
  assert.ok(Date.now() - started < 8_000, `drained in ${Date.now() - started} ms`);
  assert.deepEqual([...done].sort((a, b) => a - b), Array.from({ length: 12 }, (_, n) => n));
});
