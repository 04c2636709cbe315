/**
 * The reconciler re-enqueues pending webhook notices whose delivery job was lost (row deleted) or is stuck, exactly
 * once, and re-enqueued deliveries stay safe: the partner applies each notice once and a notice keeps one retry chain.
 * Workers are off in this file so that every step is driven by the test (jobs fetched and handled by hand).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { createTestApp, csrfFrom, type TestApp } from '../../test/support/app';
import { clientCookie, createTestClient } from '../../test/support/clients';
import { startPartner, type Partner } from '../../test/support/partners';
import { addressChange as data, webhookSubscription } from '../../test/support/subscriptions';
import { DELIVER_QUEUE, saveSubscription } from './service';
import { reconcileNotices, RECONCILE_CRON, RECONCILE_QUEUE } from './reconcile';
import { makeDeliveryHandler, type DeliveryJob } from './delivery';
import { noticeSettings } from './settings';
import type { Job } from '../jobs/index';

const ENV = { GUICHET_WORKERS: 'off', GUICHET_NOTICE_RETRY_BASE_S: '60', GUICHET_NOTICE_RETRY_MAX_S: '120', GUICHET_NOTICE_HTTP_TIMEOUT_MS: '2000' };

const sub = webhookSubscription;

describe('notice reconciler', () => {
  let t: TestApp;
  let fast: Partner;
  let failing: Partner;
  let deliver: (jobs: Job<DeliveryJob>[]) => Promise<void>;

  before(async () => {
    t = await createTestApp({ catalogue: true, background: true, env: ENV });
    fast = await startPartner({ behaviour: 'fast' });
    failing = await startPartner({ behaviour: 'fail' });
    for (const [id, p, org] of [['rc-fast', fast, 'on-moh'], ['rc-fail', failing, 'on-mto']] as const) {
      const r = await saveSubscription(t.db, sub({ id, orgId: org, webhookUrl: p.url }), { staffId: 'staff-admin', allowLoopback: true });
      p.setSecret(r.signingSecret!);
    }
    await saveSubscription(t.db, sub({ id: 'rc-pull', orgId: 'cra-arc', delivery: 'pull' }), { staffId: 'staff-admin', allowLoopback: true });
    deliver = makeDeliveryHandler({ db: t.db, settings: noticeSettings({ ...process.env, ...ENV }), log: t.app.log, bg: t.background! });
  });

  after(async () => {
    await t?.close();
    await fast?.close();
    await failing?.close();
  });

  const declare = async (recipients: string[]) => {
    const cookie = await clientCookie(t.app, t.db, await createTestClient(t.db));
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/me/declarations', headers: { cookie, 'x-csrf-token': csrfFrom(cookie) }, payload: { eventType: 'change-of-address', data, recipients } });
    assert.equal(res.statusCode, 201, res.body);
    const notices = (res.json() as { notices: Array<{ id: string; subscriptionId: string }> }).notices;
    return Object.fromEntries(notices.map((n) => [n.subscriptionId, n.id])) as Record<string, string>;
  };
  const jobsOf = async (noticeId: string) =>
    (await sql<{ id: string; state: string }>`select id, state::text as state from pgboss.job where name = ${DELIVER_QUEUE} and data->>'noticeId' = ${noticeId} order by created_on`.execute(t.db)).rows;
  const liveJobsOf = async (noticeId: string) => (await jobsOf(noticeId)).filter((j) => ['created', 'retry', 'active'].includes(j.state));
  const age = (noticeId: string, seconds: number) => sql`update notices set created_at = now() - make_interval(secs => ${seconds}) where id = ${noticeId}`.execute(t.db);
  const notice = (id: string) => t.db.selectFrom('notices').select(['status', 'attempts', 'next_attempt_at']).where('id', '=', id).executeTakeFirstOrThrow();
  const fetchJobs = async (batchSize = 10) => ((await t.background!.boss.fetch<DeliveryJob>(DELIVER_QUEUE, { batchSize })) ?? []) as Job<DeliveryJob>[];

  test('is scheduled on its own queue', async () => {
    const schedules = await t.background!.boss.getSchedules();
    assert.ok(schedules.some((s: { name: string; cron: string }) => s.name === RECONCILE_QUEUE && s.cron === RECONCILE_CRON));
  });

  test('a pending notice whose delivery job row was deleted is re-enqueued once, then delivered and applied once', async () => {
    const ids = await declare(['rc-fast', 'rc-pull']);
    const id = ids['rc-fast'];
    assert.equal((await liveJobsOf(id)).length, 1);
    assert.deepEqual(await reconcileNotices(t.db, { afterSeconds: 60 }), [], 'a fresh notice with its job is left alone');

    await sql`delete from pgboss.job where name = ${DELIVER_QUEUE} and data->>'noticeId' = ${id}`.execute(t.db);
    assert.equal((await jobsOf(id)).length, 0);
    assert.deepEqual(await reconcileNotices(t.db, { afterSeconds: 60 }), [], 'not before the threshold');

    await age(id, 3600);
    await age(ids['rc-pull'], 3600); // pull notices have no job: the partner collects them, the reconciler ignores them
    assert.deepEqual(await reconcileNotices(t.db, { afterSeconds: 60 }), [id]);
    assert.equal((await liveJobsOf(id)).length, 1);
    // idempotent: a second run (or another node) while the new job waits adds nothing
    assert.deepEqual(await reconcileNotices(t.db, { afterSeconds: 60 }), []);
    assert.equal((await jobsOf(id)).length, 1);

    const jobs = await fetchJobs();
    assert.deepEqual(jobs.map((j) => j.data.noticeId), [id]);
    await deliver(jobs);
    assert.equal((await notice(id)).status, 'delivered');
    assert.equal(fast.applied.get(id), 1);
    assert.deepEqual(await reconcileNotices(t.db, { afterSeconds: 60 }), [], 'nothing left to reconcile');
    assert.equal((await notice(ids['rc-pull'])).status, 'pending');
  });

  test('a stuck delivery job (active far beyond the threshold) is replaced; when the stuck one runs later it changes nothing', async () => {
    const id = (await declare(['rc-fast']))['rc-fast'];
    await age(id, 3600);
    const [stuck] = await jobsOf(id);
    await sql`update pgboss.job set state = 'active', started_on = now() - interval '1 hour' where name = ${DELIVER_QUEUE} and id = ${stuck.id}::uuid`.execute(t.db);
    assert.deepEqual(await reconcileNotices(t.db, { afterSeconds: 60 }), [id]);
    const fresh = await fetchJobs();
    assert.equal(fresh.length, 1);
    assert.notEqual(fresh[0].id, stuck.id);
    await deliver(fresh);
    assert.equal((await notice(id)).status, 'delivered');
    const received = fast.received;
    // the stuck job comes back (e.g. pg-boss expires it and runs it again): its notice is settled, nothing is sent
    await deliver([{ id: stuck.id, name: DELIVER_QUEUE, data: { noticeId: id } } as Job<DeliveryJob>]);
    assert.equal(fast.received, received);
    assert.equal(fast.applied.get(id), 1);
  });

  test('duplicate delivery jobs of one notice keep ONE retry chain (concurrent or one after the other)', async () => {
    const id = (await declare(['rc-fail']))['rc-fail'];
    await t.background!.boss.send(DELIVER_QUEUE, { noticeId: id }); // a duplicate, as a reconciled stuck job would be
    const jobs = await fetchJobs();
    assert.equal(jobs.length, 2);
    // both run at the same time in separate batches: each POSTs unless the other already recorded its attempt (the
    // partner deduplicates; how much they overlap depends on timing), and ONE retry is scheduled either way
    await Promise.all(jobs.map((j) => deliver([j])));
    const posts = failing.attempts.get(id)!;
    assert.ok(posts === 1 || posts === 2, `posts: ${posts}`);
    const n = await notice(id);
    assert.equal(n.status, 'pending');
    assert.equal(n.attempts, 1);
    assert.ok(n.next_attempt_at && n.next_attempt_at.getTime() > Date.now() + 20_000);
    assert.equal((await liveJobsOf(id)).length, 1, 'one retry job');

    // a late duplicate, before the scheduled retry is due: sends nothing and schedules nothing
    await t.background!.boss.send(DELIVER_QUEUE, { noticeId: id });
    await deliver(await fetchJobs());
    assert.equal(failing.attempts.get(id), posts);
    assert.equal((await notice(id)).attempts, 1);
    assert.equal((await liveJobsOf(id)).length, 1);
    // and the reconciler leaves it alone: its retry job is alive
    await age(id, 3600);
    assert.deepEqual(await reconcileNotices(t.db, { afterSeconds: 60 }), []);
  });
});
